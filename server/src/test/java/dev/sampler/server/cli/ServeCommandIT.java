package dev.sampler.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sampler.api.v1.ClassLabels;
import dev.sampler.api.v1.GenerateRequest;
import dev.sampler.server.testing.Clients;
import dev.sampler.server.testing.Servers;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sampler serve} as its own process: it prints the bound addresses, then SERVING after the
 * warm-up; it serves; SIGTERM drains and exits; every file it writes is under the runtime
 * directory (an empty $HOME stays empty).
 */
class ServeCommandIT {
  @Test
  void serve_configFileThenSigterm_printsAddressesServesAndStopsCleanly(@TempDir Path dir) throws Exception {
    Path home = Files.createDirectories(dir.resolve("home"));
    Path runtime = dir.resolve("runtime");
    Path config = dir.resolve("sampler.yaml");
    Files.writeString(config, """
        grpc:
          port: 0
          insecure-plaintext: true
        observe:
          port: 0
        models:
          - name: demo
            dir: models/demo
            threads: 2
            signer-public-key: models/demo/signer.pub.pem
        sandbox:
          relax: [all]
        warmup:
          generations: 1
          steps: 1
          noise: PT0.2S
        runtime:
          dir: %s
        drain-timeout: PT10S
        """.formatted(runtime));
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
        "--add-modules=jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
        SamplerCli.class.getName(), "serve", "--config", config.toString()));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(dir.resolve("stderr.txt").toFile());
    pb.environment().put("SAMPLER_HOME", Servers.HOME.toString());
    pb.environment().put("HOME", home.toString());
    pb.environment().keySet().removeIf(k -> k.startsWith("SAMPLER_") && !k.equals("SAMPLER_HOME"));
    Process p = pb.start();
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      List<String> lines = new ArrayList<>();
      for (String line; (line = out.readLine()) != null && !line.equals("SERVING"); ) {
        lines.add(line);
      }
      assertTrue(p.isAlive(), "serve exited early: " + lines + "\n" + Files.readString(dir.resolve("stderr.txt")));
      Matcher grpc = Pattern.compile("gRPC 127\\.0\\.0\\.1:(\\d+) \\(PLAINTEXT, development only\\)")
          .matcher(lines.get(0));
      assertTrue(grpc.matches(), lines.toString());
      assertTrue(lines.get(1).matches("observe http://127\\.0\\.0\\.1:\\d+ \\(/health/live, /health/ready, /metrics\\)"),
          lines.toString());
      ManagedChannel ch = Clients.plaintext(Integer.parseInt(grpc.group(1)));
      try {
        Clients.Outcome ok = Clients.generate(ch, GenerateRequest.newBuilder().setModel("demo")
            .setClassLabels(ClassLabels.newBuilder().addLabels(2)).setSteps(1).setScheduler("euler").build());
        assertEquals(Status.Code.OK, ok.code(), ok.status().toString());
      } finally {
        ch.shutdownNow();
      }
      p.destroy(); // SIGTERM
      assertTrue(p.waitFor(60, TimeUnit.SECONDS), "serve did not exit after SIGTERM");
      String err = Files.readString(dir.resolve("stderr.txt"));
      assertTrue(err.contains("sampler: shutting down: refusing new work"), err);
      assertTrue(err.contains("sampler: stopped"), err);
      assertEquals(0, p.exitValue(), "a stop by SIGTERM that drained cleanly exits 0");
      try (Stream<Path> files = Files.list(home)) {
        assertEquals(List.of(), files.toList(), "nothing is written to $HOME");
      }
      assertTrue(Files.isDirectory(runtime.resolve("tmp")));
      assertTrue(Files.isDirectory(runtime.resolve("javacpp")));
    } finally {
      p.destroyForcibly();
    }
  }
}
