package dev.sampler.keybroker.testing;

import static org.junit.jupiter.api.Assertions.fail;

import dev.sampler.keybroker.KeyBrokerMain;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs {@code java -cp <test classpath> dev.sampler.keybroker.KeyBrokerMain ...} as a child
 * process: {@link #serve} starts a broker on 127.0.0.1 port 0 and reads the port from its stdout
 * line; {@link #run} runs a one-shot command. Stdout and stderr go to files under the given
 * directory (so tests can search them); every wait is bounded.
 */
public final class BrokerProcess implements AutoCloseable {
  private static final Pattern LISTENING = Pattern.compile("keybroker listening on (http://127\\.0\\.0\\.1:(\\d+)/kbs/v0)");
  private static final AtomicInteger SEQ = new AtomicInteger();
  private static final long START_TIMEOUT_S = 90;

  /**
   * A finished one-shot command.
   *
   * @param exitCode its exit code
   * @param stdout everything it wrote to stdout
   * @param stderr everything it wrote to stderr
   */
  public record Result(int exitCode, String stdout, String stderr) {}

  private final Process process;
  private final URI base;
  private final Path stdout;
  private final Path stderr;

  private BrokerProcess(Process process, URI base, Path stdout, Path stderr) {
    this.process = process;
    this.base = base;
    this.stdout = stdout;
    this.stderr = stderr;
  }

  /**
   * Starts {@code serve --host 127.0.0.1 --port 0 <args>} and waits for its listening line.
   *
   * @param stdin written to the process's stdin, which is then closed (null: closed at once)
   */
  public static BrokerProcess serve(Path dir, List<String> args, Map<String, String> env, String stdin)
      throws IOException, InterruptedException {
    List<String> all = new ArrayList<>(List.of("serve", "--host", "127.0.0.1", "--port", "0"));
    all.addAll(args);
    int n = SEQ.incrementAndGet();
    Path out = dir.resolve("serve-" + n + ".stdout");
    Path err = dir.resolve("serve-" + n + ".stderr");
    Process p = start(all, env, out, err);
    feed(p, stdin);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_TIMEOUT_S);
    while (System.nanoTime() < deadline) {
      Matcher m = LISTENING.matcher(Files.readString(out));
      if (m.find()) {
        return new BrokerProcess(p, URI.create(m.group(1)), out, err);
      }
      if (!p.isAlive()) {
        fail("keybroker serve exited with " + p.exitValue() + " before listening:\n" + Files.readString(err));
      }
      Thread.sleep(50);
    }
    p.destroyForcibly();
    fail("keybroker serve did not print its listening line within " + START_TIMEOUT_S + " s:\n" + Files.readString(err));
    throw new AssertionError();
  }

  /** Runs a one-shot command to its end (at most 90 s). */
  public static Result run(Path dir, List<String> args, Map<String, String> env, String stdin)
      throws IOException, InterruptedException {
    int n = SEQ.incrementAndGet();
    Path out = dir.resolve("cmd-" + n + ".stdout");
    Path err = dir.resolve("cmd-" + n + ".stderr");
    Process p = start(args, env, out, err);
    feed(p, stdin);
    if (!p.waitFor(START_TIMEOUT_S, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail("keybroker " + args.get(0) + " did not finish within " + START_TIMEOUT_S + " s");
    }
    return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
  }

  /** The broker's API base, {@code http://127.0.0.1:PORT/kbs/v0}. */
  public URI base() {
    return base;
  }

  /** Whether the process still runs. */
  public boolean isAlive() {
    return process.isAlive();
  }

  /** What the broker wrote to stdout so far. */
  public String stdout() throws IOException {
    return Files.readString(stdout);
  }

  /** What the broker wrote to stderr so far. */
  public String stderr() throws IOException {
    return Files.readString(stderr);
  }

  /** Stops the broker with SIGTERM (then SIGKILL after 20 s) and waits for it. */
  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(20, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(20, TimeUnit.SECONDS);
    }
  }

  private static Process start(List<String> args, Map<String, String> env, Path out, Path err) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", "-XX:+PerfDisableSharedMem", "-Xmx256m", "-XX:TieredStopAtLevel=1",
        "-cp", System.getProperty("java.class.path"), KeyBrokerMain.class.getName()));
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("SOFTHSM2_") || k.startsWith("KEYBROKER_"));
    pb.environment().putAll(env);
    return pb.start();
  }

  private static void feed(Process p, String stdin) throws IOException {
    try (OutputStream o = p.getOutputStream()) {
      if (stdin != null) {
        o.write(stdin.getBytes(StandardCharsets.US_ASCII));
      }
    } catch (IOException e) {
      // the process may have exited before reading; its exit code and stderr tell why
    }
  }
}
