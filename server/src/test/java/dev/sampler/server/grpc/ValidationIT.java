package dev.sampler.server.grpc;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.sampler.api.v1.ClassCount;
import dev.sampler.api.v1.ClassLabels;
import dev.sampler.api.v1.GenerateRequest;
import dev.sampler.api.v1.GetModelRequest;
import dev.sampler.api.v1.PreviewOptions;
import dev.sampler.api.v1.SamplerServiceGrpc;
import dev.sampler.server.SamplerServer;
import dev.sampler.server.testing.Clients;
import dev.sampler.server.testing.Servers;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Every malformed GenerateRequest field ends the call with INVALID_ARGUMENT and the exact message,
 * before any event; oversized messages end with RESOURCE_EXHAUSTED. The server has a 64 KiB
 * message limit and the default adaptive throttle, which the invalid requests trip.
 */
class ValidationIT {
  static SamplerServer server;
  static ManagedChannel channel;

  @BeforeAll
  static void start() throws Exception {
    server = Servers.start(Servers.config("""
        grpc:
          host: 127.0.0.1
          port: 0
          insecure-plaintext: true
          max-message-size: 65536
        """));
    channel = Clients.plaintext(server.grpcPort());
  }

  @AfterAll
  static void stop() {
    channel.shutdownNow();
    server.close();
  }

  static final String SCHEDULERS = "ddpm, ddim, euler, euler-ancestral, heun, lms, dpmpp-2m, dpmpp-2m-karras,"
      + " dpmpp-2m-sde, unipc";

  static GenerateRequest.Builder valid() {
    return GenerateRequest.newBuilder().setModel("demo").setClassLabels(ClassLabels.newBuilder().addLabels(0))
        .setSteps(2).setScheduler("euler");
  }

  @Test
  void generate_eachMalformedField_failsInvalidArgumentWithTheExactMessageAndNoEvents() {
    Map<String, UnaryOperator<GenerateRequest.Builder>> cases = new LinkedHashMap<>();
    Map<String, String> expected = new LinkedHashMap<>();
    cases.put("empty model", b -> b.setModel(""));
    expected.put("empty model", "model is required");
    cases.put("no images", b -> b.clearImages());
    expected.put("no images", "images: set class_labels (at least one label) or class_count (count >= 1)");
    cases.put("empty labels", b -> b.setClassLabels(ClassLabels.getDefaultInstance()));
    expected.put("empty labels", "images: set class_labels (at least one label) or class_count (count >= 1)");
    cases.put("count 0", b -> b.setClassCount(ClassCount.newBuilder().setLabel(1)));
    expected.put("count 0", "class_count.count must be at least 1, got 0");
    cases.put("huge count", b -> b.setClassCount(ClassCount.newBuilder().setLabel(1).setCount(-1)));
    expected.put("huge count", "image count must be 1..256, got 4294967295");
    cases.put("257 labels", b -> b.setClassLabels(ClassLabels.newBuilder().addAllLabels(
        java.util.Collections.nCopies(257, 1))));
    expected.put("257 labels", "image count must be 1..256, got 257");
    cases.put("null class", b -> b.setClassLabels(ClassLabels.newBuilder().addLabels(2).addLabels(9)));
    expected.put("null class",
        "class label at index 1 must be 0..8, got 9 (class 9 is the null class used for guidance)");
    cases.put("negative label", b -> b.setClassLabels(ClassLabels.newBuilder().addLabels(-1)));
    expected.put("negative label", "class label at index 0 must be 0..8, got -1");
    cases.put("steps 0", b -> b.setSteps(0));
    expected.put("steps 0", "steps must be 1..200, got 0");
    cases.put("steps 201", b -> b.setSteps(201));
    expected.put("steps 201", "steps must be 1..200, got 201");
    cases.put("negative steps", b -> b.setSteps(-5));
    expected.put("negative steps", "steps must be 1..200, got 4294967291");
    cases.put("no scheduler", b -> b.setScheduler(""));
    expected.put("no scheduler", "scheduler is required; one of " + SCHEDULERS);
    cases.put("unknown scheduler", b -> b.setScheduler("pndm"));
    expected.put("unknown scheduler", "unknown scheduler (4 characters); one of " + SCHEDULERS);
    cases.put("NaN guidance", b -> b.setGuidanceScale(Double.NaN));
    expected.put("NaN guidance", "guidance_scale must be a finite number in 0..30, got NaN");
    cases.put("infinite guidance", b -> b.setGuidanceScale(Double.POSITIVE_INFINITY));
    expected.put("infinite guidance", "guidance_scale must be a finite number in 0..30, got Infinity");
    cases.put("guidance 31", b -> b.setGuidanceScale(31));
    expected.put("guidance 31", "guidance_scale must be a finite number in 0..30, got 31.0");
    cases.put("negative guidance", b -> b.setGuidanceScale(-0.5));
    expected.put("negative guidance", "guidance_scale must be a finite number in 0..30, got -0.5");
    cases.put("rescale 2", b -> b.setGuidanceRescale(2));
    expected.put("rescale 2", "guidance_rescale must be a finite number in 0..1, got 2.0");
    cases.put("sample size 64", b -> b.setSampleSize(64));
    expected.put("sample size 64", "sample_size must be 0 or 32 (the model's), got 64");
    cases.put("seed 8 bytes", b -> b.setSeed(ByteString.copyFrom(new byte[8])).setRequestId("r"));
    expected.put("seed 8 bytes", "seed must be 16 to 64 bytes (128 to 512 bits), got 8 bytes");
    cases.put("seed 65 bytes", b -> b.setSeed(ByteString.copyFrom(new byte[65])).setRequestId("r"));
    expected.put("seed 65 bytes", "seed must be 16 to 64 bytes (128 to 512 bits), got 65 bytes");
    cases.put("seed without request id", b -> b.setSeed(ByteString.copyFrom(new byte[16])));
    expected.put("seed without request id",
        "request_id is required with a seed (a replay needs the same seed, request_id and tenant)");
    cases.put("bad request id", b -> b.setRequestId("bad id!"));
    expected.put("bad request id", "request_id must be 1..128 characters from [A-Za-z0-9._:-], got 7 characters");
    cases.put("long request id", b -> b.setRequestId("r".repeat(129)));
    expected.put("long request id",
        "request_id must be 1..128 characters from [A-Za-z0-9._:-], got 129 characters");
    cases.put("preview interval", b -> b.setPreview(PreviewOptions.newBuilder().setEveryNSteps(201)));
    expected.put("preview interval", "preview.every_n_steps must be 0..200, got 201");
    cases.put("preview side", b -> b.setPreview(PreviewOptions.newBuilder().setEveryNSteps(1).setMaxSide(4)));
    expected.put("preview side", "preview.max_side must be 0 or 8..256, got 4");
    List<Executable> checks = new ArrayList<>();
    for (var c : cases.entrySet()) {
      Clients.Outcome out = Clients.generate(channel, c.getValue().apply(valid()).build());
      checks.add(() -> assertEquals(Status.Code.INVALID_ARGUMENT, out.code(), c.getKey() + ": " + out.status()));
      checks.add(() -> assertEquals(expected.get(c.getKey()), out.status().getDescription(), c.getKey()));
      checks.add(() -> assertTrue(out.events().isEmpty(), c.getKey() + ": events before the error"));
    }
    assertAll(checks);
    // The edge reports every invalid request to the admission controller's adaptive throttle.
    String metrics = server.metrics().scrape();
    assertTrue(metrics.contains("sampler_admission_events_total{event=\"throttled\"}"), metrics);
    assertTrue(metrics.contains("sampler_admission_events_total{event=\"rejected\",code=\"INVALID_ARGUMENT\"} "
        + cases.size()), metrics);
  }

  @Test
  void generate_messageOverTheLimit_failsResourceExhausted() {
    // 30,000 labels: about 90 KB on the wire, over the 64 KiB limit.
    GenerateRequest big = valid().setClassLabels(ClassLabels.newBuilder().addAllLabels(
        java.util.Collections.nCopies(30_000, 100_000))).build();
    assertTrue(big.getSerializedSize() > 65536);
    Clients.Outcome out = Clients.generate(channel, big);
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, out.code(), out.status().toString());
    assertTrue(out.status().getDescription().contains("larger than the server's limit of 65536 bytes"),
        out.status().getDescription());
    // The connection stays usable.
    assertEquals(Status.Code.OK, Clients.statusOf(() -> SamplerServiceGrpc.newBlockingStub(channel)
        .getModel(GetModelRequest.newBuilder().setName("demo").build())).getCode());
  }

  @Test
  void generate_compressedMessageThatInflatesOverTheLimit_failsResourceExhausted() {
    // A 200 KB request id compresses to a few hundred bytes; inflated it is over the limit.
    GenerateRequest bomb = valid().setRequestId("a".repeat(200_000)).build();
    var stub = SamplerServiceGrpc.newBlockingStub(channel).withCompression("gzip")
        .withDeadlineAfter(60, java.util.concurrent.TimeUnit.SECONDS);
    Status s = Clients.statusOf(() -> stub.generate(bomb).forEachRemaining(e -> {}));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, s.getCode(), s.toString());
    assertEquals("the request message is larger than the server's limit of 65536 bytes", s.getDescription());
  }
}
