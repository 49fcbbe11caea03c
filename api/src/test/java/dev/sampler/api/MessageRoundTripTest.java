package dev.sampler.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Duration;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.sampler.api.v1.Accepted;
import dev.sampler.api.v1.CheckerVerdict;
import dev.sampler.api.v1.ClassCount;
import dev.sampler.api.v1.ClassLabels;
import dev.sampler.api.v1.Completed;
import dev.sampler.api.v1.Failed;
import dev.sampler.api.v1.GenerateEvent;
import dev.sampler.api.v1.GenerateRequest;
import dev.sampler.api.v1.GenerationMetadata;
import dev.sampler.api.v1.Image;
import dev.sampler.api.v1.NoiseSource;
import dev.sampler.api.v1.Preview;
import dev.sampler.api.v1.PreviewOptions;
import dev.sampler.api.v1.Progress;
import dev.sampler.api.v1.Timings;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every message kind of sampler.v1 survives serialisation to bytes and back, field for field. */
class MessageRoundTripTest {

  @Test
  void generateRequest_allFieldsSet_roundTripsThroughBytes() throws InvalidProtocolBufferException {
    GenerateRequest request = GenerateRequest.newBuilder()
        .setModel("demo")
        .setClassLabels(ClassLabels.newBuilder().addLabels(0).addLabels(4).addLabels(8))
        .setSteps(20)
        .setScheduler("dpmpp-2m-karras")
        .setGuidanceScale(3.0)
        .setGuidanceRescale(0.7)
        .setSeed(ByteString.copyFrom(new byte[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, (byte) 0xff}))
        .setRequestId("r-1")
        .setPreview(PreviewOptions.newBuilder().setEveryNSteps(5).setMaxSide(16))
        .setSampleSize(32)
        .build();
    byte[] wire = request.toByteArray();
    GenerateRequest back = GenerateRequest.parseFrom(wire);
    assertEquals(request, back);
    assertEquals(GenerateRequest.ImagesCase.CLASS_LABELS, back.getImagesCase());
    assertEquals(List.of(0, 4, 8), back.getClassLabels().getLabelsList());
    assertEquals(16, back.getSeed().size());
    assertArrayEquals(wire, back.toByteArray());
  }

  @Test
  void generateRequest_classCountForUnconditionalModel_keepsNegativeLabelAndCase()
      throws InvalidProtocolBufferException {
    GenerateRequest request = GenerateRequest.newBuilder()
        .setModel("uncond").setClassCount(ClassCount.newBuilder().setLabel(-1).setCount(8))
        .setSteps(1000).setScheduler("ddpm").build();
    GenerateRequest back = GenerateRequest.parseFrom(request.toByteArray());
    assertEquals(request, back);
    assertEquals(GenerateRequest.ImagesCase.CLASS_COUNT, back.getImagesCase());
    assertEquals(-1, back.getClassCount().getLabel());
    assertTrue(back.getSeed().isEmpty(), "no seed set means OS entropy; the default must be empty");
  }

  @Test
  void generateEvent_eachKind_roundTripsThroughBytesWithItsCase() throws InvalidProtocolBufferException {
    List<GenerateEvent> events = List.of(
        GenerateEvent.newBuilder().setAccepted(Accepted.newBuilder()
            .setRequestId("r-1").setQueuePosition(3).setImageCount(2)).build(),
        GenerateEvent.newBuilder().setProgress(Progress.newBuilder()
            .setStep(5).setTotalSteps(20).setTimestep(751.0)
            .addPreviews(Preview.newBuilder().setIndex(1).setPng(ByteString.copyFromUtf8("\u0089PNG"))
                .setWidth(16).setHeight(16))).build(),
        GenerateEvent.newBuilder().setCompleted(completed()).build(),
        GenerateEvent.newBuilder().setFailed(Failed.newBuilder()
            .setCode(Status.Code.INTERNAL.value()).setMessage("engine failed; see request r-1")).build());
    List<GenerateEvent.EventCase> expectedCases = List.of(GenerateEvent.EventCase.ACCEPTED,
        GenerateEvent.EventCase.PROGRESS, GenerateEvent.EventCase.COMPLETED, GenerateEvent.EventCase.FAILED);
    List<String> failures = new ArrayList<>();
    for (int i = 0; i < events.size(); i++) {
      GenerateEvent back = GenerateEvent.parseFrom(events.get(i).toByteArray());
      if (!back.equals(events.get(i))) {
        failures.add(expectedCases.get(i) + ": differs after the round trip: " + back);
      }
      if (back.getEventCase() != expectedCases.get(i)) {
        failures.add(expectedCases.get(i) + ": came back as " + back.getEventCase());
      }
    }
    assertEquals(List.of(), failures);
  }

  @Test
  void failed_bytes_parseAsGoogleRpcStatus() throws InvalidProtocolBufferException {
    // The proto promises that Failed has google.rpc.Status's field numbers and types.
    Failed failed = Failed.newBuilder().setCode(Status.Code.UNAVAILABLE.value())
        .setMessage("model demo failed re-verification; retry on another replica").build();
    com.google.rpc.Status status = com.google.rpc.Status.parseFrom(failed.toByteArray());
    assertEquals(14, status.getCode());
    assertEquals(failed.getMessage(), status.getMessage());
    assertEquals(0, status.getDetailsCount());
  }

  private static Completed completed() {
    return Completed.newBuilder()
        .addImages(Image.newBuilder().setIndex(0).setPng(ByteString.copyFrom(new byte[] {(byte) 0x89, 'P', 'N', 'G'}))
            .setClassLabel(4).setLabel("green square").setPngSha256("ab".repeat(32))
            .setChecker(CheckerVerdict.newBuilder().setResult(CheckerVerdict.Result.MATCH)
                .setChecker("colour-shape/v1").setSeen("green square"))
            .setWidth(32).setHeight(32).setChannels(3))
        .setMetadata(GenerationMetadata.newBuilder()
            .setRequestId("r-1").setModel("demo").setModelSha256("01".repeat(32))
            .setModelConfigSha256("02".repeat(32)).setSchedulerConfigSha256("03".repeat(32))
            .setScheduler("dpmpp-2m-karras").setSchedulerClass("DPMSolverMultistepScheduler")
            .setSteps(20).setGuidanceScale(3.0).setNoiseSource(NoiseSource.REPLAY)
            .setSeedCommitment("cd".repeat(32)).setCommitmentKeyId("file:0011223344556677")
            .setModelEvaluations(20)
            .setTimings(Timings.newBuilder()
                .setQueue(Duration.newBuilder().setNanos(1_000_000))
                .setForward(Duration.newBuilder().setSeconds(1).setNanos(250_000_000))
                .setTotal(Duration.newBuilder().setSeconds(2))))
        .build();
  }
}
