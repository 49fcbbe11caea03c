package dev.sampler.server.engine;

import dev.sampler.api.v1.ModelInfo;
import dev.sampler.engine.EngineException;
import dev.sampler.engine.backend.BackendOptions;
import dev.sampler.engine.backend.Backends;
import dev.sampler.engine.backend.TensorBackend;
import dev.sampler.engine.quality.ColourShapeChecker;
import dev.sampler.engine.sampling.DiffusionPipeline;
import dev.sampler.engine.sampling.SamplingRequest;
import dev.sampler.engine.schedule.Schedulers;
import dev.sampler.scheduler.ModelLimits;
import dev.sampler.server.config.ModelSettings;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One served model: its loaded pipeline, the limits requests are validated against, and what
 * ListModels/GetModel and KServe metadata report about it.
 */
public final class ModelHost implements AutoCloseable {
  private final String name;
  private final DiffusionPipeline pipeline;
  private final ModelLimits limits;
  private final Map<String, String> schedulerClasses;
  private final boolean checkable;
  private final TensorBackend backend;

  /**
   * Wraps an already loaded pipeline under {@code name}; {@link #close()} closes the pipeline and,
   * if not null, {@code backend}.
   */
  public ModelHost(String name, DiffusionPipeline pipeline, TensorBackend backend) throws EngineException {
    this.backend = backend;
    this.name = Objects.requireNonNull(name, "name");
    this.pipeline = Objects.requireNonNull(pipeline, "pipeline");
    List<String> labels = pipeline.classes().labels();
    this.limits = new ModelLimits(labels.size(), pipeline.classes().nullClass(), pipeline.model().sampleHeight(),
        Schedulers.names(), ModelLimits.DEFAULT_MAX_STEPS, SamplingRequest.MAX_IMAGES);
    Map<String, String> classes = new LinkedHashMap<>();
    for (String s : Schedulers.names()) {
      classes.put(s, Schedulers.named(s, pipeline.schedulerConfig()).className());
    }
    this.schedulerClasses = Map.copyOf(classes);
    this.checkable = pipeline.model().config().outChannels() == 3 && labels.equals(ColourShapeChecker.CLASS_NAMES);
  }

  /**
   * Creates the configured backend and loads the model directory on it.
   *
   * @throws EngineException naming the backend or the model file that failed
   */
  public static ModelHost load(ModelSettings settings) throws EngineException {
    int threads = settings.threads() > 0 ? settings.threads() : Runtime.getRuntime().availableProcessors();
    BackendOptions options = new BackendOptions(threads, settings.properties());
    TensorBackend backend = Backends.create(settings.backend(), options);
    try {
      return new ModelHost(settings.name(), DiffusionPipeline.load(settings.dir(), backend), backend);
    } catch (EngineException | RuntimeException e) {
      try {
        backend.close();
      } catch (RuntimeException ignored) {
        // the load failure is what the operator needs to see
      }
      throw e;
    }
  }

  /** The name clients use. */
  public String name() {
    return name;
  }

  /** The loaded pipeline. */
  public DiffusionPipeline pipeline() {
    return pipeline;
  }

  /** What requests are validated against. */
  public ModelLimits limits() {
    return limits;
  }

  /** Image side in pixels. */
  public int sampleSize() {
    return pipeline.model().sampleHeight();
  }

  /** Image channels. */
  public int channels() {
    return pipeline.model().config().outChannels();
  }

  /** The diffusers class the scheduler short name {@code scheduler} runs. */
  public String schedulerClass(String scheduler) {
    return schedulerClasses.getOrDefault(scheduler, "");
  }

  /** True if the demo model's colour/shape checker applies to this model's images. */
  public boolean checkable() {
    return checkable;
  }

  /** The class name of label {@code label}, or "" if it has none. */
  public String label(int label) {
    List<String> labels = pipeline.classes().labels();
    return label >= 0 && label < labels.size() ? labels.get(label) : "";
  }

  /** The model as ListModels and GetModel describe it. */
  public ModelInfo info(boolean ready) {
    ModelInfo.Builder b = ModelInfo.newBuilder()
        .setName(name)
        .setModelSha256(pipeline.weightsSha256())
        .setModelConfigSha256(pipeline.configSha256())
        .setSchedulerConfigSha256(pipeline.schedulerConfigSha256())
        .setSampleSize(sampleSize())
        .setChannels(channels())
        .addAllClassLabels(pipeline.classes().labels())
        .addAllSchedulers(limits.schedulers())
        .setConfigSchedulerClass(pipeline.schedulerConfig().className())
        .setMaxImagesPerRequest(limits.maxImages())
        .setMaxSteps(limits.maxSteps())
        .setReady(ready);
    if (pipeline.classes().nullClass() != null) {
      b.setNullClass(pipeline.classes().nullClass());
    }
    return b.build();
  }

  /** Closes the pipeline and the backend it owns. */
  @Override
  public void close() {
    pipeline.close();
    if (backend != null) {
      backend.close();
    }
  }
}
