package dev.sampler.benchmarks.load;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The server under load: {@code bin/sampler serve} as a child process on 127.0.0.1 with ephemeral
 * ports, gateway tokens enabled (the driver's per-run key), and the demo model. Closing it sends
 * SIGTERM (the server drains and exits) and waits; the process is killed if it does not exit.
 */
final class ServerProcess implements AutoCloseable {
  private static final Pattern GRPC = Pattern.compile("^gRPC [^ ]*:(\\d+) ");

  private final Process process;
  private final int grpcPort;
  private final Path dir;

  private ServerProcess(Process process, int grpcPort, Path dir) {
    this.process = process;
    this.grpcPort = grpcPort;
    this.dir = dir;
  }

  static ServerProcess start(LoadDriver.Options o, String gatewayKeyPem, String audience) throws Exception {
    Path home = Path.of(o.samplerHome()).toAbsolutePath();
    Path dir = Files.createTempDirectory("sampler-load");
    Path key = dir.resolve("gateway.pem");
    Files.writeString(key, gatewayKeyPem);
    Path cfg = dir.resolve("server.yaml");
    Files.writeString(cfg, """
        grpc:
          host: 127.0.0.1
          port: 0
          insecure-plaintext: true
        observe:
          host: 127.0.0.1
          port: 0
        identity:
          gateway-token:
            enabled: true
            public-key: %s
            audience: %s
        models:
          - name: demo
            dir: %s
            backend: cpu
            signer-public-key: %s
        sandbox:
          relax: [all]
        batching:
          enabled: %s
          max-rows: %d
        admission:
          queue-capacity: 256
        """.formatted(key, audience, home.resolve("models/demo"),
            home.resolve("models/demo/signer.pub.pem"), o.batching(), o.maxRows()));
    ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/sampler").toString(), "serve", "--config", cfg.toString())
        .redirectError(dir.resolve("server.stderr").toFile());
    pb.environment().put("SAMPLER_HOME", home.toString());
    Process p = pb.start();
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    int port = -1;
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    for (String line; System.nanoTime() < deadline && (line = out.readLine()) != null; ) {
      System.err.println("server: " + line);
      Matcher m = GRPC.matcher(line);
      if (m.find()) {
        port = Integer.parseInt(m.group(1));
      }
      if (line.equals("SERVING")) {
        Thread.ofVirtual().start(() -> out.lines().forEach(l -> System.err.println("server: " + l)));
        return new ServerProcess(p, port, dir);
      }
    }
    p.destroyForcibly();
    throw new IOException("the server did not report SERVING within 5 minutes; its stderr is in "
        + dir.resolve("server.stderr"));
  }

  int grpcPort() {
    return grpcPort;
  }

  long pid() {
    return process.pid();
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(90, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    System.err.println("server exited with " + process.exitValue() + "; its stderr: " + dir.resolve("server.stderr"));
  }
}
