package dev.sampler.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;

/**
 * The real key-release chain as an operator sets it up, all through the project's own commands:
 * a SoftHSM2 token ({@code keybroker/scripts/softhsm-setup.sh}), the key-encryption key created in
 * it ({@code bin/keybroker init-kek}), the demo model sealed twice with two fresh data keys
 * ({@code bin/sampler seal --key-out -}) whose keys go straight into the broker's PKCS#11 store
 * ({@code bin/keybroker import}), and the broker serving them ({@code bin/keybroker serve}) to the
 * insecure sample TEE on a loopback port.
 *
 * <p>The data keys pass through this test's memory on their way from {@code seal} to {@code
 * import} (never through a file) so that the canary search can look for them in everything the
 * processes emitted and wrote.
 */
final class KeyBrokerFixture implements AutoCloseable {
  /** The resource holding the key the demo model was sealed with. */
  static final String RESOURCE = "sampler/demo/weights";
  /** A resource holding another model's key: the "broker returns the wrong key" case. */
  static final String OTHER = "sampler/demo/other";
  private static final Pattern LISTENING = Pattern.compile("keybroker listening on (http://\\S+/kbs/v0)");
  private static final String SOFTHSM_LIBRARY = "/usr/lib/softhsm/libsofthsm2.so";

  final Path dir;
  final Path sealed;
  final Path audit;
  final String kbsUrl;
  final Proc.Running broker;
  final Map<String, String> hsmEnv;
  private final List<String> canaries;

  private KeyBrokerFixture(Path dir, Path sealed, Path audit, String kbsUrl, Proc.Running broker,
      Map<String, String> hsmEnv, List<String> canaries) {
    this.dir = dir;
    this.sealed = sealed;
    this.audit = audit;
    this.kbsUrl = kbsUrl;
    this.broker = broker;
    this.hsmEnv = hsmEnv;
    this.canaries = canaries;
  }

  /** Skips outside CI when SoftHSM2 is missing; fails with CI=true (bin/test installs it there). */
  static void requireSoftHsm() {
    if (Files.exists(Path.of(SOFTHSM_LIBRARY)) && Files.isExecutable(Path.of("/usr/bin/softhsm2-util"))) {
      return;
    }
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      fail("SoftHSM2 is not installed, and CI=true: the key-broker tests must run in CI (bin/test installs"
          + " softhsm2 with apt-get when it runs as root)");
    }
    Assumptions.abort("SoftHSM2 is not installed (apt-get install softhsm2); skipping the key-broker tests");
  }

  static List<String> keybroker(String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Proc.home().resolve("bin").resolve("keybroker").toString());
    cmd.addAll(List.of(args));
    return cmd;
  }

  /** Sets everything up under {@code dir} and starts the broker. */
  static KeyBrokerFixture start(Path dir) throws Exception {
    requireSoftHsm();
    Files.createDirectories(dir);
    Path hsm = dir.resolve("hsm");
    Proc.Result setup = Proc.run(List.of(Proc.home().resolve("keybroker/scripts/softhsm-setup.sh").toString(),
        hsm.toString(), "sampler"), Map.of(), dir, "softhsm-setup", Duration.ofSeconds(60));
    assertEquals(0, setup.code(), setup.toString());
    Map<String, String> env = Map.of("SOFTHSM2_CONF", hsm.resolve("softhsm2.conf").toString());
    List<String> token = List.of("--hsm-token-label", "sampler", "--pin-file", hsm.resolve("user.pin").toString());
    Proc.Result kek = Proc.run(with(keybroker("init-kek"), token), env, dir, "init-kek", Duration.ofSeconds(60));
    assertEquals(0, kek.code(), kek.toString());

    List<String> canaries = new ArrayList<>();
    canaries.add(Files.readString(hsm.resolve("user.pin")).strip());
    canaries.add(Files.readString(hsm.resolve("so.pin")).strip());
    Path keys = dir.resolve("keys");
    Path sealed = dir.resolve("sealed");
    sealAndImport(E2e.demoModel(), sealed, RESOURCE, keys, token, env, dir, canaries);
    sealAndImport(E2e.demoModel(), dir.resolve("sealed-other"), OTHER, keys, token, env, dir, canaries);

    Path policy = dir.resolve("policy.json");
    Files.writeString(policy, """
        {
          "id": "e2e",
          "allowed-tees": ["sample"],
          "sample": {"allowed-svns": ["1"]},
          "resources": {
            "%s": {"allowed-tees": ["sample"], "required-claims": {"svn": ["1"]}},
            "%s": {"allowed-tees": ["sample"]}
          }
        }
        """.formatted(RESOURCE, OTHER));
    Path audit = dir.resolve("audit.jsonl");
    Proc.Running broker = Proc.start(with(keybroker("serve", "--host", "127.0.0.1", "--port", "0", "--policy",
        policy.toString(), "--allow-sample-tee", "--key-dir", keys.toString(), "--audit-log", audit.toString()), token),
        env, dir, "keybroker");
    String url = null;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (url == null && System.nanoTime() < deadline && broker.process.isAlive()) {
      Matcher m = LISTENING.matcher(broker.out());
      if (m.find()) {
        url = m.group(1);
      } else {
        Thread.sleep(100);
      }
    }
    if (url == null) {
      broker.close();
      fail("the key broker did not start:\n" + broker.out() + "\n" + broker.err());
    }
    return new KeyBrokerFixture(dir, sealed, audit, url, broker, env, canaries);
  }

  /**
   * {@code bin/sampler seal --key-out -} into {@code out}, its one stdout line (the data key) held
   * in memory and written to {@code bin/keybroker import}'s stdin.
   */
  private static void sealAndImport(Path model, Path out, String resource, Path keys, List<String> token,
      Map<String, String> env, Path logs, List<String> canaries) throws Exception {
    ProcessBuilder seal = new ProcessBuilder(Proc.sampler("seal", "--model", model.toString(), "--out", out.toString(),
        "--key-out", "-"));
    seal.environment().put("SAMPLER_NO_BUILD", "1");
    seal.redirectError(logs.resolve("seal-" + out.getFileName() + ".err").toFile());
    Process p = seal.start();
    byte[] line = p.getInputStream().readAllBytes();
    if (!p.waitFor(3, TimeUnit.MINUTES) || p.exitValue() != 0) {
      p.destroyForcibly();
      fail("bin/sampler seal failed: " + Files.readString(logs.resolve("seal-" + out.getFileName() + ".err")));
    }
    String base64 = new String(line, StandardCharsets.US_ASCII).strip();
    byte[] raw = Base64.getDecoder().decode(base64);
    canaries.add(base64);
    canaries.add(Base64.getUrlEncoder().withoutPadding().encodeToString(raw));
    canaries.add(HexFormat.of().formatHex(raw));
    canaries.add(new String(raw, StandardCharsets.ISO_8859_1));

    ProcessBuilder imp = new ProcessBuilder(with(keybroker("import", "--key-dir", keys.toString(), "--resource",
        resource), token));
    imp.environment().putAll(env);
    imp.environment().put("SAMPLER_NO_BUILD", "1");
    Path log = logs.resolve("import-" + resource.replace('/', '_') + ".log");
    imp.redirectErrorStream(true).redirectOutput(log.toFile());
    Process i = imp.start();
    try (OutputStream in = i.getOutputStream()) {
      in.write(line);
    }
    java.util.Arrays.fill(line, (byte) 0);
    if (!i.waitFor(2, TimeUnit.MINUTES) || i.exitValue() != 0) {
      i.destroyForcibly();
      fail("bin/keybroker import failed: " + Files.readString(log));
    }
  }

  /** The secrets that must appear nowhere: both data keys (raw, base64, base64url, hex) and the PINs. */
  List<String> canaries() {
    return List.copyOf(canaries);
  }

  private static List<String> with(List<String> cmd, List<String> more) {
    List<String> out = new ArrayList<>(cmd);
    out.addAll(more);
    return out;
  }

  @Override
  public void close() {
    broker.close();
  }
}
