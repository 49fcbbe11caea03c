package dev.sampler.engine.schedule;

import java.util.Arrays;

/**
 * diffusers' {@code DDPMScheduler} (ancestral sampling of Ho et al. 2020): the posterior mean
 * from the x0 estimate and the sample, plus noise of the chosen variance at every step but t = 0.
 *
 * <p>Config keys: the training schedule ({@link BetaSchedule#fromConfig}, with
 * {@code rescale_betas_zero_snr}), {@code timestep_spacing} (default "leading"),
 * {@code steps_offset}, {@code prediction_type}, {@code variance_type} ("fixed_small" default,
 * "fixed_small_log", "fixed_large"), {@code clip_sample} (default true) and
 * {@code clip_sample_range}. Refused: {@code thresholding} true, the learned variance types,
 * {@code trained_betas}.
 *
 * <p>Arithmetic: the scalar coefficients are float32 (they come from float32 alphas_cumprod
 * entries and Python numbers, which torch keeps float32), applied to float64 samples;
 * "fixed_small_log" takes float32 log and exp, correctly rounded ({@link Float32Math#log}).
 */
public final class DdpmScheduler implements NoiseScheduler {
  private static final String CLS = "DDPMScheduler";

  private final SchedulerConfig config;
  private final float[] alphasCumprod;
  private final String predictionType;
  private final String spacing;
  private final String varianceType;
  private final int stepsOffset;
  private final boolean clipSample;
  private final double clipSampleRange;
  private long[] timesteps;

  /**
   * Builds the scheduler from a config.
   *
   * @throws IllegalArgumentException naming the config's source, the key and the value, for a key
   *     this runtime does not implement
   */
  public DdpmScheduler(SchedulerConfig config) {
    this.config = config;
    BetaSchedule schedule = BetaSchedule.fromConfig(config, 0.0001, 0.02, true);
    this.alphasCumprod = schedule.alphasCumprod();
    this.predictionType = schedule.predictionType();
    this.spacing = config.getChoice("timestep_spacing", "leading", Spacing.SPACINGS);
    this.varianceType = config.getChoice("variance_type", "fixed_small", "fixed_small", "fixed_small_log",
        "fixed_large");
    SchedulerSupport.refuseTrue(config, "thresholding");
    this.stepsOffset = config.getInt("steps_offset", 0);
    this.clipSample = config.getBoolean("clip_sample", true);
    this.clipSampleRange = config.getDouble("clip_sample_range", 1.0);
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
    timesteps = Spacing.integer(spacing, numInferenceSteps, alphasCumprod.length, stepsOffset);
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
    long prevT = previousTimestep(t);
    float alphaProdT = SchedulerSupport.alphaAt(CLS, alphasCumprod, t);
    float alphaProdTPrev = prevT >= 0 ? SchedulerSupport.alphaAt(CLS, alphasCumprod, prevT) : 1f;
    float betaProdT = 1f - alphaProdT;
    float betaProdTPrev = 1f - alphaProdTPrev;
    float currentAlphaT = alphaProdT / alphaProdTPrev;
    float currentBetaT = 1f - currentAlphaT;

    double[] x0 = DdimScheduler.predictOriginal(predictionType, modelOutput, sample, alphaProdT, betaProdT);
    if (clipSample) {
      SchedulerSupport.clamp(x0, clipSampleRange);
    }
    double predCoeff = (Float32Math.sqrt(alphaProdTPrev) * currentBetaT) / betaProdT;
    double sampleCoeff = Float32Math.sqrt(currentAlphaT) * betaProdTPrev / betaProdT;
    double[] prev = new double[sample.length];
    for (int i = 0; i < prev.length; i++) {
      prev[i] = predCoeff * x0[i] + sampleCoeff * sample[i];
    }
    if (t > 0) {
      double[] z = new double[sample.length];
      noise.fill(z);
      double std = standardDeviation(alphaProdT, alphaProdTPrev, currentBetaT);
      for (int i = 0; i < prev.length; i++) {
        prev[i] = prev[i] + std * z[i];
      }
    }
    return new StepOutput(prev, x0);
  }

  /** The noise scale for this step, as each variance type computes it (float32). */
  private float standardDeviation(float alphaProdT, float alphaProdTPrev, float currentBetaT) {
    // _get_variance: the posterior variance, clamped away from zero
    float variance = (1f - alphaProdTPrev) / (1f - alphaProdT) * currentBetaT;
    variance = Math.max(variance, 1e-20f); // torch.clamp(min=1e-20): the bound in float32, NaN kept
    return switch (varianceType) {
      case "fixed_small_log" -> Float32Math.exp(0.5f * Float32Math.log(variance));
      case "fixed_large" -> Float32Math.sqrt(currentBetaT);
      default -> Float32Math.sqrt(variance);
    };
  }

  /** The next entry after {@code t} in the timesteps (its first occurrence), or -1 after the last. */
  private long previousTimestep(long t) {
    for (int i = 0; i < timesteps.length; i++) {
      if (timesteps[i] == t) {
        return i == timesteps.length - 1 ? -1 : timesteps[i + 1];
      }
    }
    throw new IllegalArgumentException(CLS + ": timestep " + t + " is not one of this scheduler's timesteps "
        + Arrays.toString(timesteps));
  }
}
