package dev.sampler.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sampler.api.v1.ClassCount;
import dev.sampler.api.v1.ClassLabels;
import dev.sampler.api.v1.GenerateEvent;
import dev.sampler.api.v1.GenerateRequest;
import dev.sampler.api.v1.ListModelsRequest;
import dev.sampler.api.v1.ModelInfo;
import dev.sampler.api.v1.SamplerServiceGrpc;
import dev.sampler.engine.quality.ColourShapeChecker;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged server as a user runs it ({@code bin/sampler serve --config FILE}, a separate
 * process), driven by the real CLI client ({@code bin/sampler generate --target}, another process)
 * and by gRPC stubs: a generation end to end, graceful shutdown on SIGTERM, a bad configuration.
 */
class ServeE2eTest {
  private static final Duration CLI_TIMEOUT = Duration.ofSeconds(180);

  @Test
  void generateThroughCli_nineClasses_pngsDecodeAndVerdictsMatch(@TempDir Path tmp) throws Exception {
    Path config = E2e.config(tmp.resolve("server"), E2e.demoModel(), "");
    try (ServerProcess server = ServerProcess.serve(config, tmp, "server")) {
      ManagedChannel ch = server.channel();
      try {
        HealthCheckResponse health = HealthGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
            .check(HealthCheckRequest.getDefaultInstance());
        assertEquals(HealthCheckResponse.ServingStatus.SERVING, health.getStatus());
        List<ModelInfo> models = SamplerServiceGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
            .listModels(ListModelsRequest.getDefaultInstance()).getModelsList();
        assertEquals(List.of("demo"), models.stream().map(ModelInfo::getName).toList());
        assertEquals(ColourShapeChecker.CLASS_NAMES, models.get(0).getClassLabelsList());
      } finally {
        ServerProcess.shutdown(ch);
      }

      Path seedFile = tmp.resolve("seed.hex");
      Files.writeString(seedFile, E2e.SEED);
      Path out = tmp.resolve("out");
      Proc.Result r = Proc.run(Proc.sampler("generate", "--target", "127.0.0.1:" + server.grpcPort, "--plaintext",
          "--class", "all", "--steps", "20", "--seed-file", seedFile.toString(), "--request-id", "e2e-happy",
          "--out", out.toString(), "--deadline", "2m"), Map.of(), tmp, "cli", CLI_TIMEOUT);
      assertEquals(0, r.code(), r.toString());

      ObjectMapper json = new ObjectMapper();
      List<JsonNode> lines = new ArrayList<>();
      for (String line : r.out().split("\n")) {
        if (line.startsWith("{")) {
          lines.add(json.readTree(line));
        }
      }
      assertEquals(9, lines.size(), r.toString());
      String modelSha = sha256(Files.readAllBytes(E2e.demoModel().resolve("diffusion_pytorch_model.safetensors")));
      List<String> failures = new ArrayList<>();
      for (int k = 0; k < 9; k++) {
        JsonNode m = lines.get(k);
        byte[] png = Files.readAllBytes(Path.of(m.get("file").asText()));
        BufferedImage img = E2e.decode(png);
        String label = ColourShapeChecker.CLASS_NAMES.get(k);
        int seen = E2e.checkerClass(img);
        if (m.get("class").asInt() != k || !m.get("label").asText().equals(label)
            || img.getWidth() != 32 || img.getHeight() != 32
            || !m.get("png_sha256").asText().equals(sha256(png))
            || !m.get("checker").asText().equals(label)
            || !ColourShapeChecker.name(seen).equals(m.get("checker").asText())
            || !m.get("model_sha256").asText().equals(modelSha)
            || !m.get("noise").asText().equals("replay")
            || m.get("seed_commitment").asText().length() != 64
            || !m.get("request_id").asText().equals("e2e-happy")) {
          failures.add("image " + k + ": " + m + " (client-side checker saw " + ColourShapeChecker.name(seen) + ")");
        }
      }
      assertEquals(List.of(), failures);
      assertTrue(Files.size(out.resolve("sheet.png")) > 1000);
      assertTrue(r.err().contains("step 20/20"), r.err());
      assertNoSeed(r, out, server);
    }
  }

  @Test
  void sigterm_inFlightRequestCompletesNewOneUnavailableExitZero(@TempDir Path tmp) throws Exception {
    Path config = E2e.config(tmp.resolve("server"), E2e.demoModel(), "drain-timeout: PT60S\n");
    try (ServerProcess server = ServerProcess.serve(config, tmp, "server")) {
      ManagedChannel ch = server.channel();
      try {
        // Long enough to still be running when SIGTERM arrives (several seconds on 2 cores), short
        // enough to finish well inside the drain timeout.
        GenerateRequest slow = GenerateRequest.newBuilder().setModel("demo").setScheduler("euler")
            .setClassCount(ClassCount.newBuilder().setLabel(3).setCount(1)).setSteps(30).setGuidanceScale(3)
            .setRequestId("drain-me").build();
        CountDownLatch running = new CountDownLatch(1);
        CompletableFuture<List<GenerateEvent>> inFlight = new CompletableFuture<>();
        List<GenerateEvent> events = new ArrayList<>();
        SamplerServiceGrpc.newStub(ch).withDeadlineAfter(3, TimeUnit.MINUTES).generate(slow, new StreamObserver<>() {
          @Override
          public void onNext(GenerateEvent e) {
            synchronized (events) {
              events.add(e);
            }
            if (e.hasProgress()) {
              running.countDown();
            }
          }

          @Override
          public void onError(Throwable t) {
            inFlight.completeExceptionally(t);
            running.countDown();
          }

          @Override
          public void onCompleted() {
            synchronized (events) {
              inFlight.complete(List.copyOf(events));
            }
            running.countDown();
          }
        });
        assertTrue(running.await(60, TimeUnit.SECONDS), "the slow request never started");
        assertFalse(inFlight.isDone(), "the slow request finished before SIGTERM: make it slower");

        server.sigterm();
        // A new call on the same connection while draining is refused.
        StatusRuntimeException refused = null;
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (refused == null && System.nanoTime() < until) {
          try {
            Iterator<GenerateEvent> it = SamplerServiceGrpc.newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS)
                .generate(GenerateRequest.newBuilder().setModel("demo").setScheduler("euler").setSteps(2)
                    .setClassLabels(ClassLabels.newBuilder().addLabels(0)).build());
            while (it.hasNext()) {
              it.next();
            }
            Thread.sleep(50); // accepted: SIGTERM not seen yet; bounded by `until`
          } catch (StatusRuntimeException e) {
            refused = e;
          }
        }
        assertTrue(refused != null, "no request was refused after SIGTERM");
        assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode(), refused.getStatus().toString());

        List<GenerateEvent> done = inFlight.get(3, TimeUnit.MINUTES);
        GenerateEvent last = done.get(done.size() - 1);
        assertTrue(last.hasCompleted(), "the in-flight request did not complete: " + last);
        assertEquals(1, last.getCompleted().getImagesCount());
        assertEquals(0, server.awaitExit(Duration.ofSeconds(60)), server.proc.err());
      } finally {
        ServerProcess.shutdown(ch);
      }
    }
  }

  @Test
  void serve_badConfig_exitsAtStepOneNamingTheKey(@TempDir Path tmp) throws Exception {
    record Case(String yaml, String key) {}
    List<Case> cases = List.of(
        new Case("grpc:\n  port: seventy\nmodels:\n  - name: demo\n    dir: " + E2e.demoModel() + "\n", "grpc.port"),
        new Case("grpc:\n  prot: 1\nmodels:\n  - name: demo\n    dir: " + E2e.demoModel() + "\n", "grpc.prot"),
        new Case("grpc:\n  insecure-plaintext: true\nmodels:\n  - name: demo\n    dir: " + tmp.resolve("nope") + "\n",
            "models[0].dir"));
    List<String> failures = new ArrayList<>();
    int i = 0;
    for (Case c : cases) {
      Path file = tmp.resolve("bad-" + i + ".yaml");
      Files.writeString(file, c.yaml());
      Proc.Result r = Proc.run(Proc.sampler("serve", "--config", file.toString()), Map.of(), tmp, "bad-" + i++,
          Duration.ofSeconds(60));
      // step 1 of the start-up order: exit code 11, the step named, then the key
      if (r.code() != 11 || !r.err().contains("error: start-up failed at step 1 (config): ")
          || !r.err().contains(c.key()) || r.out().contains("SERVING")) {
        failures.add(c.key() + ": " + r);
      }
    }
    assertEquals(List.of(), failures);
  }

  /** The seed appears in nothing the client or the server wrote. */
  private static void assertNoSeed(Proc.Result cli, Path out, ServerProcess server) throws Exception {
    String[] forms = {E2e.SEED, E2e.SEED.toUpperCase(), E2e.SEED.substring(0, 16)};
    List<String> texts = new ArrayList<>(List.of(cli.out(), cli.err(), server.proc.out(), server.proc.err()));
    try (Stream<Path> files = Files.walk(out)) {
      for (Path p : files.filter(Files::isRegularFile).toList()) {
        texts.add(new String(Files.readAllBytes(p), StandardCharsets.ISO_8859_1));
      }
    }
    String raw = new String(HexFormat.of().parseHex(E2e.SEED), StandardCharsets.ISO_8859_1);
    for (String t : texts) {
      for (String f : forms) {
        assertFalse(t.contains(f), "the seed (hex) was emitted");
      }
      assertFalse(t.contains(raw), "the seed (bytes) was emitted");
    }
  }

  static String sha256(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }
}
