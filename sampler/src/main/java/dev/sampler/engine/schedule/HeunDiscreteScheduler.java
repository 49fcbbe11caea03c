package dev.sampler.engine.schedule;

/**
 * diffusers' {@code HeunDiscreteScheduler} (Karras et al. 2022, Algorithm 1 with s_churn 0): each
 * sigma interval takes an Euler step and then a trapezoid correction, so every timestep but the
 * first appears twice and the model runs twice per interval ({@link #order()} 2).
 *
 * <p>Config keys: the training schedule ({@link BetaSchedule#fromConfig}; defaults beta_start
 * 0.00085, beta_end 0.012; diffusers' Heun has no {@code rescale_betas_zero_snr} and ignores the
 * key, as does this), {@code timestep_spacing} (default "linspace"), {@code steps_offset},
 * {@code prediction_type}, {@code use_karras_sigmas} with {@code sigma_min}/{@code sigma_max}
 * where the config has them, {@code clip_sample} (default false), {@code clip_sample_range}.
 * Refused: {@code use_exponential_sigmas}, {@code use_beta_sigmas}, {@code trained_betas}.
 */
public final class HeunDiscreteScheduler extends SigmaScheduler {
  private static final String CLS = "HeunDiscreteScheduler";

  private final boolean karras;
  private final boolean clipSample;
  private final double clipSampleRange;
  // the first-order half of the current interval, kept for its correction (diffusers' state_in_first_order)
  private boolean inSecondOrder;
  private double[] prevDerivative;
  private float dt;
  private double[] firstSample;

  /**
   * Builds the scheduler from a config.
   *
   * @throws IllegalArgumentException naming the config's source, the key and the value, for a key
   *     this runtime does not implement
   */
  public HeunDiscreteScheduler(SchedulerConfig config) {
    super(CLS, config, BetaSchedule.fromConfig(config, 0.00085, 0.012, false));
    this.karras = config.getBoolean("use_karras_sigmas", false);
    SchedulerSupport.refuseTrue(config, "use_exponential_sigmas");
    SchedulerSupport.refuseTrue(config, "use_beta_sigmas");
    this.clipSample = config.getBoolean("clip_sample", false);
    this.clipSampleRange = config.getDouble("clip_sample_range", 1.0);
  }

  @Override
  public int order() {
    return 2;
  }

  @Override
  public void setTimesteps(int numInferenceSteps) {
    int numTrain = alphasCumprod.length;
    SchedulerSupport.checkSteps(CLS, numInferenceSteps, numTrain, false);
    float[] ts = Spacing.float32(spacing, numInferenceSteps, numTrain, stepsOffset);
    float[] train = Sigmas.train(alphasCumprod);
    double[] sig = Sigmas.interp(ts, train);
    if (karras) {
      // hidden config keys: diffusers' from_config keeps sigma_min/sigma_max in Heun's config
      double sigmaMin = config.getDouble("sigma_min", sig[sig.length - 1]);
      double sigmaMax = config.getDouble("sigma_max", sig[0]);
      sig = Sigmas.karras(sigmaMin, sigmaMax, numInferenceSteps);
      float[] logSigmas = Sigmas.logs(train);
      ts = new float[sig.length];
      for (int i = 0; i < sig.length; i++) {
        ts[i] = (float) Sigmas.sigmaToT(sig[i], logSigmas);
      }
    }
    // sigmas [s0, s1, s1, ..., s(n-1), s(n-1), 0]; timesteps [t0, t1, t1, ..., t(n-1), t(n-1)]
    int n = sig.length;
    float[] s = new float[2 * n];
    float[] t = new float[2 * n - 1];
    s[0] = (float) sig[0];
    t[0] = ts[0];
    for (int i = 1; i < n; i++) {
      s[2 * i - 1] = (float) sig[i];
      s[2 * i] = (float) sig[i];
      t[2 * i - 1] = ts[i];
      t[2 * i] = ts[i];
    }
    s[2 * n - 1] = 0f;
    this.timesteps = t;
    this.sigmas = s;
    this.inSecondOrder = false;
    this.prevDerivative = null;
    this.firstSample = null;
    resetIndex();
  }

  @Override
  public StepOutput step(double[] modelOutput, double timestep, double[] sample, NoiseSource noise) {
    SchedulerSupport.requireTimesteps(CLS, sigmas != null);
    SchedulerSupport.requireSameLength(CLS, modelOutput, sample);
    initStepIndex(timestep);
    boolean firstOrder = !inSecondOrder;
    float sigma;
    float sigmaNext;
    if (firstOrder) {
      sigma = sigmaAt(stepIndex);
      sigmaNext = sigmaAt(stepIndex + 1);
    } else {
      sigma = sigmaAt(stepIndex - 1);
      sigmaNext = sigmaAt(stepIndex);
    }
    float sigmaHat = sigma; // sigma * (gamma + 1) with gamma 0
    float sigmaInput = firstOrder ? sigmaHat : sigmaNext;
    double[] x0 = predictOriginal(predictionType, modelOutput, sample, sigmaInput, false);
    if (clipSample) {
      SchedulerSupport.clamp(x0, clipSampleRange);
    }
    double[] prev = new double[sample.length];
    if (firstOrder) {
      double[] derivative = new double[sample.length];
      float stepDt = sigmaNext - sigmaHat;
      for (int i = 0; i < prev.length; i++) {
        derivative[i] = (sample[i] - x0[i]) / sigmaHat;
        prev[i] = sample[i] + derivative[i] * stepDt;
      }
      prevDerivative = derivative;
      dt = stepDt;
      firstSample = sample.clone();
      inSecondOrder = true;
    } else {
      for (int i = 0; i < prev.length; i++) {
        double d = (sample[i] - x0[i]) / sigmaNext;
        d = (prevDerivative[i] + d) / 2;
        prev[i] = firstSample[i] + d * dt;
      }
      prevDerivative = null;
      firstSample = null;
      inSecondOrder = false;
    }
    stepIndex++;
    return new StepOutput(prev, x0);
  }
}
