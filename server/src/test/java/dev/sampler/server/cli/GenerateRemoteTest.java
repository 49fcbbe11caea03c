package dev.sampler.server.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import dev.sampler.api.v1.Accepted;
import dev.sampler.api.v1.CheckerVerdict;
import dev.sampler.api.v1.Completed;
import dev.sampler.api.v1.Failed;
import dev.sampler.api.v1.GenerateEvent;
import dev.sampler.api.v1.GenerateRequest;
import dev.sampler.api.v1.GenerationMetadata;
import dev.sampler.api.v1.GetModelRequest;
import dev.sampler.api.v1.Image;
import dev.sampler.api.v1.ModelInfo;
import dev.sampler.api.v1.NoiseSource;
import dev.sampler.api.v1.Preview;
import dev.sampler.api.v1.Progress;
import dev.sampler.api.v1.SamplerServiceGrpc;
import dev.sampler.engine.quality.ColourShapeChecker;
import dev.sampler.engine.sampling.Images;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.awt.image.BufferedImage;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code generate --target} against a small fake SamplerService on a loopback port: the client's
 * side of the contract (events to progress, PNGs, JSON lines, sheet, exit codes per status class,
 * token and seed handling). The real server is driven by the e2e module.
 */
class GenerateRemoteTest {
  private Server server;
  private final AtomicReference<GenerateRequest> lastRequest = new AtomicReference<>();
  private final AtomicReference<String> lastAuthorization = new AtomicReference<>();

  @AfterEach
  void stop() throws InterruptedException {
    if (server != null) {
      server.shutdownNow();
      server.awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** Starts a fake whose Generate runs {@code generate}; GetModel describes the demo model. */
  private int start(BiConsumer<GenerateRequest, StreamObserver<GenerateEvent>> generate) throws Exception {
    SamplerServiceGrpc.SamplerServiceImplBase impl = new SamplerServiceGrpc.SamplerServiceImplBase() {
      @Override
      public void generate(GenerateRequest request, StreamObserver<GenerateEvent> events) {
        lastRequest.set(request);
        generate.accept(request, events);
      }

      @Override
      public void getModel(GetModelRequest request, StreamObserver<ModelInfo> response) {
        response.onNext(ModelInfo.newBuilder().setName(request.getName()).addAllClassLabels(ColourShapeChecker.CLASS_NAMES)
            .setNullClass(9).setMaxImagesPerRequest(256).setMaxSteps(200).setReady(true).build());
        response.onCompleted();
      }
    };
    ServerInterceptor capture = new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        lastAuthorization.set(headers.get(TargetOptions.AUTHORIZATION));
        return next.startCall(call, headers);
      }
    };
    server = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
        .addService(ServerInterceptors.intercept(impl, capture)).build().start();
    return server.getPort();
  }

  /** A well-behaved server: two queue positions, one Progress per step (a preview at step 1), Completed. */
  private static void complete(GenerateRequest r, StreamObserver<GenerateEvent> events, boolean corruptDigest) {
    List<Integer> labels = new ArrayList<>(r.hasClassCount()
        ? java.util.Collections.nCopies(r.getClassCount().getCount(), r.getClassCount().getLabel())
        : r.getClassLabels().getLabelsList());
    String id = r.getRequestId();
    events.onNext(GenerateEvent.newBuilder().setAccepted(Accepted.newBuilder().setRequestId(id).setQueuePosition(1)
        .setImageCount(labels.size())).build());
    events.onNext(GenerateEvent.newBuilder().setAccepted(Accepted.newBuilder().setRequestId(id).setQueuePosition(0)
        .setImageCount(labels.size())).build());
    for (int s = 1; s <= r.getSteps(); s++) {
      Progress.Builder p = Progress.newBuilder().setStep(s).setTotalSteps(r.getSteps());
      if (s == 1 && r.getPreview().getEveryNSteps() > 0) {
        p.addPreviews(Preview.newBuilder().setIndex(0).setPng(ByteString.copyFrom(png(0x808080))).setWidth(32).setHeight(32));
      }
      events.onNext(GenerateEvent.newBuilder().setProgress(p).build());
    }
    Completed.Builder c = Completed.newBuilder();
    for (int k = 0; k < labels.size(); k++) {
      byte[] png = png(0x102030 * (k + 1));
      String digest = RemoteGeneration.sha256(png);
      c.addImages(Image.newBuilder().setIndex(k).setPng(ByteString.copyFrom(png)).setClassLabel(labels.get(k))
          .setLabel(ColourShapeChecker.name(labels.get(k))).setPngSha256(corruptDigest ? digest.replace('a', 'b') + "0" : digest)
          .setChecker(CheckerVerdict.newBuilder().setResult(k == 0 ? CheckerVerdict.Result.MATCH : CheckerVerdict.Result.MISMATCH)
              .setChecker("colour-shape/v1").setSeen(k == 0 ? ColourShapeChecker.name(labels.get(k)) : "unrecognised"))
          .setWidth(32).setHeight(32).setChannels(3));
    }
    c.setMetadata(GenerationMetadata.newBuilder().setRequestId(id).setModel(r.getModel()).setModelSha256("ab".repeat(32))
        .setModelConfigSha256("cd".repeat(32)).setSchedulerConfigSha256("ef".repeat(32)).setScheduler(r.getScheduler())
        .setSchedulerClass("DPMSolverMultistepScheduler").setSteps(r.getSteps()).setGuidanceScale(r.getGuidanceScale())
        .setNoiseSource(r.getSeed().isEmpty() ? NoiseSource.OS_ENTROPY : NoiseSource.REPLAY)
        .setSeedCommitment(r.getSeed().isEmpty() ? "" : "01".repeat(32)).setCommitmentKeyId(r.getSeed().isEmpty() ? "" : "server:0011")
        .setModelEvaluations(r.getSteps()));
    events.onNext(GenerateEvent.newBuilder().setCompleted(c).build());
    events.onCompleted();
  }

  private static byte[] png(int rgb) {
    BufferedImage img = new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 32; y++) {
      for (int x = 0; x < 32; x++) {
        img.setRGB(x, y, rgb);
      }
    }
    return Images.png(img);
  }

  private static SamplerCliTest.Result generate(int port, Path out, String... extra) {
    List<String> args = new ArrayList<>(List.of("generate", "--target", "127.0.0.1:" + port, "--plaintext",
        "--out", out.toString(), "--steps", "4"));
    args.addAll(List.of(extra));
    return SamplerCliTest.run(args.toArray(String[]::new));
  }

  @Test
  void generateTarget_completedStream_writesPngsSheetAndOneJsonLinePerImage(@TempDir Path tmp) throws Exception {
    int port = start((r, e) -> complete(r, e, false));
    SamplerCliTest.Result r = generate(port, tmp, "--class", "1,7", "--request-id", "t-1", "--preview-every", "1");
    assertEquals(0, r.code(), r.err());
    GenerateRequest sent = lastRequest.get();
    assertEquals("demo", sent.getModel());
    assertEquals(List.of(1, 7), sent.getClassLabels().getLabelsList());
    assertEquals("t-1", sent.getRequestId());
    assertEquals(1, sent.getPreview().getEveryNSteps());
    List<JsonNode> lines = GenerateCommandTest.lines(r.out());
    assertEquals(2, lines.size(), r.out());
    for (int k = 0; k < 2; k++) {
      JsonNode m = lines.get(k);
      Path file = Path.of(m.get("file").asText());
      assertTrue(file.getFileName().toString().startsWith(String.format("img-%03d-", k)), file.toString());
      assertEquals(RemoteGeneration.sha256(Files.readAllBytes(file)), m.get("png_sha256").asText());
      assertEquals("t-1", m.get("request_id").asText());
      assertEquals("os-entropy", m.get("noise").asText());
      assertEquals("ab".repeat(32), m.get("model_sha256").asText());
      assertFalse(m.has("seed_commitment"));
    }
    assertEquals("green circle", lines.get(0).get("label").asText());
    assertEquals("green circle", lines.get(0).get("checker").asText());
    assertEquals("unrecognised", lines.get(1).get("checker").asText());
    BufferedImage sheet = ImageIO.read(tmp.resolve("sheet.png").toFile());
    assertTrue(sheet.getWidth() > 2 * 32 * Generation.SHEET_SCALE, "sheet width " + sheet.getWidth());
    assertTrue(Files.exists(tmp.resolve("previews").resolve("img-000-step-001.png")));
    assertTrue(r.err().contains("request t-1 queued at position 1") && r.err().contains("request t-1 running (2 images)"), r.err());
    assertTrue(r.err().contains("step 4/4"), r.err());
  }

  @Test
  void generateTarget_singleClassWithCount_sendsClassCount(@TempDir Path tmp) throws Exception {
    int port = start((r, e) -> complete(r, e, false));
    SamplerCliTest.Result r = generate(port, tmp, "--class", "4", "--count", "3");
    assertEquals(0, r.code(), r.err());
    assertEquals(4, lastRequest.get().getClassCount().getLabel());
    assertEquals(3, lastRequest.get().getClassCount().getCount());
  }

  @Test
  void generateTarget_allClasses_asksTheServerForTheModelsClasses(@TempDir Path tmp) throws Exception {
    int port = start((r, e) -> complete(r, e, false));
    SamplerCliTest.Result r = generate(port, tmp, "--model", "other");
    assertEquals(0, r.code(), r.err());
    assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8), lastRequest.get().getClassLabels().getLabelsList());
    assertEquals("other", lastRequest.get().getModel());
  }

  @Test
  void generateTarget_seedAndToken_sentButNeverPrinted(@TempDir Path tmp) throws Exception {
    int port = start((r, e) -> complete(r, e, false));
    Path token = tmp.resolve("token");
    Files.writeString(token, "tok-ABC.123\n");
    Path out = tmp.resolve("out");
    SamplerCliTest.Result r = generate(port, out, "--class", "2", "--seed-hex", GenerateCommandTest.SEED,
        "--request-id", "replay-1", "--token-file", token.toString());
    assertEquals(0, r.code(), r.err());
    assertArrayEquals(HexFormat.of().parseHex(GenerateCommandTest.SEED), lastRequest.get().getSeed().toByteArray());
    assertEquals("Bearer tok-ABC.123", lastAuthorization.get());
    JsonNode m = GenerateCommandTest.lines(r.out()).get(0);
    assertEquals("replay", m.get("noise").asText());
    assertEquals("01".repeat(32), m.get("seed_commitment").asText());
    GenerateCommandTest.assertNoSeedAnywhere(r, out);
    assertFalse(r.out().contains("tok-ABC") || r.err().contains("tok-ABC"), "token printed");
  }

  /** Each status class maps to its own exit code, and the message names the code and the server's words. */
  @Test
  void generateTarget_failingStatuses_exitWithTheirClassCode(@TempDir Path tmp) throws Exception {
    record Case(Status status, boolean afterAccepted, int exit) {}
    List<Case> cases = List.of(
        new Case(Status.INVALID_ARGUMENT.withDescription("steps must be 1..200, got 500"), false, 3),
        new Case(Status.NOT_FOUND.withDescription("no model named \"x\""), false, 3),
        new Case(Status.UNAUTHENTICATED.withDescription("no client certificate"), false, 4),
        new Case(Status.PERMISSION_DENIED.withDescription("tenant may not use model"), false, 4),
        new Case(Status.RESOURCE_EXHAUSTED.withDescription("queue full, retry in 2 s"), false, 5),
        new Case(Status.UNAVAILABLE.withDescription("server is shutting down"), true, 6),
        new Case(Status.DEADLINE_EXCEEDED.withDescription("deadline passed in the queue"), true, 7),
        new Case(Status.INTERNAL.withDescription("engine failure, see request id"), true, 8));
    List<String> failures = new ArrayList<>();
    AtomicReference<Case> current = new AtomicReference<>();
    int port = start((r, e) -> {
      Case c = current.get();
      if (c.afterAccepted()) {
        e.onNext(GenerateEvent.newBuilder().setAccepted(Accepted.newBuilder().setRequestId("x").setImageCount(1)).build());
        e.onNext(GenerateEvent.newBuilder().setFailed(Failed.newBuilder().setCode(c.status().getCode().value())
            .setMessage(c.status().getDescription())).build());
      }
      e.onError(c.status().asRuntimeException());
    });
    for (Case c : cases) {
      current.set(c);
      SamplerCliTest.Result r = generate(port, tmp, "--class", "0");
      String want = "error: " + c.status().getCode() + ": " + c.status().getDescription();
      if (r.code() != c.exit() || !r.err().contains(want)) {
        failures.add(c.status().getCode() + ": exit " + r.code() + ", stderr: " + r.err().strip());
      }
    }
    assertEquals(List.of(), failures);
  }

  @Test
  void generateTarget_unreachableServer_exitsUnavailable(@TempDir Path tmp) throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort(); // closed again: nothing listens there
    }
    SamplerCliTest.Result r = generate(port, tmp, "--class", "0");
    assertEquals(6, r.code(), r.err());
    assertTrue(r.err().startsWith("error: UNAVAILABLE: "), r.err());
  }

  @Test
  void generateTarget_serverNeverAnswers_exitsDeadlineExceeded(@TempDir Path tmp) throws Exception {
    int port = start((r, e) -> {
      // accepts and then says nothing: the client's deadline ends the call
      e.onNext(GenerateEvent.newBuilder().setAccepted(Accepted.newBuilder().setRequestId("slow").setQueuePosition(3)).build());
    });
    SamplerCliTest.Result r = generate(port, tmp, "--class", "0", "--deadline", "300ms");
    assertEquals(7, r.code(), r.err());
    assertTrue(r.err().contains("error: DEADLINE_EXCEEDED"), r.err());
  }

  @Test
  void generateTarget_pngDigestMismatch_exitsServerFailureAndWritesNothing(@TempDir Path tmp) throws Exception {
    int port = start((r, e) -> complete(r, e, true));
    Path out = tmp.resolve("out");
    SamplerCliTest.Result r = generate(port, out, "--class", "0");
    assertEquals(8, r.code(), r.err());
    assertTrue(r.err().contains("error: DATA_LOSS: image 0: the PNG's SHA-256 differs from the png_sha256 the server sent"), r.err());
    assertFalse(Files.exists(out.resolve("img-000-red-circle.png")));
  }

  @Test
  void generateTarget_streamEndsWithoutCompleted_exitsServerFailure(@TempDir Path tmp) throws Exception {
    int port = start((r, e) -> e.onCompleted());
    SamplerCliTest.Result r = generate(port, tmp, "--class", "0");
    assertEquals(8, r.code(), r.err());
    assertTrue(r.err().contains("without a Completed event"), r.err());
  }

  @Test
  void generateTarget_badOptionCombinations_areUsageErrors(@TempDir Path tmp) throws Exception {
    Path token = tmp.resolve("token");
    Files.writeString(token, "t0k");
    record Case(List<String> args, String message) {}
    List<Case> cases = List.of(
        new Case(List.of("--target", "127.0.0.1:1", "--local"), "give exactly one of --target"),
        new Case(List.of("--target", "127.0.0.1:1", "--plaintext", "--tenant", "t"), "--tenant applies to --local only"),
        new Case(List.of("--target", "127.0.0.1:1", "--plaintext", "--threads", "2"), "--threads applies to --local only"),
        new Case(List.of("--local", "--plaintext"), "--plaintext applies to --target only"),
        new Case(List.of("--target", "localhost"), "--target: expected HOST:PORT (IPv6 in brackets), got \"localhost\""),
        new Case(List.of("--target", "h:99999"), "--target: port must be 1..65535, got 99999"),
        new Case(List.of("--target", "h:1", "--deadline", "soon"), "--deadline: \"soon\" is not a duration"),
        new Case(List.of("--target", "h:1", "--cert", "c.pem"), "--cert and --key go together"),
        new Case(List.of("--target", "h:1", "--plaintext", "--ca", "ca.pem"), "--plaintext contradicts --ca/--cert/--key"),
        new Case(List.of("--target", "example.com:443", "--plaintext", "--token-file", token.toString()),
            "--token-file with --plaintext is only allowed to a loopback target"),
        new Case(List.of("--target", "example.com:443", "--plaintext", "--seed-hex", GenerateCommandTest.SEED, "--request-id", "r"),
            "a replay seed is sent only over TLS or to a loopback target"),
        new Case(List.of("--target", "h:1", "--plaintext", "--count", "0"), "--count must be at least 1, got 0"));
    List<String> failures = new ArrayList<>();
    for (Case c : cases) {
      List<String> args = new ArrayList<>(List.of("generate", "--out", tmp.toString()));
      args.addAll(c.args());
      SamplerCliTest.Result r = SamplerCliTest.run(args.toArray(String[]::new));
      if (r.code() != 2 || !r.err().contains(c.message())) {
        failures.add(c.args() + ": exit " + r.code() + ", stderr: " + r.err().strip());
      }
      if (r.err().contains("t0k") || r.err().contains(GenerateCommandTest.SEED)) {
        failures.add(c.args() + ": a secret was echoed");
      }
    }
    assertEquals(List.of(), failures);
  }

  @Test
  void generateHelp_listsExitCodesAndConnectionOptions() {
    SamplerCliTest.Result r = SamplerCliTest.run("generate", "--help");
    assertEquals(0, r.code());
    for (String s : List.of("--target=HOST:PORT", "--plaintext", "--ca=FILE", "--token-file=FILE", "--deadline=DURATION",
        "Exit codes:", "RESOURCE_EXHAUSTED", "130")) {
      assertTrue(r.out().contains(s), "help lacks " + s + ":\n" + r.out());
    }
  }
}
