package dev.sampler.server.grpc;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.sampler.server.SamplerServer;
import dev.sampler.server.testing.Clients;
import dev.sampler.server.testing.Servers;
import inference.GRPCInferenceServiceGrpc;
import inference.GrpcPredictV2.InferParameter;
import inference.GrpcPredictV2.InferTensorContents;
import inference.GrpcPredictV2.ModelInferRequest;
import inference.GrpcPredictV2.ModelInferRequest.InferInputTensor;
import inference.GrpcPredictV2.ModelInferRequest.InferRequestedOutputTensor;
import inference.GrpcPredictV2.ModelInferResponse;
import inference.GrpcPredictV2.ModelMetadataRequest;
import inference.GrpcPredictV2.ModelMetadataResponse;
import inference.GrpcPredictV2.ModelReadyRequest;
import inference.GrpcPredictV2.ServerLiveRequest;
import inference.GrpcPredictV2.ServerMetadataRequest;
import inference.GrpcPredictV2.ServerReadyRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The KServe v2 Open Inference Protocol, called through stubs generated from the official
 * grpc_predict_v2.proto (api/ vendors it byte for byte), against a real server.
 */
class KServeIT {
  static SamplerServer server;
  static ManagedChannel channel;
  static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub;

  @BeforeAll
  static void start() throws Exception {
    // The throttle is off: the malformed-tensor table sends many invalid requests on purpose.
    server = Servers.start(Servers.config("""
        admission:
          throttle:
            invalid-threshold: 0
            probe-threshold: 0
            reject-threshold: 0
        """));
    channel = Clients.plaintext(server.grpcPort());
    stub = GRPCInferenceServiceGrpc.newBlockingStub(channel);
  }

  @AfterAll
  static void stop() {
    channel.shutdownNow();
    server.close();
  }

  static InferParameter int64(long v) {
    return InferParameter.newBuilder().setInt64Param(v).build();
  }

  static InferInputTensor.Builder labels(long n) {
    return InferInputTensor.newBuilder().setName("class_labels").setDatatype("INT32").addShape(n);
  }

  static ModelInferRequest.Builder valid() {
    return ModelInferRequest.newBuilder().setModelName("demo")
        .addInputs(labels(1).setContents(InferTensorContents.newBuilder().addIntContents(2)))
        .putParameters("steps", int64(1))
        .putParameters("scheduler", InferParameter.newBuilder().setStringParam("euler").build());
  }

  static List<byte[]> pngs(ByteString raw) {
    ByteBuffer b = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    List<byte[]> out = new ArrayList<>();
    while (b.hasRemaining()) {
      byte[] png = new byte[b.getInt()];
      b.get(png);
      out.add(png);
    }
    return out;
  }

  @Test
  void modelInfer_contentsForm_returnsImagesAndPngsOfTheSamePixels() throws Exception {
    ModelInferRequest req = ModelInferRequest.newBuilder().setModelName("demo").setId("kserve-1")
        .addInputs(labels(2).setContents(InferTensorContents.newBuilder().addIntContents(0).addIntContents(5)))
        .addInputs(InferInputTensor.newBuilder().setName("guidance_scale").setDatatype("FP32").addShape(1)
            .setContents(InferTensorContents.newBuilder().addFp32Contents(3f)))
        .putParameters("steps", int64(2))
        .putParameters("scheduler", InferParameter.newBuilder().setStringParam("ddim").build())
        .build();
    ModelInferResponse res = stub.withDeadlineAfter(120, TimeUnit.SECONDS).modelInfer(req);
    assertEquals("demo", res.getModelName());
    assertEquals("1", res.getModelVersion());
    assertEquals("kserve-1", res.getId());
    assertEquals(2, res.getOutputsCount());
    assertEquals("images", res.getOutputs(0).getName());
    assertEquals("UINT8", res.getOutputs(0).getDatatype());
    assertEquals(List.of(2L, 32L, 32L, 3L), res.getOutputs(0).getShapeList());
    assertEquals("png", res.getOutputs(1).getName());
    assertEquals("BYTES", res.getOutputs(1).getDatatype());
    assertEquals(List.of(2L), res.getOutputs(1).getShapeList());
    assertEquals(2, res.getRawOutputContentsCount());
    byte[] pixels = res.getRawOutputContents(0).toByteArray();
    assertEquals(2 * 32 * 32 * 3, pixels.length);
    List<byte[]> pngs = pngs(res.getRawOutputContents(1));
    assertEquals(2, pngs.size());
    for (int k = 0; k < 2; k++) {
      BufferedImage img = ImageIO.read(new ByteArrayInputStream(pngs.get(k)));
      assertEquals(32, img.getWidth());
      byte[] decoded = new byte[32 * 32 * 3];
      for (int y = 0; y < 32; y++) {
        for (int x = 0; x < 32; x++) {
          int rgb = img.getRGB(x, y);
          int p = (y * 32 + x) * 3;
          decoded[p] = (byte) (rgb >> 16);
          decoded[p + 1] = (byte) (rgb >> 8);
          decoded[p + 2] = (byte) rgb;
        }
      }
      assertArrayEquals(java.util.Arrays.copyOfRange(pixels, k * decoded.length, (k + 1) * decoded.length), decoded);
    }
    assertEquals("DDIMScheduler", res.getParametersOrThrow("scheduler_class").getStringParam());
    assertEquals(2, res.getParametersOrThrow("model_evaluations").getInt64Param());
  }

  @Test
  void modelInfer_rawForm_returnsOnlyTheRequestedOutput() {
    ByteBuffer labels = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putInt(1).putInt(4).putInt(7);
    ByteBuffer guidance = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(2.5);
    ModelInferRequest req = ModelInferRequest.newBuilder().setModelName("demo").setModelVersion("1")
        .addInputs(labels(3))
        .addInputs(InferInputTensor.newBuilder().setName("guidance_scale").setDatatype("FP64").addShape(1))
        .addRawInputContents(ByteString.copyFrom(labels.array()))
        .addRawInputContents(ByteString.copyFrom(guidance.array()))
        .addOutputs(InferRequestedOutputTensor.newBuilder().setName("png"))
        .putParameters("steps", int64(1))
        .build();
    ModelInferResponse res = stub.withDeadlineAfter(120, TimeUnit.SECONDS).modelInfer(req);
    assertEquals(1, res.getOutputsCount());
    assertEquals("png", res.getOutputs(0).getName());
    assertEquals(3, pngs(res.getRawOutputContents(0)).size());
    assertEquals("dpmpp-2m-karras", res.getParametersOrThrow("scheduler").getStringParam(), "the default scheduler");
  }

  @Test
  void modelInfer_malformedTensorsAndParameters_failInvalidArgumentNamingTheInput() {
    Map<String, UnaryOperator<ModelInferRequest.Builder>> cases = new LinkedHashMap<>();
    Map<String, String> expected = new LinkedHashMap<>();
    cases.put("wrong datatype", b -> b.setInputs(0, labels(1).setDatatype("FP32")
        .setContents(InferTensorContents.newBuilder().addFp32Contents(1))));
    expected.put("wrong datatype", "input class_labels: datatype must be INT32, got FP32");
    cases.put("rank 2", b -> b.setInputs(0, labels(1).addShape(1)));
    expected.put("rank 2", "input class_labels: shape must be [N] (one label per image), got [1, 1]");
    cases.put("zero images", b -> b.setInputs(0, labels(0)));
    expected.put("zero images", "input class_labels: shape [N] needs N in 1..256, got 0");
    cases.put("count mismatch", b -> b.setInputs(0, labels(2)
        .setContents(InferTensorContents.newBuilder().addIntContents(1))));
    expected.put("count mismatch", "input class_labels: contents.int_contents has 1 values, expected 2 (the shape)");
    cases.put("other contents", b -> b.setInputs(0, labels(1)
        .setContents(InferTensorContents.newBuilder().addIntContents(1).addFp32Contents(2))));
    expected.put("other contents", "input class_labels: only contents.int_contents may be set for INT32");
    cases.put("contents and raw", b -> b.addRawInputContents(ByteString.copyFrom(new byte[4])));
    expected.put("contents and raw",
        "input class_labels: contents is set although raw_input_contents is used; use one form for all inputs");
    cases.put("raw count", b -> b.setInputs(0, labels(1)).addRawInputContents(ByteString.copyFrom(new byte[4]))
        .addRawInputContents(ByteString.copyFrom(new byte[4])));
    expected.put("raw count", "raw_input_contents has 2 entries for 1 inputs; give one per input, in the order of"
        + " inputs, or none");
    cases.put("raw length", b -> b.setInputs(0, labels(2)).addRawInputContents(ByteString.copyFrom(new byte[7])));
    expected.put("raw length",
        "input class_labels: raw_input_contents has 7 bytes, expected 8 (4 per INT32 x 2)");
    cases.put("guidance shape", b -> b.addInputs(InferInputTensor.newBuilder().setName("guidance_scale")
        .setDatatype("FP32").addShape(2).setContents(InferTensorContents.newBuilder().addFp32Contents(1)
            .addFp32Contents(2))));
    expected.put("guidance shape", "input guidance_scale: shape must be [1], got [2]");
    cases.put("guidance type", b -> b.addInputs(InferInputTensor.newBuilder().setName("guidance_rescale")
        .setDatatype("INT64").addShape(1)));
    expected.put("guidance type", "input guidance_rescale: datatype must be FP32 or FP64, got INT64");
    cases.put("guidance NaN", b -> b.addInputs(InferInputTensor.newBuilder().setName("guidance_scale")
        .setDatatype("FP64").addShape(1).setContents(InferTensorContents.newBuilder().addFp64Contents(Double.NaN))));
    expected.put("guidance NaN", "guidance_scale must be a finite number in 0..30, got NaN");
    cases.put("unknown input", b -> b.addInputs(InferInputTensor.newBuilder().setName("x-tenant")));
    expected.put("unknown input", "unknown input (name of 8 characters); the inputs are class_labels,"
        + " guidance_scale, guidance_rescale");
    cases.put("duplicate input", b -> b.addInputs(labels(1)));
    expected.put("duplicate input", "input class_labels is given twice");
    cases.put("no labels", b -> b.clearInputs());
    expected.put("no labels", "input class_labels (INT32 [N], one class label per image) is required");
    cases.put("label range", b -> b.setInputs(0, labels(1).setContents(InferTensorContents.newBuilder()
        .addIntContents(12))));
    expected.put("label range", "class label at index 0 must be 0..8, got 12");
    cases.put("unknown output", b -> b.addOutputs(InferRequestedOutputTensor.newBuilder().setName("latents")));
    expected.put("unknown output", "unknown output (name of 7 characters); the outputs are images (UINT8 [N, H,"
        + " W, C]) and png (BYTES [N])");
    cases.put("duplicate output", b -> b.addOutputs(InferRequestedOutputTensor.newBuilder().setName("png"))
        .addOutputs(InferRequestedOutputTensor.newBuilder().setName("png")));
    expected.put("duplicate output", "output png is requested twice");
    cases.put("unknown parameter", b -> b.putParameters("seed", int64(1)));
    expected.put("unknown parameter", "unknown parameter (name of 4 characters); the parameters are steps"
        + " (int64_param) and scheduler (string_param)");
    cases.put("steps type", b -> b.putParameters("steps", InferParameter.newBuilder().setStringParam("9").build()));
    expected.put("steps type", "parameter steps must be an int64_param");
    cases.put("steps range", b -> b.putParameters("steps", int64(1000)));
    expected.put("steps range", "steps must be 1..200, got 1000");
    cases.put("bad id", b -> b.setId("a b"));
    expected.put("bad id", "id must be 1..128 characters from [A-Za-z0-9._:-], got 3 characters");
    cases.put("no model", b -> b.setModelName(""));
    expected.put("no model", "model_name is required");
    List<Executable> checks = new ArrayList<>();
    for (var c : cases.entrySet()) {
      Status s = Clients.statusOf(() -> stub.modelInfer(c.getValue().apply(valid()).build()));
      checks.add(() -> assertEquals(Status.Code.INVALID_ARGUMENT, s.getCode(), c.getKey() + ": " + s));
      checks.add(() -> assertEquals(expected.get(c.getKey()), s.getDescription(), c.getKey()));
    }
    assertAll(checks);
    Status version = Clients.statusOf(() -> stub.modelInfer(valid().setModelVersion("2").build()));
    assertEquals(Status.Code.NOT_FOUND, version.getCode());
    Status model = Clients.statusOf(() -> stub.modelInfer(valid().setModelName("other").build()));
    assertEquals(Status.Code.NOT_FOUND, model.getCode());
  }

  @Test
  void metadataCalls_readyServer_describeTheServerAndTheModel() {
    assertTrue(stub.serverLive(ServerLiveRequest.getDefaultInstance()).getLive());
    assertTrue(stub.serverReady(ServerReadyRequest.getDefaultInstance()).getReady());
    assertTrue(stub.modelReady(ModelReadyRequest.newBuilder().setName("demo").build()).getReady());
    assertEquals(Status.Code.NOT_FOUND, Clients.statusOf(() -> stub.modelReady(ModelReadyRequest.newBuilder()
        .setName("nope").build())).getCode());
    assertEquals("sampler", stub.serverMetadata(ServerMetadataRequest.getDefaultInstance()).getName());
    ModelMetadataResponse m = stub.modelMetadata(ModelMetadataRequest.newBuilder().setName("demo").build());
    assertEquals("demo", m.getName());
    assertEquals(List.of("1"), m.getVersionsList());
    assertEquals(List.of("class_labels", "guidance_scale", "guidance_rescale"),
        m.getInputsList().stream().map(ModelMetadataResponse.TensorMetadata::getName).toList());
    assertEquals(List.of(-1L, 32L, 32L, 3L), m.getOutputs(0).getShapeList());
    assertEquals("BYTES", m.getOutputs(1).getDatatype());
  }
}
