package dev.sampler.server.grpc;

import com.google.protobuf.ByteString;
import dev.sampler.engine.sampling.SamplingResult;
import dev.sampler.scheduler.Code;
import dev.sampler.scheduler.GenerationSpec;
import dev.sampler.scheduler.Job;
import dev.sampler.scheduler.JobListener;
import dev.sampler.scheduler.RejectedException;
import dev.sampler.scheduler.Tenant;
import dev.sampler.server.engine.Engine;
import dev.sampler.server.engine.ModelHost;
import dev.sampler.server.engine.Renderer;
import inference.GRPCInferenceServiceGrpc;
import inference.GrpcPredictV2.InferParameter;
import inference.GrpcPredictV2.InferTensorContents;
import inference.GrpcPredictV2.ModelInferRequest;
import inference.GrpcPredictV2.ModelInferResponse;
import inference.GrpcPredictV2.ModelMetadataRequest;
import inference.GrpcPredictV2.ModelMetadataResponse;
import inference.GrpcPredictV2.ModelReadyRequest;
import inference.GrpcPredictV2.ModelReadyResponse;
import inference.GrpcPredictV2.ServerLiveRequest;
import inference.GrpcPredictV2.ServerLiveResponse;
import inference.GrpcPredictV2.ServerMetadataRequest;
import inference.GrpcPredictV2.ServerMetadataResponse;
import inference.GrpcPredictV2.ServerReadyRequest;
import inference.GrpcPredictV2.ServerReadyResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;

/**
 * The KServe v2 Open Inference Protocol ({@code inference.GRPCInferenceService}) on the same
 * engine, admission and batching path as Generate. ModelInfer's mapping (documented in
 * server/README.md):
 *
 * <ul>
 *   <li>inputs: {@code class_labels} INT32 {@code [N]} (required, one label per image), {@code
 *       guidance_scale} and {@code guidance_rescale} FP32 or FP64 {@code [1]} (optional, default
 *       0), each in {@code contents} or, for all inputs at once, {@code raw_input_contents}
 *       (little-endian, row-major);
 *   <li>parameters: {@code steps} ({@code int64_param}, default {@value #DEFAULT_STEPS}), {@code
 *       scheduler} ({@code string_param}, default {@value #DEFAULT_SCHEDULER});
 *   <li>{@code id} is the request id (1..128 of [A-Za-z0-9._:-]; a UUID when empty);
 *   <li>outputs, in {@code raw_output_contents}: {@code images} UINT8 {@code [N, H, W, C]} and
 *       {@code png} BYTES {@code [N]} (each element a 4-byte little-endian length and one PNG);
 *       the requested outputs in their order, both when none is requested.
 * </ul>
 *
 * The noise always comes from OS entropy (replay with a seed is sampler.v1 only). Every malformed
 * tensor is INVALID_ARGUMENT naming the input.
 */
public final class KServeGrpcService extends GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase {
  /** Steps when the request has no {@code steps} parameter. */
  public static final int DEFAULT_STEPS = 20;
  /** Scheduler when the request has no {@code scheduler} parameter. */
  public static final String DEFAULT_SCHEDULER = "dpmpp-2m-karras";
  /** The one version each model has. */
  public static final String VERSION = "1";

  private static final Set<String> INPUTS = Set.of("class_labels", "guidance_scale", "guidance_rescale");
  private static final List<String> OUTPUTS = List.of("images", "png");
  private static final Pattern DATATYPE = Pattern.compile("[A-Z0-9]{1,8}");

  private final Engine engine;
  private final String serverVersion;

  /** Serves {@code engine}'s models; {@code serverVersion} is what ServerMetadata reports. */
  public KServeGrpcService(Engine engine, String serverVersion) {
    this.engine = Objects.requireNonNull(engine, "engine");
    this.serverVersion = Objects.requireNonNull(serverVersion, "serverVersion");
  }

  @Override
  public void serverLive(ServerLiveRequest request, StreamObserver<ServerLiveResponse> observer) {
    observer.onNext(ServerLiveResponse.newBuilder().setLive(true).build());
    observer.onCompleted();
  }

  @Override
  public void serverReady(ServerReadyRequest request, StreamObserver<ServerReadyResponse> observer) {
    observer.onNext(ServerReadyResponse.newBuilder().setReady(engine.state() == Engine.State.READY).build());
    observer.onCompleted();
  }

  @Override
  public void modelReady(ModelReadyRequest request, StreamObserver<ModelReadyResponse> observer) {
    try {
      model(request.getName(), request.getVersion());
      observer.onNext(ModelReadyResponse.newBuilder().setReady(engine.state() == Engine.State.READY).build());
      observer.onCompleted();
    } catch (RejectedException e) {
      observer.onError(Statuses.exception(e));
    }
  }

  @Override
  public void serverMetadata(ServerMetadataRequest request, StreamObserver<ServerMetadataResponse> observer) {
    observer.onNext(ServerMetadataResponse.newBuilder().setName("sampler").setVersion(serverVersion).build());
    observer.onCompleted();
  }

  @Override
  public void modelMetadata(ModelMetadataRequest request, StreamObserver<ModelMetadataResponse> observer) {
    try {
      ModelHost host = model(request.getName(), request.getVersion());
      long side = host.sampleSize();
      observer.onNext(ModelMetadataResponse.newBuilder()
          .setName(host.name())
          .addVersions(VERSION)
          .setPlatform("sampler_diffusers_unet2d")
          .addInputs(tensor("class_labels", "INT32", -1))
          .addInputs(tensor("guidance_scale", "FP32", 1))
          .addInputs(tensor("guidance_rescale", "FP32", 1))
          .addOutputs(tensor("images", "UINT8", -1, side, side, host.channels()))
          .addOutputs(tensor("png", "BYTES", -1))
          .build());
      observer.onCompleted();
    } catch (RejectedException e) {
      observer.onError(Statuses.exception(e));
    }
  }

  private static ModelMetadataResponse.TensorMetadata tensor(String name, String datatype, long... shape) {
    ModelMetadataResponse.TensorMetadata.Builder b = ModelMetadataResponse.TensorMetadata.newBuilder()
        .setName(name).setDatatype(datatype);
    for (long s : shape) {
      b.addShape(s);
    }
    return b.build();
  }

  private ModelHost model(String name, String version) throws RejectedException {
    ModelHost host = engine.model(name, "name");
    if (!version.isEmpty() && !version.equals(VERSION)) {
      throw new RejectedException(Code.NOT_FOUND, "model " + host.name() + " has only version " + VERSION
          + " (or leave the version empty)");
    }
    return host;
  }

  @Override
  public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> observer) {
    ServerCallStreamObserver<ModelInferResponse> call = (ServerCallStreamObserver<ModelInferResponse>) observer;
    Tenant tenant = CallContext.tenant();
    Infer infer = null;
    try {
      engine.requireReady();
      ModelHost host;
      Parsed parsed;
      try {
        host = engine.model(request.getModelName(), "model_name");
        if (!request.getModelVersion().isEmpty() && !request.getModelVersion().equals(VERSION)) {
          throw new RejectedException(Code.NOT_FOUND, "model " + host.name() + " has only version " + VERSION
              + " (or leave model_version empty)");
        }
        parsed = parse(host, request);
      } catch (RejectedException e) {
        engine.invalid(tenant, e.getMessage());
        throw e;
      }
      infer = new Infer(call, engine, host, parsed);
      call.setOnCancelHandler(infer::cancelled);
      infer.submitted(engine.submit(tenant, parsed.spec(), null, CallContext.deadlineNanos(), infer).job());
    } catch (RejectedException e) {
      if (infer != null) {
        infer.rejected(e);
      } else {
        call.onError(Statuses.exception(e));
      }
    } catch (RuntimeException e) {
      var status = Statuses.internal(e, "starting a ModelInfer request", request.getId());
      if (infer != null) {
        infer.rejected(new RejectedException(Code.INTERNAL, status.getStatus().getDescription()));
      } else {
        call.onError(status);
      }
    }
  }

  /** A validated ModelInfer request. */
  record Parsed(GenerationSpec spec, List<String> outputs) {}

  /**
   * Maps a ModelInferRequest to a spec and the outputs to return.
   *
   * @throws RejectedException INVALID_ARGUMENT naming the input, parameter or output at fault
   */
  static Parsed parse(ModelHost host, ModelInferRequest request) throws RejectedException {
    List<ByteString> raw = request.getRawInputContentsList();
    int inputs = request.getInputsCount();
    if (!raw.isEmpty() && raw.size() != inputs) {
      throw invalid("raw_input_contents has " + raw.size() + " entries for " + inputs + " inputs; give one per"
          + " input, in the order of inputs, or none");
    }
    Map<String, Integer> index = new HashMap<>();
    for (int i = 0; i < inputs; i++) {
      String name = request.getInputs(i).getName();
      if (!INPUTS.contains(name)) {
        throw invalid("unknown input (name of " + name.length() + " characters); the inputs are class_labels,"
            + " guidance_scale, guidance_rescale");
      }
      if (index.put(name, i) != null) {
        throw invalid("input " + name + " is given twice");
      }
      if (!raw.isEmpty() && request.getInputs(i).hasContents()) {
        throw invalid("input " + name + ": contents is set although raw_input_contents is used; use one form for"
            + " all inputs");
      }
    }
    Integer labelsAt = index.get("class_labels");
    if (labelsAt == null) {
      throw invalid("input class_labels (INT32 [N], one class label per image) is required");
    }
    int[] labels = labels(request, labelsAt, raw, host.limits().maxImages());
    double guidance = scalar(request, index.get("guidance_scale"), raw);
    double rescale = scalar(request, index.get("guidance_rescale"), raw);
    long steps = DEFAULT_STEPS;
    String scheduler = DEFAULT_SCHEDULER;
    for (Map.Entry<String, InferParameter> p : request.getParametersMap().entrySet()) {
      switch (p.getKey()) {
        case "steps" -> {
          if (p.getValue().getParameterChoiceCase() != InferParameter.ParameterChoiceCase.INT64_PARAM) {
            throw invalid("parameter steps must be an int64_param");
          }
          steps = p.getValue().getInt64Param();
        }
        case "scheduler" -> {
          if (p.getValue().getParameterChoiceCase() != InferParameter.ParameterChoiceCase.STRING_PARAM) {
            throw invalid("parameter scheduler must be a string_param");
          }
          scheduler = p.getValue().getStringParam();
        }
        default -> throw invalid("unknown parameter (name of " + p.getKey().length() + " characters); the"
            + " parameters are steps (int64_param) and scheduler (string_param)");
      }
    }
    String id = request.getId();
    if (!id.isEmpty() && !GenerationSpec.REQUEST_ID.matcher(id).matches()) {
      throw invalid("id must be 1..128 characters from [A-Za-z0-9._:-], got " + id.length() + " characters");
    }
    List<String> outputs = new ArrayList<>();
    for (var out : request.getOutputsList()) {
      if (!OUTPUTS.contains(out.getName())) {
        throw invalid("unknown output (name of " + out.getName().length() + " characters); the outputs are images"
            + " (UINT8 [N, H, W, C]) and png (BYTES [N])");
      }
      if (outputs.contains(out.getName())) {
        throw invalid("output " + out.getName() + " is requested twice");
      }
      if (out.getParametersCount() > 0) {
        throw invalid("output " + out.getName() + ": output parameters are not supported");
      }
      outputs.add(out.getName());
    }
    if (outputs.isEmpty()) {
      outputs.addAll(OUTPUTS);
    }
    GenerationSpec spec = GenerationSpec.create(host.limits(), host.name(), id.isEmpty() ? UUID.randomUUID().toString()
        : id, labels, steps, scheduler, guidance, rescale, 0, 0, 0);
    return new Parsed(spec, List.copyOf(outputs));
  }

  private static int[] labels(ModelInferRequest request, int at, List<ByteString> raw, int maxImages)
      throws RejectedException {
    var input = request.getInputs(at);
    String name = "input class_labels";
    if (!input.getDatatype().equals("INT32")) {
      throw invalid(name + ": datatype must be INT32, got " + datatype(input.getDatatype()));
    }
    if (input.getShapeCount() != 1) {
      throw invalid(name + ": shape must be [N] (one label per image), got " + input.getShapeList());
    }
    long n = input.getShape(0);
    if (n < 1 || n > maxImages) {
      throw invalid(name + ": shape [N] needs N in 1.." + maxImages + ", got " + n);
    }
    int count = (int) n;
    int[] labels = new int[count];
    if (!raw.isEmpty()) {
      ByteString bytes = raw.get(at);
      if (bytes.size() != 4L * count) {
        throw invalid(name + ": raw_input_contents has " + bytes.size() + " bytes, expected " + (4L * count)
            + " (4 per INT32 x " + count + ")");
      }
      ByteBuffer b = bytes.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < count; i++) {
        labels[i] = b.getInt();
      }
      return labels;
    }
    InferTensorContents c = input.getContents();
    if (otherContents(c, "int") > 0) {
      throw invalid(name + ": only contents.int_contents may be set for INT32");
    }
    if (c.getIntContentsCount() != count) {
      throw invalid(name + ": contents.int_contents has " + c.getIntContentsCount() + " values, expected "
          + count + " (the shape)");
    }
    for (int i = 0; i < count; i++) {
      labels[i] = c.getIntContents(i);
    }
    return labels;
  }

  private static double scalar(ModelInferRequest request, Integer at, List<ByteString> raw) throws RejectedException {
    if (at == null) {
      return 0;
    }
    var input = request.getInputs(at);
    String name = "input " + input.getName();
    String type = input.getDatatype();
    if (!type.equals("FP32") && !type.equals("FP64")) {
      throw invalid(name + ": datatype must be FP32 or FP64, got " + datatype(type));
    }
    if (input.getShapeCount() != 1 || input.getShape(0) != 1) {
      throw invalid(name + ": shape must be [1], got " + input.getShapeList());
    }
    boolean fp32 = type.equals("FP32");
    if (!raw.isEmpty()) {
      ByteString bytes = raw.get(at);
      int expected = fp32 ? 4 : 8;
      if (bytes.size() != expected) {
        throw invalid(name + ": raw_input_contents has " + bytes.size() + " bytes, expected " + expected
            + " (one " + type + ")");
      }
      ByteBuffer b = bytes.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
      return fp32 ? b.getFloat() : b.getDouble();
    }
    InferTensorContents c = input.getContents();
    if (otherContents(c, fp32 ? "fp32" : "fp64") > 0) {
      throw invalid(name + ": only contents." + (fp32 ? "fp32" : "fp64") + "_contents may be set for " + type);
    }
    int values = fp32 ? c.getFp32ContentsCount() : c.getFp64ContentsCount();
    if (values != 1) {
      throw invalid(name + ": contents." + (fp32 ? "fp32" : "fp64") + "_contents has " + values
          + " values, expected 1");
    }
    return fp32 ? c.getFp32Contents(0) : c.getFp64Contents(0);
  }

  /** Values in every typed contents field except {@code keep}. */
  private static int otherContents(InferTensorContents c, String keep) {
    int n = 0;
    n += keep.equals("bool") ? 0 : c.getBoolContentsCount();
    n += keep.equals("int") ? 0 : c.getIntContentsCount();
    n += c.getInt64ContentsCount() + c.getUintContentsCount() + c.getUint64ContentsCount();
    n += keep.equals("fp32") ? 0 : c.getFp32ContentsCount();
    n += keep.equals("fp64") ? 0 : c.getFp64ContentsCount();
    n += c.getBytesContentsCount();
    return n;
  }

  private static String datatype(String type) {
    return DATATYPE.matcher(type).matches() ? type : "a datatype of " + type.length() + " characters";
  }

  private static RejectedException invalid(String message) {
    return new RejectedException(Code.INVALID_ARGUMENT, message);
  }

  /** One ModelInfer call waiting for its job; the response is encoded off the batcher's thread. */
  private static final class Infer implements JobListener {
    private final ServerCallStreamObserver<ModelInferResponse> call;
    private final Engine engine;
    private final ModelHost host;
    private final Parsed parsed;
    private final AtomicBoolean ended = new AtomicBoolean();
    private volatile Job job;
    private volatile boolean cancelRequested;

    Infer(ServerCallStreamObserver<ModelInferResponse> call, Engine engine, ModelHost host, Parsed parsed) {
      this.call = call;
      this.engine = engine;
      this.host = host;
      this.parsed = parsed;
    }

    void submitted(Job job) {
      this.job = job;
      if (cancelRequested) {
        cancelled();
      }
    }

    void rejected(RejectedException e) {
      if (ended.compareAndSet(false, true)) {
        call.onError(Statuses.exception(e));
      }
    }

    void cancelled() {
      cancelRequested = true;
      Job j = job;
      if (j != null) {
        engine.clientGone(j);
      }
    }

    @Override
    public void onCompleted(SamplingResult result) {
      if (!ended.compareAndSet(false, true)) {
        return;
      }
      Thread.ofVirtual().name("infer-" + parsed.spec().requestId()).start(() -> {
        try {
          call.onNext(response(result));
          call.onCompleted();
        } catch (RuntimeException e) {
          try {
            call.onError(Statuses.internal(e, "encoding a ModelInfer response", parsed.spec().requestId()));
          } catch (RuntimeException ignored) {
            // the call is gone
          }
        }
      });
    }

    @Override
    public void onFailed(Code code, String message) {
      if (ended.compareAndSet(false, true)) {
        Thread.ofVirtual().start(() -> call.onError(Statuses.exception(code, message)));
      }
    }

    private ModelInferResponse response(SamplingResult r) {
      GenerationSpec spec = parsed.spec();
      ModelInferResponse.Builder b = ModelInferResponse.newBuilder()
          .setModelName(host.name())
          .setModelVersion(VERSION)
          .setId(spec.requestId())
          .putParameters("model_sha256", string(host.pipeline().weightsSha256()))
          .putParameters("scheduler", string(spec.scheduler()))
          .putParameters("scheduler_class", string(host.schedulerClass(spec.scheduler())))
          .putParameters("steps", InferParameter.newBuilder().setInt64Param(spec.steps()).build())
          .putParameters("model_evaluations", InferParameter.newBuilder().setInt64Param(r.modelEvaluations()).build());
      int n = r.count();
      for (String output : parsed.outputs()) {
        if (output.equals("images")) {
          ByteArrayOutputStream pixels = new ByteArrayOutputStream(n * r.height() * r.width() * r.channels());
          for (int k = 0; k < n; k++) {
            pixels.writeBytes(r.rgb8(k));
          }
          b.addOutputs(ModelInferResponse.InferOutputTensor.newBuilder().setName("images").setDatatype("UINT8")
              .addShape(n).addShape(r.height()).addShape(r.width()).addShape(r.channels()));
          b.addRawOutputContents(ByteString.copyFrom(pixels.toByteArray()));
        } else {
          ByteArrayOutputStream pngs = new ByteArrayOutputStream();
          for (int k = 0; k < n; k++) {
            byte[] png = Renderer.png(r, k);
            int len = png.length;
            pngs.write(len & 0xff);
            pngs.write((len >>> 8) & 0xff);
            pngs.write((len >>> 16) & 0xff);
            pngs.write((len >>> 24) & 0xff);
            pngs.writeBytes(png);
          }
          b.addOutputs(ModelInferResponse.InferOutputTensor.newBuilder().setName("png").setDatatype("BYTES")
              .addShape(n));
          b.addRawOutputContents(ByteString.copyFrom(pngs.toByteArray()));
        }
      }
      return b.build();
    }

    private static InferParameter string(String s) {
      return InferParameter.newBuilder().setStringParam(s).build();
    }
  }
}
