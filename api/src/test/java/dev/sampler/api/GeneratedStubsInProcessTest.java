package dev.sampler.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import dev.sampler.api.v1.Accepted;
import dev.sampler.api.v1.Completed;
import dev.sampler.api.v1.GenerateEvent;
import dev.sampler.api.v1.GenerateRequest;
import dev.sampler.api.v1.GetModelRequest;
import dev.sampler.api.v1.Image;
import dev.sampler.api.v1.ListModelsRequest;
import dev.sampler.api.v1.ListModelsResponse;
import dev.sampler.api.v1.ModelInfo;
import dev.sampler.api.v1.Progress;
import dev.sampler.api.v1.SamplerServiceGrpc;
import dev.sampler.api.v1.ClassCount;
import inference.GRPCInferenceServiceGrpc;
import inference.GrpcPredictV2.ModelInferRequest;
import inference.GrpcPredictV2.ModelInferResponse;
import inference.GrpcPredictV2.ServerLiveRequest;
import inference.GrpcPredictV2.ServerLiveResponse;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A test of the generated code, not of a sampler: trivial in-process implementations of
 * SamplerService and GRPCInferenceService (no model runs) show that the generated stubs,
 * marshallers and method types work end to end over a real gRPC transport, and that grpc-java's
 * health service sits beside them. The real service is issue 4's work in server/.
 */
class GeneratedStubsInProcessTest {
  private Server server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws IOException {
    String name = InProcessServerBuilder.generateName();
    HealthStatusManager health = new HealthStatusManager();
    health.setStatus("", ServingStatus.SERVING);
    server = InProcessServerBuilder.forName(name).directExecutor()
        .addService(new EchoSamplerService())
        .addService(new EchoInferenceService())
        .addService(health.getHealthService())
        .build().start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.shutdownNow();
  }

  @Test
  void generate_validRequest_streamsAcceptedProgressThenCompleted() {
    GenerateRequest request = GenerateRequest.newBuilder().setModel("demo")
        .setClassCount(ClassCount.newBuilder().setLabel(4).setCount(3))
        .setSteps(4).setScheduler("euler").setRequestId("r-7").build();
    List<GenerateEvent.EventCase> cases = new ArrayList<>();
    GenerateEvent last = null;
    for (Iterator<GenerateEvent> it = SamplerServiceGrpc.newBlockingStub(channel).generate(request); it.hasNext(); ) {
      last = it.next();
      cases.add(last.getEventCase());
    }
    assertEquals(List.of(GenerateEvent.EventCase.ACCEPTED, GenerateEvent.EventCase.PROGRESS,
        GenerateEvent.EventCase.PROGRESS, GenerateEvent.EventCase.PROGRESS, GenerateEvent.EventCase.PROGRESS,
        GenerateEvent.EventCase.COMPLETED), cases);
    Completed completed = last.getCompleted();
    assertEquals(3, completed.getImagesCount());
    assertEquals("r-7", completed.getMetadata().getRequestId());
    assertEquals(List.of(0, 1, 2), completed.getImagesList().stream().map(Image::getIndex).toList());
  }

  @Test
  void generate_missingModel_failsWithInvalidArgumentAndItsMessage() {
    GenerateRequest request = GenerateRequest.newBuilder().setSteps(4).setScheduler("euler").build();
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> SamplerServiceGrpc.newBlockingStub(channel).generate(request).next());
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    assertEquals("model: required (ListModels names the models)", e.getStatus().getDescription());
  }

  @Test
  void listAndGetModel_unaryCalls_returnTheServedModel() {
    ListModelsResponse list = SamplerServiceGrpc.newBlockingStub(channel).listModels(ListModelsRequest.getDefaultInstance());
    assertEquals(List.of("demo"), list.getModelsList().stream().map(ModelInfo::getName).toList());
    ModelInfo demo = SamplerServiceGrpc.newBlockingStub(channel).getModel(GetModelRequest.newBuilder().setName("demo").build());
    assertEquals(list.getModels(0), demo);
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> SamplerServiceGrpc.newBlockingStub(channel).getModel(GetModelRequest.newBuilder().setName("nope").build()));
    assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
  }

  @Test
  void kserveStubs_serverLiveAndModelInfer_roundTripOverTheChannel() {
    GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub = GRPCInferenceServiceGrpc.newBlockingStub(channel);
    assertEquals(true, stub.serverLive(ServerLiveRequest.getDefaultInstance()).getLive());
    ModelInferResponse response = stub.modelInfer(ModelInferRequest.newBuilder().setModelName("demo").setId("k-1")
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("class_labels").setDatatype("INT32")
            .addShape(2))
        .addRawInputContents(ByteString.copyFrom(new byte[8])).build());
    assertEquals("demo", response.getModelName());
    assertEquals("k-1", response.getId());
    assertEquals(ByteString.copyFrom(new byte[8]), response.getRawOutputContents(0));
  }

  @Test
  void health_overallService_reportsServing() {
    assertEquals(ServingStatus.SERVING,
        HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.getDefaultInstance()).getStatus());
  }

  /** Echoes the request's shape back; validates only what the tests above exercise. */
  private static final class EchoSamplerService extends SamplerServiceGrpc.SamplerServiceImplBase {
    private static final ModelInfo DEMO = ModelInfo.newBuilder().setName("demo").setSampleSize(32).setChannels(3)
        .addClassLabels("red circle").setNullClass(1).addSchedulers("euler").setMaxImagesPerRequest(256)
        .setMaxSteps(1000).setReady(true).build();

    @Override
    public void generate(GenerateRequest request, StreamObserver<GenerateEvent> events) {
      if (request.getModel().isEmpty()) {
        events.onError(Status.INVALID_ARGUMENT.withDescription("model: required (ListModels names the models)")
            .asRuntimeException());
        return;
      }
      int count = request.getClassCount().getCount();
      events.onNext(GenerateEvent.newBuilder().setAccepted(Accepted.newBuilder()
          .setRequestId(request.getRequestId()).setImageCount(count)).build());
      for (int step = 1; step <= request.getSteps(); step++) {
        events.onNext(GenerateEvent.newBuilder().setProgress(Progress.newBuilder()
            .setStep(step).setTotalSteps(request.getSteps())).build());
      }
      Completed.Builder done = Completed.newBuilder();
      done.getMetadataBuilder().setRequestId(request.getRequestId());
      for (int k = 0; k < count; k++) {
        done.addImages(Image.newBuilder().setIndex(k).setClassLabel(request.getClassCount().getLabel()));
      }
      events.onNext(GenerateEvent.newBuilder().setCompleted(done).build());
      events.onCompleted();
    }

    @Override
    public void listModels(ListModelsRequest request, StreamObserver<ListModelsResponse> response) {
      response.onNext(ListModelsResponse.newBuilder().addModels(DEMO).build());
      response.onCompleted();
    }

    @Override
    public void getModel(GetModelRequest request, StreamObserver<ModelInfo> response) {
      if (!request.getName().equals(DEMO.getName())) {
        response.onError(Status.NOT_FOUND.withDescription("no model \"" + request.getName() + "\"").asRuntimeException());
        return;
      }
      response.onNext(DEMO);
      response.onCompleted();
    }
  }

  /** Answers ServerLive and echoes ModelInfer's raw inputs as its outputs. */
  private static final class EchoInferenceService extends GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase {
    @Override
    public void serverLive(ServerLiveRequest request, StreamObserver<ServerLiveResponse> response) {
      response.onNext(ServerLiveResponse.newBuilder().setLive(true).build());
      response.onCompleted();
    }

    @Override
    public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> response) {
      response.onNext(ModelInferResponse.newBuilder().setModelName(request.getModelName()).setId(request.getId())
          .addAllRawOutputContents(request.getRawInputContentsList()).build());
      response.onCompleted();
    }
  }
}
