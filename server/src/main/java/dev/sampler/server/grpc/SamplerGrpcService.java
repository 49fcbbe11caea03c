package dev.sampler.server.grpc;

import dev.sampler.api.v1.GenerateEvent;
import dev.sampler.api.v1.GenerateRequest;
import dev.sampler.api.v1.GetModelRequest;
import dev.sampler.api.v1.ListModelsRequest;
import dev.sampler.api.v1.ListModelsResponse;
import dev.sampler.api.v1.ModelInfo;
import dev.sampler.api.v1.SamplerServiceGrpc;
import dev.sampler.scheduler.Code;
import dev.sampler.scheduler.GenerationSpec;
import dev.sampler.scheduler.ModelLimits;
import dev.sampler.scheduler.RejectedException;
import dev.sampler.scheduler.Tenant;
import dev.sampler.server.engine.Engine;
import dev.sampler.server.engine.ModelHost;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * {@code sampler.v1.SamplerService}: validates a GenerateRequest into a {@link GenerationSpec}
 * (INVALID_ARGUMENT naming the field; each failure is reported to the adaptive throttle), submits
 * it as a job and streams its events ({@link GenerateCall}); ListModels and GetModel describe the
 * loaded models.
 */
public final class SamplerGrpcService extends SamplerServiceGrpc.SamplerServiceImplBase {
  private final Engine engine;
  private final ActiveCalls active;

  /** Serves {@code engine}'s models; {@code active} counts streams still writing. */
  public SamplerGrpcService(Engine engine, ActiveCalls active) {
    this.engine = Objects.requireNonNull(engine, "engine");
    this.active = Objects.requireNonNull(active, "active");
  }

  @Override
  public void generate(GenerateRequest request, StreamObserver<GenerateEvent> observer) {
    ServerCallStreamObserver<GenerateEvent> call = (ServerCallStreamObserver<GenerateEvent>) observer;
    Tenant tenant = CallContext.tenant();
    GenerateCall generate = null;
    try {
      engine.requireReady();
      ModelHost host = engine.model(request.getModel(), "model");
      GenerationSpec spec = spec(host.limits(), request);
      byte[] seed = request.getSeed().isEmpty() ? null : request.getSeed().toByteArray();
      generate = new GenerateCall(call, engine, host, spec, active);
      call.setOnCancelHandler(generate::cancelledByClient);
      generate.start();
      generate.submitted(engine.submit(tenant, spec, seed, CallContext.deadlineNanos(), generate));
    } catch (RejectedException e) {
      if (generate == null && (e.code() == Code.INVALID_ARGUMENT || e.code() == Code.NOT_FOUND)) {
        engine.invalid(tenant, e.getMessage());
      }
      if (generate != null) {
        generate.rejected(e);
      } else {
        call.onError(Statuses.exception(e));
      }
    } catch (RuntimeException e) {
      var status = Statuses.internal(e, "starting a Generate request", request.getRequestId());
      if (generate != null) {
        generate.rejected(new RejectedException(Code.INTERNAL, status.getStatus().getDescription()));
      } else {
        call.onError(status);
      }
    }
  }

  /**
   * Validates {@code request} against {@code limits}: the seed (16..64 bytes, and only with a
   * request_id), the images oneof, then every field {@link GenerationSpec#create} checks. A
   * missing request_id (without a seed) is assigned a random UUID.
   *
   * @throws RejectedException INVALID_ARGUMENT naming the first bad field
   */
  public static GenerationSpec spec(ModelLimits limits, GenerateRequest request) throws RejectedException {
    int seedLength = request.getSeed().size();
    if (seedLength != 0 && (seedLength < 16 || seedLength > 64)) {
      throw invalid("seed must be 16 to 64 bytes (128 to 512 bits), got " + seedLength + " bytes");
    }
    if (seedLength != 0 && request.getRequestId().isEmpty()) {
      throw invalid("request_id is required with a seed (a replay needs the same seed, request_id and tenant)");
    }
    int[] labels = switch (request.getImagesCase()) {
      case CLASS_LABELS -> request.getClassLabels().getLabelsList().stream().mapToInt(Integer::intValue).toArray();
      case CLASS_COUNT -> {
        long count = Integer.toUnsignedLong(request.getClassCount().getCount());
        if (count < 1) {
          throw invalid("class_count.count must be at least 1, got 0");
        }
        if (count > limits.maxImages()) {
          throw invalid("image count must be 1.." + limits.maxImages() + ", got " + count);
        }
        int[] a = new int[(int) count];
        Arrays.fill(a, request.getClassCount().getLabel());
        yield a;
      }
      case IMAGES_NOT_SET -> null;
    };
    String requestId = request.getRequestId().isEmpty() ? UUID.randomUUID().toString() : request.getRequestId();
    return GenerationSpec.create(limits, request.getModel(), requestId, labels,
        Integer.toUnsignedLong(request.getSteps()), request.getScheduler(), request.getGuidanceScale(),
        request.getGuidanceRescale(), Integer.toUnsignedLong(request.getSampleSize()),
        Integer.toUnsignedLong(request.getPreview().getEveryNSteps()),
        Integer.toUnsignedLong(request.getPreview().getMaxSide()));
  }

  private static RejectedException invalid(String message) {
    return new RejectedException(Code.INVALID_ARGUMENT, message);
  }

  @Override
  public void listModels(ListModelsRequest request, StreamObserver<ListModelsResponse> observer) {
    boolean ready = engine.state() == Engine.State.READY;
    List<ModelInfo> infos = engine.models().stream().map(h -> h.info(ready)).toList();
    observer.onNext(ListModelsResponse.newBuilder().addAllModels(infos).build());
    observer.onCompleted();
  }

  @Override
  public void getModel(GetModelRequest request, StreamObserver<ModelInfo> observer) {
    try {
      ModelHost host = engine.model(request.getName(), "name");
      observer.onNext(host.info(engine.state() == Engine.State.READY));
      observer.onCompleted();
    } catch (RejectedException e) {
      engine.invalid(CallContext.tenant(), e.getMessage());
      observer.onError(Statuses.exception(e));
    }
  }
}
