package dev.sampler.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Processes the e2e tests start: the checkout's launcher ({@code bin/sampler}) and the packaged
 * runtime it runs. Every wait is bounded, and every process is killed (with its descendants) when
 * the test is done with it, whatever happened.
 */
final class Proc {
  /** The checkout's root (the surefire configuration sets {@code sampler.home}). */
  static Path home() {
    return Path.of(System.getProperty("sampler.home", "..")).toAbsolutePath().normalize();
  }

  /** {@code bin/sampler ARGS...}. */
  static List<String> sampler(String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(home().resolve("bin").resolve("sampler").toString());
    cmd.addAll(List.of(args));
    return cmd;
  }

  /** The outcome of a finished process: exit code and what it wrote. */
  record Result(int code, String out, String err) {
    @Override
    public String toString() {
      return "exit " + code + "\n--- stdout\n" + out + "\n--- stderr\n" + err;
    }
  }

  /** A started process whose output goes to files (so a chatty child never blocks on a full pipe). */
  static final class Running implements AutoCloseable {
    final Process process;
    final Path stdout;
    final Path stderr;

    Running(Process process, Path stdout, Path stderr) {
      this.process = process;
      this.stdout = stdout;
      this.stderr = stderr;
    }

    String out() {
      return read(stdout);
    }

    String err() {
      return read(stderr);
    }

    /** Waits at most {@code timeout} for the exit; on timeout the process is killed and the test fails. */
    Result await(Duration timeout) throws InterruptedException {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        close();
        throw new AssertionError("process did not end within " + timeout + ": " + process.info().commandLine().orElse("?")
            + "\n--- stdout\n" + out() + "\n--- stderr\n" + err());
      }
      return new Result(process.exitValue(), out(), err());
    }

    /** Kills the process and its descendants (a launcher script's JVM included) and waits a bounded time. */
    @Override
    public void close() {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    private static String read(Path p) {
      try {
        return Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : "";
      } catch (IOException e) {
        return "(unreadable: " + e.getMessage() + ")";
      }
    }
  }

  /** Starts {@code command} with extra environment; output to files in {@code logDir} named by {@code name}. */
  static Running start(List<String> command, Map<String, String> env, Path logDir, String name) throws IOException {
    Files.createDirectories(logDir);
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().putAll(env);
    pb.environment().put("SAMPLER_NO_BUILD", "1");
    Path out = logDir.resolve(name + ".out");
    Path err = logDir.resolve(name + ".err");
    pb.redirectOutput(out.toFile());
    pb.redirectError(err.toFile());
    pb.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    return new Running(pb.start(), out, err);
  }

  /** Runs {@code command} to its end (at most {@code timeout}). */
  static Result run(List<String> command, Map<String, String> env, Path logDir, String name, Duration timeout)
      throws IOException, InterruptedException {
    try (Running r = start(command, env, logDir, name)) {
      return r.await(timeout);
    }
  }

  private Proc() {}
}
