package dev.sampler.engine.schedule;

import java.util.Arrays;

/**
 * diffusers' {@code DDIMScheduler} (Song et al. 2020): deterministic for {@code eta} 0, with
 * {@code eta * sigma_t} noise otherwise.
 *
 * <p>Config keys: the training schedule ({@link BetaSchedule#fromConfig}, with
 * {@code rescale_betas_zero_snr}), {@code timestep_spacing} (default "leading"),
 * {@code steps_offset}, {@code prediction_type}, {@code clip_sample} (default true),
 * {@code clip_sample_range}, {@code set_alpha_to_one} (default true). diffusers' step() arguments
 * are read from the config too, under the same names: {@code eta} (default 0.0) and
 * {@code use_clipped_model_output} (default false). Refused: {@code thresholding} true,
 * {@code trained_betas}.
 *
 * <p>As in diffusers, the previous timestep is {@code t - num_train_timesteps / n} (integer
 * division) whatever the spacing, and the scalar coefficients are float32.
 */
public final class DdimScheduler implements NoiseScheduler {
  private static final String CLS = "DDIMScheduler";

  private final SchedulerConfig config;
  private final float[] alphasCumprod;
  private final float finalAlphaCumprod;
  private final String predictionType;
  private final String spacing;
  private final int stepsOffset;
  private final boolean clipSample;
  private final double clipSampleRange;
  private final double eta;
  private final boolean useClippedModelOutput;
  private long[] timesteps;
  private int numInferenceSteps;

  /**
   * Builds the scheduler from a config.
   *
   * @throws IllegalArgumentException naming the config's source, the key and the value, for a key
   *     this runtime does not implement or a negative or non-finite {@code eta}
   */
  public DdimScheduler(SchedulerConfig config) {
    this.config = config;
    BetaSchedule schedule = BetaSchedule.fromConfig(config, 0.0001, 0.02, true);
    this.alphasCumprod = schedule.alphasCumprod();
    this.predictionType = schedule.predictionType();
    this.finalAlphaCumprod = config.getBoolean("set_alpha_to_one", true) ? 1f : alphasCumprod[0];
    this.spacing = config.getChoice("timestep_spacing", "leading", Spacing.SPACINGS);
    SchedulerSupport.refuseTrue(config, "thresholding");
    this.stepsOffset = config.getInt("steps_offset", 0);
    this.clipSample = config.getBoolean("clip_sample", true);
    this.clipSampleRange = config.getDouble("clip_sample_range", 1.0);
    this.eta = config.getDouble("eta", 0.0);
    if (!(eta >= 0) || Double.isInfinite(eta)) {
      throw new IllegalArgumentException(config.source() + ": unsupported value for 'eta': " + eta
          + " (supported: a finite number >= 0)");
    }
    this.useClippedModelOutput = config.getBoolean("use_clipped_model_output", false);
  }

  @Override
  public String className() {
    return CLS;
  }

  @Override
  public SchedulerConfig config() {
    return config;
  }

  @Override
  public int order() {
    return 1;
  }

  @Override
  public void setTimesteps(int numInferenceSteps) {
    SchedulerSupport.checkSteps(CLS, numInferenceSteps, alphasCumprod.length, true);
    this.timesteps = Spacing.integer(spacing, numInferenceSteps, alphasCumprod.length, stepsOffset);
    this.numInferenceSteps = numInferenceSteps;
  }

  @Override
  public double[] timesteps() {
    if (timesteps == null) {
      return new double[0];
    }
    return Arrays.stream(timesteps).asDoubleStream().toArray();
  }

  @Override
  public double[] sigmas() {
    return new double[0];
  }

  @Override
  public double initNoiseSigma() {
    return 1.0;
  }

  @Override
  public double[] scaleModelInput(double[] sample, double timestep) {
    return sample.clone();
  }

  @Override
  public StepOutput step(double[] modelOutput, double timestep, double[] sample, NoiseSource noise) {
    SchedulerSupport.requireTimesteps(CLS, timesteps != null);
    SchedulerSupport.requireSameLength(CLS, modelOutput, sample);
    long t = SchedulerSupport.integralTimestep(CLS, timestep);
    long prevT = t - alphasCumprod.length / numInferenceSteps;
    float alphaProdT = SchedulerSupport.alphaAt(CLS, alphasCumprod, t);
    float alphaProdTPrev = prevT >= 0 ? SchedulerSupport.alphaAt(CLS, alphasCumprod, prevT) : finalAlphaCumprod;
    float betaProdT = 1f - alphaProdT;
    double sa = Float32Math.sqrt(alphaProdT);
    double sb = Float32Math.sqrt(betaProdT);

    double[] x0 = predictOriginal(predictionType, modelOutput, sample, alphaProdT, betaProdT);
    double[] eps = new double[sample.length];
    for (int i = 0; i < eps.length; i++) {
      eps[i] = switch (predictionType) {
        case "epsilon" -> modelOutput[i];
        case "sample" -> (sample[i] - sa * x0[i]) / sb;
        default -> sa * modelOutput[i] + sb * sample[i]; // v_prediction
      };
    }
    if (clipSample) {
      SchedulerSupport.clamp(x0, clipSampleRange);
    }
    // _get_variance, then std = eta * sqrt(variance): float32
    float betaProdTPrev = 1f - alphaProdTPrev;
    float variance = (betaProdTPrev / betaProdT) * (1f - alphaProdT / alphaProdTPrev);
    float std = (float) eta * Float32Math.sqrt(variance);
    if (useClippedModelOutput) {
      for (int i = 0; i < eps.length; i++) {
        eps[i] = (sample[i] - sa * x0[i]) / sb;
      }
    }
    double direction = Float32Math.sqrt(1f - alphaProdTPrev - std * std);
    double sPrev = Float32Math.sqrt(alphaProdTPrev);
    double[] prev = new double[sample.length];
    for (int i = 0; i < prev.length; i++) {
      prev[i] = sPrev * x0[i] + direction * eps[i];
    }
    if (eta > 0) {
      double[] z = new double[sample.length];
      noise.fill(z);
      for (int i = 0; i < prev.length; i++) {
        prev[i] = prev[i] + std * z[i];
      }
    }
    return new StepOutput(prev, x0);
  }

  /**
   * The x0 estimate of DDPM/DDIM from float32 alpha-bar and 1 - alpha-bar: epsilon
   * {@code (x - sqrt(b) m) / sqrt(a)}, v {@code sqrt(a) x - sqrt(b) m}, sample {@code m}; the
   * square roots float32, the rest float64.
   */
  static double[] predictOriginal(String predictionType, double[] m, double[] x, float alphaProdT, float betaProdT) {
    double sa = Float32Math.sqrt(alphaProdT);
    double sb = Float32Math.sqrt(betaProdT);
    double[] x0 = new double[x.length];
    for (int i = 0; i < x0.length; i++) {
      x0[i] = switch (predictionType) {
        case "epsilon" -> (x[i] - sb * m[i]) / sa;
        case "v_prediction" -> sa * x[i] - sb * m[i];
        default -> m[i]; // sample
      };
    }
    return x0;
  }
}
