package dev.sampler.server.cli;

import dev.sampler.engine.unet.UNet2DModel;
import dev.sampler.integrity.sealed.DataKey;
import dev.sampler.integrity.sealed.InsecureKeyAccess;
import dev.sampler.integrity.sealed.Sealer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The demo's trust chain, set up with development stand-ins for what a deployment provides: the
 * demo model's weights are sealed with a fresh data key into a temporary directory (beside the
 * signed configuration files, which are copied), and the reference key broker is started as a
 * separate process with that key in its INSECURE development key store (given on its stdin, never
 * written to disk) and a policy that releases it to the insecure sample TEE. {@link #close()} stops
 * the broker and deletes the directory.
 */
final class DemoTrustChain implements AutoCloseable {
  /** The key-broker resource of the demo's data key. */
  static final String RESOURCE = "sampler/demo/weights";
  private static final Pattern LISTENING = Pattern.compile("keybroker listening on (http://\\S+/kbs/v0)");
  private static final String POLICY = """
      {
        "id": "sampler-demo",
        "allowed-tees": ["sample"],
        "sample": {"allowed-svns": ["1"]},
        "resources": {
          "%s": {"allowed-tees": ["sample"], "required-claims": {"svn": ["1"]}}
        }
      }
      """.formatted(RESOURCE);

  private final Path dir;
  private final Path modelDir;
  private final Process broker;
  private final URI kbsUrl;
  private final long sealNanos;
  private final long brokerNanos;
  private final List<String> brokerLog;

  private DemoTrustChain(Path dir, Path modelDir, Process broker, URI kbsUrl, long sealNanos, long brokerNanos,
      List<String> brokerLog) {
    this.dir = dir;
    this.modelDir = modelDir;
    this.broker = broker;
    this.kbsUrl = kbsUrl;
    this.sealNanos = sealNanos;
    this.brokerNanos = brokerNanos;
    this.brokerLog = brokerLog;
  }

  /**
   * Seals {@code source}'s weights into a new temporary directory and starts the key broker.
   *
   * @throws IOException if sealing or starting the broker fails (the message says which)
   */
  static DemoTrustChain start(Path source) throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory("sampler-demo-");
    Process broker = null;
    try {
      Path model = Files.createDirectory(dir.resolve("model"));
      long t0 = System.nanoTime();
      byte[] base64;
      try (DataKey key = DataKey.generate(); Stream<Path> files = Files.list(source)) {
        for (Path f : (Iterable<Path>) files.sorted()::iterator) {
          String name = f.getFileName().toString();
          if (!Files.isRegularFile(f)) {
            continue;
          }
          if (name.equals(UNet2DModel.WEIGHTS_FILE)) {
            Sealer.seal(f, model.resolve(name + ".sealed"), key, name);
          } else {
            Files.copy(f, model.resolve(name));
          }
        }
        base64 = key.toBase64(InsecureKeyAccess.get()); // bytes, zeroed once written: never a String
      }
      long sealNanos = System.nanoTime() - t0;

      Path policy = dir.resolve("policy.json");
      Files.writeString(policy, POLICY, StandardCharsets.UTF_8);
      t0 = System.nanoTime();
      List<String> cmd = new ArrayList<>(List.of(
          ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java")
              .toString()),
          "--enable-native-access=ALL-UNNAMED", "-XX:+PerfDisableSharedMem", "-XX:TieredStopAtLevel=1",
          "-cp", System.getProperty("java.class.path"), "dev.sampler.keybroker.KeyBrokerMain",
          "serve", "--host", "127.0.0.1", "--port", "0", "--policy", policy.toString(), "--allow-sample-tee",
          "--keystore", "dev-software"));
      broker = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      try (OutputStream in = broker.getOutputStream()) {
        // "repo/type/tag BASE64" lines, then end of input: the key lives only in the broker's memory
        in.write((RESOURCE + " ").getBytes(StandardCharsets.US_ASCII));
        in.write(base64);
        in.write('\n');
      } finally {
        Arrays.fill(base64, (byte) 0);
      }
      List<String> log = java.util.Collections.synchronizedList(new ArrayList<>());
      BufferedReader out = new BufferedReader(new InputStreamReader(broker.getInputStream(), StandardCharsets.UTF_8));
      CompletableFuture<URI> url = new CompletableFuture<>();
      Thread.ofPlatform().daemon().name("demo-keybroker-output").start(() -> {
        try {
          for (String line; (line = out.readLine()) != null; ) {
            log.add(line);
            Matcher m = LISTENING.matcher(line);
            if (m.find()) {
              url.complete(URI.create(m.group(1)));
            }
          }
        } catch (IOException e) {
          // the broker ended; its exit is reported below
        }
        url.complete(null);
      });
      URI kbs;
      try {
        kbs = url.get(60, TimeUnit.SECONDS);
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
        kbs = null;
      }
      if (kbs == null) {
        throw new IOException("the demo key broker did not start: " + String.join(" | ", log));
      }
      return new DemoTrustChain(dir, model, broker, kbs, sealNanos, System.nanoTime() - t0, log);
    } catch (IOException | RuntimeException | InterruptedException e) {
      if (broker != null) {
        broker.destroyForcibly();
      }
      deleteTree(dir);
      throw e;
    }
  }

  /** The sealed model directory (signed files + the sealed weights). */
  Path modelDir() {
    return modelDir;
  }

  /** The key broker's KBS base URL. */
  URI kbsUrl() {
    return kbsUrl;
  }

  /** The resource id the server asks the broker for. */
  String resourceUri() {
    return "kbs:///" + RESOURCE;
  }

  /** How long sealing took. */
  long sealNanos() {
    return sealNanos;
  }

  /** From starting the broker process to its listening line. */
  long brokerStartNanos() {
    return brokerNanos;
  }

  /** The broker's output so far (its own warnings: the development key store and sample TEE). */
  List<String> brokerLog() {
    synchronized (brokerLog) {
      return List.copyOf(brokerLog);
    }
  }

  @Override
  public void close() {
    broker.destroy();
    try {
      if (!broker.waitFor(10, TimeUnit.SECONDS)) {
        broker.destroyForcibly();
      }
    } catch (InterruptedException e) {
      broker.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    deleteTree(dir);
  }

  private static void deleteTree(Path root) {
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // best effort: a temporary directory with only sealed (encrypted) files
    }
  }
}
