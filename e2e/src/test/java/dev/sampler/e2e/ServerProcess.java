package dev.sampler.e2e;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The packaged server running as a separate process ({@code sampler serve}), started by a test
 * and always killed by it: construction waits (bounded) for the line containing "SERVING" and reads
 * the bound gRPC and observability ports from the lines it printed before.
 */
final class ServerProcess implements AutoCloseable {
  /** Start-up includes loading and verifying the model: generous, but bounded. */
  static final Duration READY_TIMEOUT = Duration.ofSeconds(120);

  private static final Pattern GRPC = Pattern.compile("(?i)\\bgrpc\\b.*?(?:127\\.0\\.0\\.1|localhost|\\[::1]|0\\.0\\.0\\.0):(\\d+)");
  private static final Pattern OBSERVE = Pattern.compile("(?i)\\bobserv\\w*\\b.*?(?:127\\.0\\.0\\.1|localhost|\\[::1]|0\\.0\\.0\\.0):(\\d+)");

  final Proc.Running proc;
  final int grpcPort;
  final int observePort;

  private ServerProcess(Proc.Running proc, int grpcPort, int observePort) {
    this.proc = proc;
    this.grpcPort = grpcPort;
    this.observePort = observePort;
  }

  /** {@code bin/sampler serve --config CONFIG}, ready. */
  static ServerProcess serve(Path config, Path logDir, String name) throws IOException, InterruptedException {
    return start(Proc.sampler("serve", "--config", config.toString()), Map.of(), logDir, name);
  }

  /** Starts {@code command} and waits for SERVING; kills it if it does not get there. */
  static ServerProcess start(List<String> command, Map<String, String> env, Path logDir, String name)
      throws IOException, InterruptedException {
    Proc.Running p = Proc.start(command, env, logDir, name);
    try {
      long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
      while (true) {
        String out = p.out();
        if (out.contains("SERVING")) {
          return new ServerProcess(p, port(GRPC, out), port(OBSERVE, out));
        }
        if (!p.process.isAlive()) {
          throw new AssertionError("the server exited with " + p.process.exitValue() + " before SERVING\n--- stdout\n" + out
              + "\n--- stderr\n" + p.err());
        }
        if (System.nanoTime() > deadline) {
          throw new AssertionError("no SERVING within " + READY_TIMEOUT + "\n--- stdout\n" + out + "\n--- stderr\n" + p.err());
        }
        Thread.sleep(100);
      }
    } catch (RuntimeException | Error | InterruptedException e) {
      p.close();
      throw e;
    }
  }

  private static int port(Pattern p, String out) {
    for (String line : out.split("\n")) {
      Matcher m = p.matcher(line);
      if (m.find()) {
        return Integer.parseInt(m.group(1));
      }
    }
    return -1;
  }

  /** A plaintext channel to the server's gRPC port; the caller shuts it down. */
  ManagedChannel channel() {
    return Grpc.newChannelBuilderForAddress("127.0.0.1", grpcPort, InsecureChannelCredentials.create())
        .maxInboundMessageSize(64 << 20).build();
  }

  /** Sends SIGTERM (what a container runtime does to stop it). */
  void sigterm() {
    proc.process.destroy();
  }

  /** Waits at most {@code timeout} for the process to exit and returns its exit code. */
  int awaitExit(Duration timeout) throws InterruptedException {
    if (!proc.process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("the server did not exit within " + timeout + "\n--- stdout\n" + proc.out()
          + "\n--- stderr\n" + proc.err());
    }
    return proc.process.exitValue();
  }

  @Override
  public void close() {
    proc.close();
  }

  /** Closes a channel, waiting a bounded time. */
  static void shutdown(ManagedChannel ch) {
    ch.shutdownNow();
    try {
      ch.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
