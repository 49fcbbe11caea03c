package dev.sampler.keybroker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sampler.attestation.SampleEvidenceProvider;
import dev.sampler.attestation.kbs.KbsClient;
import dev.sampler.attestation.kbs.ResourceId;
import dev.sampler.keybroker.testing.BrokerProcess;
import dev.sampler.keybroker.testing.RawKbs;
import dev.sampler.keybroker.testing.SoftHsm;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PKCS#11 key store with a real SoftHSM2 token, every command as its own process: init-kek,
 * import (key on stdin), serve, and the KbsClient handshake; then the failures of each HSM step,
 * and a canary search for the key and the PIN in everything the processes wrote.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KeyBrokerPkcs11IT {
  /** A recognisable key: ASCII, so a leak shows up in any text file. */
  private static final byte[] CANARY = "kb-canary-key:7f3a9c21e5b8d40c!!".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] ROTATED_V1 = KeyBrokerProtocolIT.bytes(32, 41);
  private static final byte[] ROTATED_V2 = KeyBrokerProtocolIT.bytes(32, 42);

  @TempDir static Path dir;
  private static SoftHsm hsm;
  private static Path out;
  private static Path keyDir;
  private static final List<String> OUTPUTS = new ArrayList<>();

  @BeforeAll
  static void token() throws Exception {
    SoftHsm.assumeInstalled();
    hsm = SoftHsm.create(dir.resolve("hsm"), "kb-it");
    SoftHsm.create(dir.resolve("hsm"), "kb-empty"); // a second token, without a KEK
    out = Files.createDirectories(dir.resolve("out"));
    keyDir = dir.resolve("keys");
  }

  private static List<String> hsmArgs(String label, String... more) {
    List<String> a = new ArrayList<>(List.of("--hsm-library", SoftHsm.LIBRARY.toString(), "--hsm-token-label", label,
        "--pin-file", hsm.userPin().toString()));
    a.addAll(List.of(more));
    return a;
  }

  private static BrokerProcess.Result run(List<String> args, String stdin) throws Exception {
    BrokerProcess.Result r = BrokerProcess.run(out, args, hsm.env(), stdin);
    OUTPUTS.add(r.stdout());
    OUTPUTS.add(r.stderr());
    return r;
  }

  private static List<String> cmd(String command, List<String> rest) {
    List<String> a = new ArrayList<>(List.of(command));
    a.addAll(rest);
    return a;
  }

  @Test
  @Order(1)
  void initKekAndImport_keyOnStdin_storedWrappedWithVersions() throws Exception {
    BrokerProcess.Result first = run(cmd("init-kek", hsmArgs("kb-it")), null);
    assertEquals(0, first.exitCode(), first.stderr());
    assertEquals("keybroker: created KEK 'sampler-kek' (AES-256, sensitive, non-extractable) in token 'kb-it'\n",
        first.stdout());
    BrokerProcess.Result again = run(cmd("init-kek", hsmArgs("kb-it")), null);
    assertEquals(0, again.exitCode(), again.stderr());
    assertEquals("keybroker: token 'kb-it' already holds KEK 'sampler-kek'; nothing to do\n", again.stdout());

    String b64 = Base64.getEncoder().encodeToString(CANARY) + "\n";
    BrokerProcess.Result imp = run(cmd("import", hsmArgs("kb-it", "--resource", "sampler/model/demo", "--key-dir",
        keyDir.toString())), b64);
    assertEquals(0, imp.exitCode(), imp.stderr());
    assertEquals("keybroker: imported sampler/model/demo version 1 (32 bytes) wrapped under KEK 'sampler-kek' into "
        + keyDir + "\n", imp.stdout());
    for (byte[] k : List.of(ROTATED_V1, ROTATED_V2)) {
      BrokerProcess.Result r = run(cmd("import", hsmArgs("kb-it", "--resource", "sampler/model/rotated", "--key-dir",
          keyDir.toString())), Base64.getEncoder().encodeToString(k) + "\n");
      assertEquals(0, r.exitCode(), r.stderr());
    }
    assertTrue(Files.isRegularFile(keyDir.resolve("sampler/model/rotated/v2.jwe")));
    // A wrapped file copied to another resource's name must not open there.
    Files.createDirectories(keyDir.resolve("sampler/model/copied"));
    Files.copy(keyDir.resolve("sampler/model/demo/v1.jwe"), keyDir.resolve("sampler/model/copied/v1.jwe"));

    BrokerProcess.Result bad = run(cmd("import", hsmArgs("kb-it", "--resource", "sampler/model/x", "--key-dir",
        keyDir.toString())), "not base64!\n");
    assertEquals(1, bad.exitCode());
    assertEquals("keybroker: import: stdin: not standard base64 (RFC 4648 section 4, with padding)\n", bad.stderr());
  }

  @Test
  @Order(2)
  void fetchResource_pkcs11Store_returnsStoredKeysAndAudits() throws Exception {
    Path audit = out.resolve("audit.jsonl");
    Map<String, String> env = new HashMap<>(hsm.env());
    env.put("KB_TEST_PIN", hsm.pin());
    List<String> args = new ArrayList<>(List.of("--policy", KeyBrokerProtocolIT.policy().toString(),
        "--allow-sample-tee", "--key-dir", keyDir.toString(), "--audit-log", audit.toString(),
        "--hsm-token-label", "kb-it", "--pin-env", "KB_TEST_PIN"));
    try (BrokerProcess broker = BrokerProcess.serve(out, args, env, null);
        KbsClient client = new KbsClient(broker.base(), new SampleEvidenceProvider(true), Duration.ofSeconds(20));
        RawKbs raw = new RawKbs(broker.base())) {
      assertArrayEquals(CANARY, client.fetchResource(new ResourceId("sampler", "model", "demo")));
      assertArrayEquals(CANARY, client.fetchResource(new ResourceId("sampler", "model", "demo")));
      assertArrayEquals(ROTATED_V2, client.fetchResource(new ResourceId("sampler", "model", "rotated")));
      RawKbs.Challenge c = raw.auth("sample");
      assertEquals(200, raw.post("/attest", RawKbs.attestation(c.nonce(),
          dev.sampler.attestation.TeeKeyPair.generate().publicJwk()), c.cookie()).status());
      KeyBrokerProtocolIT.assertRefused(raw.get("/resource/sampler/model/copied", c.cookie(), null), 401,
          "PluginInternalError", "the key store failed to produce this resource's key (see the broker log)");
      broker.close();
      OUTPUTS.add(broker.stdout());
      OUTPUTS.add(broker.stderr());
      assertTrue(broker.stderr().contains("keystore: pkcs11: KEK 'sampler-kek' in token 'kb-it'"), broker.stderr());
      assertTrue(broker.stderr().contains("keystore: wrapped key sampler/model/copied v1: its header names another"
          + " resource or version (file moved or copied?)"), broker.stderr());
    }
    String log = Files.readString(audit);
    OUTPUTS.add(log);
    assertEquals(2, log.lines().filter(l -> l.contains("\"key_id\":\"sampler/model/demo\",\"key_version\":1,"
        + "\"decision\":\"allow\"")).count(), log);
    assertEquals(1, log.lines().filter(l -> l.contains("\"key_id\":\"sampler/model/rotated\",\"key_version\":2,"
        + "\"decision\":\"allow\"")).count(), log);
  }

  @Test
  @Order(3)
  void outputs_afterHandshakes_containNeitherKeyNorPin() throws Exception {
    List<String> needles = new ArrayList<>();
    for (byte[] k : List.of(CANARY, ROTATED_V1, ROTATED_V2)) {
      needles.add(new String(k, StandardCharsets.ISO_8859_1));
      needles.add(Base64.getEncoder().encodeToString(k));
      needles.add(Base64.getEncoder().withoutPadding().encodeToString(k));
      needles.add(Base64.getUrlEncoder().withoutPadding().encodeToString(k));
      needles.add(HexFormat.of().formatHex(k));
      needles.add(HexFormat.of().withUpperCase().formatHex(k));
    }
    needles.add(hsm.pin());
    List<String> haystacks = new ArrayList<>(OUTPUTS);
    List<Path> files;
    try (Stream<Path> s = Stream.concat(Files.walk(out), Files.walk(keyDir))) {
      files = s.filter(Files::isRegularFile).toList();
    }
    for (Path f : files) {
      haystacks.add(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1));
    }
    assertTrue(files.size() >= 10, "searched " + files);
    List<String> found = new ArrayList<>();
    for (String n : needles) {
      for (int i = 0; i < haystacks.size(); i++) {
        if (haystacks.get(i).contains(n)) {
          found.add("needle #" + needles.indexOf(n) + " in output #" + i);
        }
      }
    }
    assertEquals(List.of(), found);
  }

  @Test
  @Order(4)
  void serve_hsmStepFails_exitsNonZeroNamingTheStep() throws Exception {
    record Case(String name, List<String> hsmArgs, String message) {}
    Path wrongPin = out.resolve("wrong.pin");
    Files.writeString(wrongPin, "00000000\n");
    List<Case> cases = List.of(
        new Case("token missing", hsmArgs("no-such-token"), "keybroker: hsm: no token labelled 'no-such-token' in "
            + SoftHsm.LIBRARY + " (initialised tokens: "),
        new Case("wrong PIN", List.of("--hsm-token-label", "kb-it", "--pin-file", wrongPin.toString()),
            "keybroker: hsm: login to token 'kb-it' failed: wrong PIN (CKR_PIN_INCORRECT)"),
        new Case("library missing", List.of("--hsm-library", "/nonexistent/libpkcs11.so", "--hsm-token-label", "kb-it",
            "--pin-file", hsm.userPin().toString()), "keybroker: hsm: PKCS#11 library /nonexistent/libpkcs11.so not found"),
        new Case("KEK missing", hsmArgs("kb-empty"), "keybroker: hsm: no key labelled 'sampler-kek' in token"
            + " 'kb-empty' (create it with: keybroker init-kek)"),
        new Case("PIN variable unset", List.of("--hsm-token-label", "kb-it", "--pin-env", "KB_UNSET_PIN"),
            "keybroker: hsm: environment variable KB_UNSET_PIN (--pin-env) is not set or empty"));
    List<String> failures = new ArrayList<>();
    for (Case c : cases) {
      List<String> args = new ArrayList<>(List.of("serve", "--port", "0", "--policy",
          KeyBrokerProtocolIT.policy().toString(), "--key-dir", keyDir.toString()));
      args.addAll(c.hsmArgs());
      BrokerProcess.Result r = run(args, null);
      if (r.exitCode() != 1 || !r.stderr().contains(c.message()) || r.stdout().contains("listening")) {
        failures.add(c.name() + ": exit " + r.exitCode() + ", stderr: " + r.stderr());
      }
    }
    assertEquals(List.of(), failures);
  }
}
