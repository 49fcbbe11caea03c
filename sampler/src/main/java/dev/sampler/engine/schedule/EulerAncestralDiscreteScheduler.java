package dev.sampler.engine.schedule;

/**
 * diffusers' {@code EulerAncestralDiscreteScheduler}: an Euler step down to {@code sigma_down},
 * then fresh noise of scale {@code sigma_up} (drawn at every step, the last included, where it is
 * scaled by zero).
 *
 * <p>Config keys: the training schedule ({@link BetaSchedule#fromConfig}, with
 * {@code rescale_betas_zero_snr} and the 2^-24 last alphas_cumprod), {@code timestep_spacing}
 * (default "linspace"), {@code steps_offset}, {@code prediction_type} "epsilon" or
 * "v_prediction". Refused: prediction_type "sample" (diffusers raises NotImplementedError at the
 * first step), {@code trained_betas}.
 */
public final class EulerAncestralDiscreteScheduler extends SigmaScheduler {
  private static final String CLS = "EulerAncestralDiscreteScheduler";

  /**
   * Builds the scheduler from a config.
   *
   * @throws IllegalArgumentException naming the config's source, the key and the value, for a key
   *     this runtime (or diffusers' class) does not implement
   */
  public EulerAncestralDiscreteScheduler(SchedulerConfig config) {
    super(CLS, config, BetaSchedule.withZeroSnrFloor(config, BetaSchedule.fromConfig(config, 0.0001, 0.02,
        true)));
    if (predictionType.equals("sample")) {
      throw new IllegalArgumentException(config.source() + ": unsupported value for 'prediction_type': \"sample\" "
          + "(supported: epsilon, v_prediction; diffusers' EulerAncestralDiscreteScheduler does not implement it)");
    }
  }

  @Override
  public void setTimesteps(int numInferenceSteps) {
    int numTrain = alphasCumprod.length;
    SchedulerSupport.checkSteps(CLS, numInferenceSteps, numTrain, false);
    float[] ts = Spacing.float32(spacing, numInferenceSteps, numTrain, stepsOffset);
    double[] sig = Sigmas.interp(ts, Sigmas.train(alphasCumprod));
    float[] s = new float[sig.length + 1];
    for (int i = 0; i < sig.length; i++) {
      s[i] = (float) sig[i];
    }
    this.timesteps = ts;
    this.sigmas = s;
    resetIndex();
  }

  @Override
  public StepOutput step(double[] modelOutput, double timestep, double[] sample, NoiseSource noise) {
    SchedulerSupport.requireTimesteps(CLS, sigmas != null);
    SchedulerSupport.requireSameLength(CLS, modelOutput, sample);
    initStepIndex(timestep);
    float sigma = sigmaAt(stepIndex);
    double[] x = toFloat32(sample); // diffusers: sample = sample.to(torch.float32)
    double[] x0 = predictOriginal(predictionType, modelOutput, x, sigma, true);
    float sigmaFrom = sigma;
    float sigmaTo = sigmaAt(stepIndex + 1);
    float to2 = sigmaTo * sigmaTo;
    float from2 = sigmaFrom * sigmaFrom;
    float sigmaUp = Float32Math.sqrt(to2 * (from2 - to2) / from2);
    float sigmaDown = Float32Math.sqrt(to2 - sigmaUp * sigmaUp);
    float dt = sigmaDown - sigma;
    double[] prev = new double[x.length];
    for (int i = 0; i < prev.length; i++) {
      double derivative = (x[i] - x0[i]) / sigma;
      prev[i] = x[i] + derivative * dt;
    }
    double[] z = new double[x.length];
    noise.fill(z);
    for (int i = 0; i < prev.length; i++) {
      prev[i] = prev[i] + z[i] * sigmaUp;
    }
    stepIndex++;
    return new StepOutput(prev, x0);
  }
}
