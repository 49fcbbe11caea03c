package dev.sampler.engine.sampling;

import dev.sampler.engine.EngineException;
import dev.sampler.engine.ModelException;
import dev.sampler.engine.backend.TensorBackend;
import dev.sampler.engine.schedule.NoiseScheduler;
import dev.sampler.engine.schedule.NoiseSource;
import dev.sampler.engine.schedule.SchedulerConfig;
import dev.sampler.engine.schedule.Schedulers;
import dev.sampler.engine.unet.UNet2DConfig;
import dev.sampler.engine.unet.UNet2DModel;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;
import java.util.function.BooleanSupplier;

/**
 * A loaded model directory ready to sample: the UNet, its {@code scheduler_config.json}, its
 * {@code classes.json}, and the SHA-256 digests reported with every image. The counterpart of a
 * diffusers class-conditional pipeline ({@code DiTPipeline}-like): {@link #generate} picks a
 * scheduler by short name on top of the model's scheduler config and runs the {@link Sampler}.
 *
 * <p>Thread-safe: concurrent {@link #generate} calls each get their own scheduler; the UNet runs
 * one forward at a time.
 */
public final class DiffusionPipeline implements AutoCloseable {
  /** The scheduler config's file name in a model directory. */
  public static final String SCHEDULER_CONFIG = "scheduler_config.json";

  private final Path dir;
  private final UNet2DModel model;
  private final SchedulerConfig schedulerConfig;
  private final ClassLabels classes;
  private final Sampler sampler;
  private final String weightsSha256;
  private final String configSha256;

  private DiffusionPipeline(Path dir, UNet2DModel model, SchedulerConfig schedulerConfig, ClassLabels classes,
      String weightsSha256, String configSha256) {
    this.dir = dir;
    this.model = model;
    this.schedulerConfig = schedulerConfig;
    this.classes = classes;
    this.sampler = new Sampler(model, classes.nullClass());
    this.weightsSha256 = weightsSha256;
    this.configSha256 = configSha256;
  }

  /**
   * Loads {@code dir} (config.json, diffusion_pytorch_model.safetensors, scheduler_config.json,
   * and classes.json for a class-conditional model) on {@code backend}. The scheduler config is
   * checked by building every named scheduler from it once.
   *
   * @throws ModelException naming the file and the problem
   */
  public static DiffusionPipeline load(Path dir, TensorBackend backend) throws EngineException {
    SchedulerConfig sc = SchedulerConfig.read(dir.resolve(SCHEDULER_CONFIG));
    for (String name : Schedulers.names()) {
      Schedulers.named(name, sc);
    }
    String weights = sha256(dir.resolve(UNet2DModel.WEIGHTS_FILE));
    String config = sha256(dir.resolve(UNet2DModel.CONFIG_FILE));
    UNet2DModel model = UNet2DModel.load(dir, backend);
    if (model.config().outChannels() != model.config().inChannels()) {
      // The loop feeds the prediction back as the next sample (no learned-variance split).
      int in = model.config().inChannels(), out = model.config().outChannels();
      model.close();
      throw new ModelException(dir.resolve(UNet2DModel.CONFIG_FILE) + ": out_channels (" + out
          + ") must equal in_channels (" + in + ") to sample: the model's prediction is fed back as the next sample");
    }
    try {
      ClassLabels classes = ClassLabels.read(dir, model.config().numClassEmbeds());
      return new DiffusionPipeline(dir, model, sc, classes, weights, config);
    } catch (EngineException | RuntimeException e) {
      model.close();
      throw e;
    }
  }

  /**
   * Loads a model from bytes already in memory: the configuration files as read (and verified)
   * once, and weights parsed from memory (for example unsealed, never written to disk). Nothing is
   * read from the file system, so what was verified is exactly what is loaded. The weight values
   * are copied to {@code backend}; the caller owns {@code source.weights()} and may zero it once
   * this returns.
   *
   * @throws ModelException naming the file and the problem
   */
  public static DiffusionPipeline load(ModelSource source, TensorBackend backend) throws EngineException {
    SchedulerConfig sc = SchedulerConfig.parse(source.schedulerConfig(), SCHEDULER_CONFIG);
    for (String name : Schedulers.names()) {
      Schedulers.named(name, sc);
    }
    UNet2DConfig config = UNet2DConfig.parse(source.config(), UNet2DModel.CONFIG_FILE);
    UNet2DModel model = UNet2DModel.load(config, source.weights(), UNet2DModel.WEIGHTS_FILE, backend);
    if (model.config().outChannels() != model.config().inChannels()) {
      int in = model.config().inChannels(), out = model.config().outChannels();
      model.close();
      throw new ModelException(source.name() + "/" + UNet2DModel.CONFIG_FILE + ": out_channels (" + out
          + ") must equal in_channels (" + in + ") to sample: the model's prediction is fed back as the next sample");
    }
    try {
      ClassLabels classes;
      if (source.classes() != null) {
        classes = ClassLabels.parse(source.classes(), model.config().numClassEmbeds());
      } else if (model.config().numClassEmbeds() == null) {
        classes = new ClassLabels(java.util.List.of(), null);
      } else {
        throw new ModelException(source.name() + "/" + ClassLabels.FILE
            + ": missing; a class-conditional model needs its class names and null class");
      }
      return new DiffusionPipeline(source.directory(), model, sc, classes, source.weightsSha256(),
          sha256(source.config()));
    } catch (EngineException | RuntimeException e) {
      model.close();
      throw e;
    }
  }

  /**
   * Samples {@code request} with the scheduler {@code schedulerName} (one of
   * {@link Schedulers#names()}).
   *
   * @throws ModelException for an unknown scheduler name
   * @throws IllegalArgumentException if the request does not fit the model
   * @throws SamplingCancelledException if cancelled
   */
  public SamplingResult generate(SamplingRequest request, String schedulerName, NoiseSource noise,
      SamplingListener listener, BooleanSupplier cancelled) throws EngineException {
    NoiseScheduler scheduler = Schedulers.named(schedulerName, schedulerConfig);
    return sampler.run(request, scheduler, noise, listener, cancelled);
  }

  /** Checks a request without running it (labels, guidance). */
  public void validate(SamplingRequest request) {
    sampler.validate(request);
  }

  /** The model directory. */
  public Path directory() {
    return dir;
  }

  /**
   * The sampler over this pipeline's UNet and null class: a step-level batcher starts one {@link
   * SamplingSession} per request with {@link Sampler#start} and packs their rows into shared
   * forwards.
   */
  public Sampler sampler() {
    return sampler;
  }

  /** The UNet. */
  public UNet2DModel model() {
    return model;
  }

  /** The model's scheduler config as read. */
  public SchedulerConfig schedulerConfig() {
    return schedulerConfig;
  }

  /** Class names and the null class. */
  public ClassLabels classes() {
    return classes;
  }

  /** SHA-256 of diffusion_pytorch_model.safetensors (lower-case hex). */
  public String weightsSha256() {
    return weightsSha256;
  }

  /** SHA-256 of config.json. */
  public String configSha256() {
    return configSha256;
  }

  /** SHA-256 of scheduler_config.json as read. */
  public String schedulerConfigSha256() {
    return schedulerConfig.sha256();
  }

  @Override
  public void close() {
    model.close();
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  private static String sha256(Path file) throws ModelException {
    try (InputStream in = Files.newInputStream(file)) {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (IOException e) {
      throw new ModelException(file + ": cannot read: " + e.getMessage(), e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  @Override
  public String toString() {
    return "DiffusionPipeline[" + Objects.toString(dir) + "]";
  }
}
