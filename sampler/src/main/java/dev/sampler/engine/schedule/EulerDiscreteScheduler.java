package dev.sampler.engine.schedule;

/**
 * diffusers' {@code EulerDiscreteScheduler} (Karras et al. 2022, Algorithm 2 with s_churn 0): one
 * Euler step of the probability-flow ODE in sigma per timestep.
 *
 * <p>Config keys: the training schedule ({@link BetaSchedule#fromConfig}, with
 * {@code rescale_betas_zero_snr}, which also sets the last alphas_cumprod to 2^-24 as diffusers
 * does), {@code timestep_spacing} (default "linspace"), {@code steps_offset},
 * {@code prediction_type}, {@code interpolation_type} ("linear" default, "log_linear"),
 * {@code use_karras_sigmas} with optional {@code sigma_min}/{@code sigma_max},
 * {@code timestep_type} "discrete" (default; "continuous" is accepted where diffusers computes
 * the same as discrete, i.e. unless prediction_type is v_prediction), {@code final_sigmas_type}
 * ("zero" default, "sigma_min"). The step uses diffusers' defaults s_churn 0, s_tmin 0,
 * s_tmax inf, s_noise 1, so it is deterministic and draws no noise. Refused:
 * {@code use_exponential_sigmas}, {@code use_beta_sigmas}, {@code trained_betas}, continuous
 * timesteps with v_prediction.
 *
 * <p>Like diffusers, it accepts more steps than training timesteps (diffusers then fails at a
 * later step, and so does this).
 */
public final class EulerDiscreteScheduler extends SigmaScheduler {
  private static final String CLS = "EulerDiscreteScheduler";

  private final String interpolation;
  private final boolean karras;
  private final String finalSigmasType;

  /**
   * Builds the scheduler from a config.
   *
   * @throws IllegalArgumentException naming the config's source, the key and the value, for a key
   *     this runtime does not implement
   */
  public EulerDiscreteScheduler(SchedulerConfig config) {
    super(CLS, config, BetaSchedule.withZeroSnrFloor(config, BetaSchedule.fromConfig(config, 0.0001, 0.02, true)));
    this.interpolation = config.getChoice("interpolation_type", "linear", "linear", "log_linear");
    this.karras = config.getBoolean("use_karras_sigmas", false);
    SchedulerSupport.refuseTrue(config, "use_exponential_sigmas");
    SchedulerSupport.refuseTrue(config, "use_beta_sigmas");
    String timestepType = config.getChoice("timestep_type", "discrete", "discrete", "continuous");
    if (timestepType.equals("continuous") && predictionType.equals("v_prediction")) {
      throw new IllegalArgumentException(config.source() + ": unsupported value for 'timestep_type': \"continuous\" "
          + "with prediction_type \"v_prediction\" (supported: \"discrete\"; continuous v-prediction timesteps "
          + "are not implemented)");
    }
    this.finalSigmasType = config.getChoice("final_sigmas_type", "zero", "zero", "sigma_min");
  }

  @Override
  public void setTimesteps(int numInferenceSteps) {
    int numTrain = alphasCumprod.length;
    SchedulerSupport.checkSteps(CLS, numInferenceSteps, numTrain, false);
    float[] ts = Spacing.float32(spacing, numInferenceSteps, numTrain, stepsOffset);
    float[] train = Sigmas.train(alphasCumprod);
    float[] logSigmas = Sigmas.logs(train);
    double[] sig;
    if (interpolation.equals("linear")) {
      sig = Sigmas.interp(ts, train);
    } else {
      sig = Sigmas.toDouble(Sigmas.logLinear(train, numInferenceSteps));
    }
    if (karras) {
      double sigmaMin = config.getDouble("sigma_min", sig[sig.length - 1]);
      double sigmaMax = config.getDouble("sigma_max", sig[0]);
      sig = Sigmas.karras(sigmaMin, sigmaMax, numInferenceSteps);
      ts = new float[sig.length];
      for (int i = 0; i < sig.length; i++) {
        ts[i] = (float) Sigmas.sigmaToT(sig[i], logSigmas);
      }
    }
    float last = finalSigmasType.equals("sigma_min") ? train[0] : 0f;
    float[] s = new float[sig.length + 1];
    for (int i = 0; i < sig.length; i++) {
      s[i] = (float) sig[i];
    }
    s[sig.length] = last;
    this.timesteps = ts;
    this.sigmas = s;
    resetIndex();
  }

  @Override
  public StepOutput step(double[] modelOutput, double timestep, double[] sample, NoiseSource noise) {
    SchedulerSupport.requireTimesteps(CLS, sigmas != null);
    SchedulerSupport.requireSameLength(CLS, modelOutput, sample);
    initStepIndex(timestep);
    double[] x = toFloat32(sample); // diffusers: sample = sample.to(torch.float32)
    float sigma = sigmaAt(stepIndex);
    float sigmaNext = sigmaAt(stepIndex + 1);
    float sigmaHat = sigma; // sigma * (gamma + 1) with gamma 0 (s_churn 0)
    double[] x0 = predictOriginal(predictionType, modelOutput, x, sigmaHat, true);
    float dt = sigmaNext - sigmaHat;
    double[] prev = new double[x.length];
    for (int i = 0; i < prev.length; i++) {
      double derivative = (x[i] - x0[i]) / sigmaHat;
      prev[i] = x[i] + derivative * dt;
    }
    stepIndex++;
    return new StepOutput(prev, x0);
  }
}
