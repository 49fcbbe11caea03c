package dev.sampler.server.grpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.sampler.api.v1.CheckerVerdict;
import dev.sampler.api.v1.ClassLabels;
import dev.sampler.api.v1.Completed;
import dev.sampler.api.v1.GenerateEvent;
import dev.sampler.api.v1.GenerateRequest;
import dev.sampler.api.v1.GetModelRequest;
import dev.sampler.api.v1.Image;
import dev.sampler.api.v1.ListModelsRequest;
import dev.sampler.api.v1.ModelInfo;
import dev.sampler.api.v1.NoiseSource;
import dev.sampler.api.v1.PreviewOptions;
import dev.sampler.api.v1.Preview;
import dev.sampler.api.v1.SamplerServiceGrpc;
import dev.sampler.server.SamplerServer;
import dev.sampler.server.engine.Renderer;
import dev.sampler.server.testing.Clients;
import dev.sampler.server.testing.Servers;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.util.HexFormat;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** sampler.v1.SamplerService on a real server (loopback, plaintext, tenant "dev") with a real client. */
class SamplerServiceIT {
  /** A fixed replay seed (test data, not a secret). */
  static final byte[] SEED = HexFormat.of().parseHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");

  static SamplerServer server;
  static ManagedChannel channel;

  @BeforeAll
  static void start() throws Exception {
    server = Servers.start();
    channel = Clients.plaintext(server.grpcPort());
  }

  @AfterAll
  static void stop() {
    channel.shutdownNow();
    server.close();
  }

  static GenerateRequest.Builder request() {
    return GenerateRequest.newBuilder().setModel("demo").setClassLabels(ClassLabels.newBuilder().addLabels(0))
        .setSteps(2).setScheduler("euler");
  }

  @Test
  void generate_guidedReplayWithPreviews_streamsAcceptedProgressCompletedAndTheCheckerMatches() throws Exception {
    GenerateRequest req = GenerateRequest.newBuilder().setModel("demo")
        .setClassLabels(ClassLabels.newBuilder().addLabels(0))
        .setSteps(10).setScheduler("dpmpp-2m-karras").setGuidanceScale(3)
        .setSeed(ByteString.copyFrom(SEED)).setRequestId("happy-1")
        .setPreview(PreviewOptions.newBuilder().setEveryNSteps(5).setMaxSide(16))
        .build();
    Clients.Outcome out = Clients.generate(channel, req);
    assertEquals(Status.Code.OK, out.code(), () -> out.status().toString());
    List<GenerateEvent> events = out.events();
    assertEquals(GenerateEvent.EventCase.ACCEPTED, events.getFirst().getEventCase());
    assertEquals("happy-1", events.getFirst().getAccepted().getRequestId());
    assertEquals(1, events.getFirst().getAccepted().getImageCount());
    int lastPosition = Integer.MAX_VALUE;
    int lastStep = 0;
    boolean sawPreview = false;
    for (GenerateEvent e : events.subList(0, events.size() - 1)) {
      switch (e.getEventCase()) {
        case ACCEPTED -> {
          assertTrue(lastStep == 0, "Accepted after Progress");
          assertTrue(e.getAccepted().getQueuePosition() < lastPosition, "queue position must decrease");
          lastPosition = e.getAccepted().getQueuePosition();
        }
        case PROGRESS -> {
          assertTrue(e.getProgress().getStep() > lastStep, "steps must increase");
          lastStep = e.getProgress().getStep();
          assertEquals(10, e.getProgress().getTotalSteps());
          for (Preview p : e.getProgress().getPreviewsList()) {
            sawPreview = true;
            assertEquals(5, e.getProgress().getStep(), "previews every 5 steps, never at the last");
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(p.getPng().toByteArray()));
            assertEquals(16, img.getWidth());
            assertEquals(16, p.getHeight());
          }
        }
        default -> throw new AssertionError("unexpected event before the last: " + e.getEventCase());
      }
    }
    assertEquals(0, lastPosition, "the last Accepted says running");
    assertTrue(sawPreview, "the preview at step 5 is never skipped");
    Completed c = out.completed();
    assertEquals(1, c.getImagesCount());
    Image image = c.getImages(0);
    BufferedImage png = ImageIO.read(new ByteArrayInputStream(image.getPng().toByteArray()));
    assertEquals(32, png.getWidth());
    assertEquals(32, png.getHeight());
    assertEquals(Renderer.sha256(image.getPng().toByteArray()), image.getPngSha256());
    assertEquals("red circle", image.getLabel());
    assertEquals(CheckerVerdict.Result.MATCH, image.getChecker().getResult(), image.getChecker().toString());
    assertEquals("colour-shape/v1", image.getChecker().getChecker());
    var meta = c.getMetadata();
    assertEquals("happy-1", meta.getRequestId());
    assertEquals("demo", meta.getModel());
    assertEquals(Renderer.sha256(Files.readAllBytes(Servers.HOME.resolve(
        "models/demo/diffusion_pytorch_model.safetensors"))), meta.getModelSha256());
    assertEquals("DPMSolverMultistepScheduler", meta.getSchedulerClass());
    assertEquals(10, meta.getSteps());
    assertEquals(3.0, meta.getGuidanceScale());
    assertEquals(NoiseSource.REPLAY, meta.getNoiseSource());
    assertTrue(meta.getSeedCommitment().matches("[0-9a-f]{64}"), meta.getSeedCommitment());
    assertTrue(meta.getCommitmentKeyId().startsWith("ephemeral:"), meta.getCommitmentKeyId());
    assertEquals(10, meta.getModelEvaluations());
    assertTrue(meta.getTimings().getTotal().getSeconds() * 1_000_000_000L + meta.getTimings().getTotal().getNanos()
        >= meta.getTimings().getForward().getSeconds() * 1_000_000_000L + meta.getTimings().getForward().getNanos());
    assertFalse(out.events().toString().contains(HexFormat.of().formatHex(SEED)), "the seed never comes back");
  }

  @Test
  void generate_sameSeedTenantAndRequestId_replaysTheSamePngBytes() {
    GenerateRequest req = request().setSeed(ByteString.copyFrom(SEED)).setRequestId("replay-1").build();
    Completed first = Clients.generate(channel, req).completed();
    Completed second = Clients.generate(channel, req).completed();
    assertEquals(first.getImages(0).getPngSha256(), second.getImages(0).getPngSha256());
    assertArrayEquals(first.getImages(0).getPng().toByteArray(), second.getImages(0).getPng().toByteArray());
    assertEquals(first.getMetadata().getSeedCommitment(), second.getMetadata().getSeedCommitment());
    Completed other = Clients.generate(channel, request().setSeed(ByteString.copyFrom(SEED))
        .setRequestId("replay-2").build()).completed();
    assertNotEquals(first.getImages(0).getPngSha256(), other.getImages(0).getPngSha256(),
        "the request id is part of the noise stream's personalization");
  }

  @Test
  void generate_withoutSeedOrRequestId_usesOsEntropyAndAssignsARequestId() {
    Clients.Outcome out = Clients.generate(channel, request().setClassLabels(ClassLabels.newBuilder().addLabels(4)
        .addLabels(8)).setSampleSize(32).build());
    Completed c = out.completed();
    String id = out.events().getFirst().getAccepted().getRequestId();
    assertTrue(id.matches("[0-9a-f-]{36}"), id);
    assertEquals(id, c.getMetadata().getRequestId());
    assertEquals(NoiseSource.OS_ENTROPY, c.getMetadata().getNoiseSource());
    assertEquals("", c.getMetadata().getSeedCommitment());
    assertEquals(2, c.getImagesCount());
    assertEquals(List.of(4, 8), c.getImagesList().stream().map(Image::getClassLabel).toList());
    assertEquals(1, c.getImages(1).getIndex());
  }

  @Test
  void generate_unknownModel_failsNotFoundNamingTheServedModels() {
    Clients.Outcome out = Clients.generate(channel, request().setModel("nope!").build());
    assertEquals(Status.Code.NOT_FOUND, out.code());
    assertEquals("no model with that name (5 characters); this server serves: demo", out.status().getDescription());
    assertTrue(out.events().isEmpty());
  }

  @Test
  void listModels_demoServer_describesTheDemoModel() throws Exception {
    var stub = SamplerServiceGrpc.newBlockingStub(channel);
    List<ModelInfo> models = stub.listModels(ListModelsRequest.getDefaultInstance()).getModelsList();
    assertEquals(1, models.size());
    ModelInfo m = models.getFirst();
    assertEquals(m, stub.getModel(GetModelRequest.newBuilder().setName("demo").build()));
    assertEquals("demo", m.getName());
    assertEquals(32, m.getSampleSize());
    assertEquals(3, m.getChannels());
    assertEquals(9, m.getClassLabelsCount());
    assertEquals("red circle", m.getClassLabels(0));
    assertEquals(9, m.getNullClass());
    assertEquals(200, m.getMaxSteps());
    assertEquals(256, m.getMaxImagesPerRequest());
    assertEquals(10, m.getSchedulersCount());
    assertTrue(m.getReady());
    assertEquals(Renderer.sha256(Files.readAllBytes(Servers.HOME.resolve("models/demo/config.json"))),
        m.getModelConfigSha256());
    Status missing = Clients.statusOf(() -> stub.getModel(GetModelRequest.newBuilder().setName("x").build()));
    assertEquals(Status.Code.NOT_FOUND, missing.getCode());
    Status empty = Clients.statusOf(() -> stub.getModel(GetModelRequest.getDefaultInstance()));
    assertEquals(Status.Code.INVALID_ARGUMENT, empty.getCode());
    assertEquals("name is required", empty.getDescription());
  }
}
