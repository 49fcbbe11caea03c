package dev.sampler.engine.schedule;

import java.util.Arrays;

/**
 * diffusers' {@code DPMSolverMultistepScheduler} (DPM-Solver++ and its SDE variant, orders 1 to
 * 3), reproducing diffusers at commit 58eb52c0 including its float32 arithmetic: sigmas are a
 * float32 table; alpha_t, sigma_t, lambda_t, h and every step coefficient are float32 scalars
 * (torch 0-d tensors; their log and exp correctly rounded, see {@link Float32Math});
 * {@code step} rounds the sample to float32 before the update ({@code sample.to(torch.float32)})
 * and multiplies it by a float32 coefficient in float32, while the data predictions and their
 * differences stay float64; the SDE noise is float32 ({@code randn_tensor(dtype=torch.float32)}),
 * so values from the {@link NoiseSource} are rounded to float32.
 *
 * <p>Supported keys: {@code num_train_timesteps}, {@code beta_start}, {@code beta_end},
 * {@code beta_schedule} (linear, scaled_linear, squaredcos_cap_v2), {@code solver_order} (1, 2,
 * 3), {@code prediction_type} (epsilon, v_prediction, sample), {@code algorithm_type}
 * (dpmsolver++, sde-dpmsolver++; deis is read as dpmsolver++ as diffusers does, and like
 * diffusers refused with final_sigmas_type zero),
 * {@code solver_type} (midpoint, heun; logrho, bh1 and bh2 are read as midpoint as diffusers
 * does), {@code lower_order_final}, {@code euler_at_final}, {@code use_karras_sigmas},
 * {@code final_sigmas_type} (zero, sigma_min), {@code lambda_min_clipped},
 * {@code timestep_spacing} (linspace, leading, trailing), {@code steps_offset},
 * {@code rescale_betas_zero_snr}. Refused with an {@link IllegalArgumentException} naming the
 * source, key and value: algorithm types dpmsolver and sde-dpmsolver, {@code thresholding},
 * {@code variance_type} learned or learned_range, {@code trained_betas},
 * {@code use_exponential_sigmas}, {@code use_beta_sigmas}, {@code use_lu_lambdas},
 * {@code use_flow_sigmas}, {@code use_dynamic_shifting}, prediction type flow_prediction.
 * More inference steps than {@code num_train_timesteps} are accepted, as diffusers accepts them.
 *
 * <p>{@link #step} returns no x0 estimate ({@code predOriginalSample} null), as diffusers'
 * returns only {@code prev_sample}.
 */
public final class DpmSolverMultistepScheduler implements NoiseScheduler {
  private static final String NAME = "DPMSolverMultistepScheduler";

  private final SchedulerConfig config;
  private final BetaSchedule schedule;
  /** ((1 - alphas_cumprod) / alphas_cumprod) ** 0.5 in float32, one per training timestep. */
  private final float[] trainSigmas;
  private final int solverOrder;
  private final String predictionType;
  private final boolean sde;
  private final boolean heun;
  private final boolean lowerOrderFinal;
  private final boolean eulerAtFinal;
  private final boolean useKarras;
  private final boolean finalSigmaZero;
  private final float lambdaMinClipped;
  private final String spacing;
  private final int stepsOffset;

  private long[] timesteps;
  private float[] sigmas;
  private double[][] modelOutputs;
  private int lowerOrderNums;
  private int stepIndex = -1;

  /**
   * A scheduler configured from {@code config} (diffusers' {@code from_config}: unknown keys are
   * ignored, missing keys take diffusers' defaults).
   *
   * @throws IllegalArgumentException for a key with an unsupported value (the message names the
   *     config source, the key and the value)
   */
  public DpmSolverMultistepScheduler(SchedulerConfig config) {
    this.config = config;
    String src = config.source();
    this.schedule = BetaSchedule.forMultistep(config);
    this.trainSigmas = Sigmas.train(schedule.alphasCumprod());
    this.solverOrder = SchedulerSupport.solverOrder(config, 1, 2, 3);
    this.predictionType = schedule.predictionType();
    String algorithm = config.getString("algorithm_type", "dpmsolver++");
    switch (algorithm) {
      case "dpmsolver++", "deis" -> this.sde = false;
      case "sde-dpmsolver++" -> this.sde = true;
      default -> throw new IllegalArgumentException(src + ": unsupported value for 'algorithm_type': \"" + algorithm
          + "\" (supported: dpmsolver++, sde-dpmsolver++)");
    }
    String solverType = config.getString("solver_type", "midpoint");
    switch (solverType) {
      case "midpoint", "logrho", "bh1", "bh2" -> this.heun = false;
      case "heun" -> this.heun = true;
      default -> throw new IllegalArgumentException(src + ": unsupported value for 'solver_type': \"" + solverType
          + "\" (supported: midpoint, heun)");
    }
    SchedulerSupport.refuseTrue(config, "thresholding");
    // diffusers slices a learned variance off the model output only for these two values; any
    // other value (a DDPM config's "fixed_small", say) is ignored as diffusers ignores it
    String varianceType = config.getString("variance_type", null);
    if ("learned".equals(varianceType) || "learned_range".equals(varianceType)) {
      throw new IllegalArgumentException(src + ": unsupported value for 'variance_type': \"" + varianceType
          + "\" (supported: null or a fixed variance type; a model that also predicts its variance is not supported)");
    }
    for (String key : new String[] {"use_exponential_sigmas", "use_beta_sigmas", "use_lu_lambdas", "use_flow_sigmas",
        "use_dynamic_shifting"}) {
      SchedulerSupport.refuseTrue(config, key);
    }
    this.lowerOrderFinal = config.getBoolean("lower_order_final", true);
    this.eulerAtFinal = config.getBoolean("euler_at_final", false);
    this.useKarras = config.getBoolean("use_karras_sigmas", false);
    this.finalSigmaZero = config.getChoice("final_sigmas_type", "zero", "zero", "sigma_min").equals("zero");
    if (algorithm.equals("deis") && finalSigmaZero) {
      // diffusers checks final_sigmas_type against the algorithm_type as given, before reading deis
      // as dpmsolver++
      throw new IllegalArgumentException(src + ": unsupported value for 'final_sigmas_type': \"zero\" with"
          + " 'algorithm_type' \"deis\" (supported: sigma_min, as in diffusers)");
    }
    // torch.searchsorted compares in the sequence's dtype: the threshold is rounded to float32
    this.lambdaMinClipped = (float) config.getDouble("lambda_min_clipped", Double.NEGATIVE_INFINITY);
    this.spacing = config.getChoice("timestep_spacing", "linspace", Spacing.SPACINGS);
    this.stepsOffset = config.getInt("steps_offset", 0);
  }

  @Override
  public String className() {
    return NAME;
  }

  @Override
  public SchedulerConfig config() {
    return config;
  }

  @Override
  public int order() {
    return 1;
  }

  /**
   * diffusers' {@code set_timesteps(n)}; also resets the multistep history.
   *
   * @throws IllegalArgumentException if {@code numInferenceSteps} is below 1 (more steps than
   *     {@code num_train_timesteps} are accepted, as diffusers accepts them: timesteps repeat)
   */
  @Override
  public void setTimesteps(int numInferenceSteps) {
    SchedulerSupport.checkSteps(NAME + ".setTimesteps", numInferenceSteps, schedule.numTrainTimesteps(), false);
    int n = numInferenceSteps;
    long[] ts;
    double[] sig;
    if (useKarras) {
      float[] logSigmas = Sigmas.logs(trainSigmas);
      sig = Sigmas.karras(trainSigmas[0], trainSigmas[trainSigmas.length - 1], n);
      ts = new long[n];
      boolean round = !schedule.betaSchedule().equals("squaredcos_cap_v2");
      for (int i = 0; i < n; i++) {
        double t = Sigmas.sigmaToT(sig[i], logSigmas);
        ts[i] = (long) (round ? Math.rint(t) : t);
      }
    } else {
      ts = Spacing.multistep(spacing, n, schedule.numTrainTimesteps(),
          schedule.numTrainTimesteps() - clippedIndex(), stepsOffset);
      sig = Sigmas.interp(ts, trainSigmas);
    }
    float[] s = new float[ts.length + 1];
    for (int i = 0; i < ts.length; i++) {
      s[i] = (float) sig[i];
    }
    float ac0 = schedule.alphasCumprod()[0];
    s[ts.length] = finalSigmaZero ? 0f : Float32Math.sqrt((1f - ac0) / ac0);
    this.timesteps = ts;
    this.sigmas = s;
    this.modelOutputs = new double[solverOrder][];
    this.lowerOrderNums = 0;
    this.stepIndex = -1;
  }

  /**
   * torch.searchsorted(torch.flip(lambda_t), lambda_min_clipped): a lower-bound binary search over
   * the float32 lambdas in increasing-timestep-reversed order.
   */
  private int clippedIndex() {
    float[] ac = schedule.alphasCumprod();
    int n = ac.length;
    float[] flipped = new float[n];
    for (int i = 0; i < n; i++) {
      float a = ac[n - 1 - i];
      flipped[i] = Float32Math.log(Float32Math.sqrt(a)) - Float32Math.log(Float32Math.sqrt(1f - a));
    }
    int lo = 0;
    int hi = n;
    while (lo < hi) {
      int mid = lo + ((hi - lo) >> 1);
      if (!(flipped[mid] >= lambdaMinClipped)) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  @Override
  public double[] timesteps() {
    requireTimesteps();
    return Sigmas.toDouble(timesteps);
  }

  @Override
  public double[] sigmas() {
    requireTimesteps();
    return Sigmas.toDouble(sigmas);
  }

  @Override
  public double initNoiseSigma() {
    return 1.0;
  }

  @Override
  public double[] scaleModelInput(double[] sample, double timestep) {
    return sample.clone();
  }

  /**
   * One DPM-Solver++ step. The SDE variant draws {@code sample.length} standard normals from
   * {@code noise} exactly once per step (also on the last step, as diffusers does); the ODE
   * variant never calls it.
   *
   * @throws IllegalStateException if {@link #setTimesteps} was not called
   * @throws IllegalArgumentException if the arrays' lengths differ, or every step of the schedule
   *     has been taken (where diffusers fails with an IndexError or AssertionError)
   */
  @Override
  public StepOutput step(double[] modelOutput, double timestep, double[] sample, NoiseSource noise) {
    requireTimesteps();
    SchedulerSupport.requireSameLength(NAME + ".step", "model_output", modelOutput, sample);
    if (stepIndex < 0) {
      stepIndex = Sigmas.indexOrLast(timesteps, timestep);
    }
    int n = timesteps.length;
    if (stepIndex >= n) {
      throw SchedulerSupport.noStepLeft(NAME, timestep, n);
    }
    boolean lowerOrderFinalStep = stepIndex == n - 1
        && (eulerAtFinal || (lowerOrderFinal && n < 15) || finalSigmaZero);
    boolean lowerOrderSecond = stepIndex == n - 2 && lowerOrderFinal && n < 15;

    // the noise first (diffusers draws it after updating the history; the order does not change
    // any value): a source that fails leaves this scheduler as it was
    float[] noise32 = null;
    if (sde) {
      double[] z = new double[sample.length];
      noise.fill(z);
      noise32 = Sigmas.toFloat(z);
    }
    double[] x0 = convertModelOutput(modelOutput, sample);
    for (int i = 0; i < solverOrder - 1; i++) {
      modelOutputs[i] = modelOutputs[i + 1];
    }
    modelOutputs[solverOrder - 1] = x0;
    float[] sample32 = Sigmas.toFloat(sample);
    double[] prev;
    if (solverOrder == 1 || lowerOrderNums < 1 || lowerOrderFinalStep) {
      prev = firstOrder(x0, sample32, noise32);
    } else if (solverOrder == 2 || lowerOrderNums < 2 || lowerOrderSecond) {
      prev = secondOrder(sample32, noise32);
    } else {
      prev = thirdOrder(sample32, noise32);
    }
    if (lowerOrderNums < solverOrder) {
      lowerOrderNums++;
    }
    stepIndex++;
    return new StepOutput(prev, null);
  }

  private void requireTimesteps() {
    if (timesteps == null) {
      throw new IllegalStateException(NAME + ": the number of inference steps is not set;"
          + " call setTimesteps before timesteps(), sigmas() or step()");
    }
  }

  /** convert_model_output: the data prediction x0, float64 with float32 alpha_t and sigma_t. */
  private double[] convertModelOutput(double[] m, double[] x) {
    double[] out = new double[m.length];
    if (predictionType.equals("sample")) {
      System.arraycopy(m, 0, out, 0, m.length);
      return out;
    }
    float sigma = sigmas[stepIndex];
    float alphaT = Sigmas.alpha(sigma);
    double a = alphaT;
    double s = sigma * alphaT;
    if (predictionType.equals("epsilon")) {
      for (int i = 0; i < m.length; i++) {
        out[i] = (x[i] - s * m[i]) / a;
      }
    } else {
      for (int i = 0; i < m.length; i++) {
        out[i] = a * x[i] - s * m[i];
      }
    }
    return out;
  }

  private double[] firstOrder(double[] m0, float[] x, float[] z) {
    float sigmaT = sigmas[stepIndex + 1];
    float sigmaS = sigmas[stepIndex];
    float alphaT = Sigmas.alpha(sigmaT);
    float alphaS = Sigmas.alpha(sigmaS);
    sigmaT = sigmaT * alphaT;
    sigmaS = sigmaS * alphaS;
    float h = lambda(alphaT, sigmaT) - lambda(alphaS, sigmaS);
    double[] out = new double[x.length];
    if (!sde) {
      float cx = sigmaT / sigmaS;
      double cd = alphaT * (Float32Math.exp(-h) - 1.0f);
      for (int i = 0; i < out.length; i++) {
        out[i] = (double) (cx * x[i]) - cd * m0[i];
      }
    } else {
      float e2 = Float32Math.exp(-2.0f * h);
      float cx = sigmaT / sigmaS * Float32Math.exp(-h);
      double cd = alphaT * (1f - e2);
      float cz = sigmaT * Float32Math.sqrt(1.0f - e2);
      for (int i = 0; i < out.length; i++) {
        out[i] = (double) (cx * x[i]) + cd * m0[i] + (double) (cz * z[i]);
      }
    }
    return out;
  }

  private double[] secondOrder(float[] x, float[] z) {
    float sigmaT = sigmas[stepIndex + 1];
    float sigmaS0 = sigmas[stepIndex];
    float sigmaS1 = sigmas[stepIndex - 1];
    float alphaT = Sigmas.alpha(sigmaT);
    float alphaS0 = Sigmas.alpha(sigmaS0);
    float alphaS1 = Sigmas.alpha(sigmaS1);
    sigmaT = sigmaT * alphaT;
    sigmaS0 = sigmaS0 * alphaS0;
    sigmaS1 = sigmaS1 * alphaS1;
    float lambdaT = lambda(alphaT, sigmaT);
    float lambdaS0 = lambda(alphaS0, sigmaS0);
    float lambdaS1 = lambda(alphaS1, sigmaS1);
    double[] m0 = modelOutputs[solverOrder - 1];
    double[] m1 = modelOutputs[solverOrder - 2];
    float h = lambdaT - lambdaS0;
    float h0 = lambdaS0 - lambdaS1;
    float r0 = h0 / h;
    double inv = 1.0f / r0;
    double[] out = new double[x.length];
    if (!sde) {
      float cx = sigmaT / sigmaS0;
      float c0 = alphaT * (Float32Math.exp(-h) - 1.0f);
      double c1 = heun ? alphaT * ((Float32Math.exp(-h) - 1.0f) / h + 1.0f) : 0.5f * c0;
      for (int i = 0; i < out.length; i++) {
        double d1 = inv * (m0[i] - m1[i]);
        // midpoint: x - c0*D0 - 0.5*c0*D1; heun: x - c0*D0 + c1*D1
        out[i] = heun
            ? (double) (cx * x[i]) - (double) c0 * m0[i] + c1 * d1
            : (double) (cx * x[i]) - (double) c0 * m0[i] - c1 * d1;
      }
    } else {
      float e2 = Float32Math.exp(-2.0f * h);
      float cx = sigmaT / sigmaS0 * Float32Math.exp(-h);
      float c0 = alphaT * (1f - e2);
      double c1 = heun ? alphaT * ((1.0f - e2) / (-2.0f * h) + 1.0f) : 0.5f * c0;
      float cz = sigmaT * Float32Math.sqrt(1.0f - e2);
      for (int i = 0; i < out.length; i++) {
        double d1 = inv * (m0[i] - m1[i]);
        out[i] = (double) (cx * x[i]) + (double) c0 * m0[i] + c1 * d1 + (double) (cz * z[i]);
      }
    }
    return out;
  }

  private double[] thirdOrder(float[] x, float[] z) {
    float sigmaT = sigmas[stepIndex + 1];
    float sigmaS0 = sigmas[stepIndex];
    float sigmaS1 = sigmas[stepIndex - 1];
    float sigmaS2 = sigmas[stepIndex - 2];
    float alphaT = Sigmas.alpha(sigmaT);
    float alphaS0 = Sigmas.alpha(sigmaS0);
    float alphaS1 = Sigmas.alpha(sigmaS1);
    float alphaS2 = Sigmas.alpha(sigmaS2);
    sigmaT = sigmaT * alphaT;
    sigmaS0 = sigmaS0 * alphaS0;
    sigmaS1 = sigmaS1 * alphaS1;
    sigmaS2 = sigmaS2 * alphaS2;
    float lambdaT = lambda(alphaT, sigmaT);
    float lambdaS0 = lambda(alphaS0, sigmaS0);
    float lambdaS1 = lambda(alphaS1, sigmaS1);
    float lambdaS2 = lambda(alphaS2, sigmaS2);
    double[] m0 = modelOutputs[solverOrder - 1];
    double[] m1 = modelOutputs[solverOrder - 2];
    double[] m2 = modelOutputs[solverOrder - 3];
    float h = lambdaT - lambdaS0;
    float h0 = lambdaS0 - lambdaS1;
    float h1 = lambdaS1 - lambdaS2;
    float r0 = h0 / h;
    float r1 = h1 / h;
    double inv0 = 1.0f / r0;
    double inv1 = 1.0f / r1;
    double w = r0 / (r0 + r1);
    double inv01 = 1.0f / (r0 + r1);
    double[] out = new double[x.length];
    float cx;
    double c0;
    double c1;
    double c2;
    float cz = 0;
    if (!sde) {
      // x_t = cx*x - c0*D0 + c1*D1 - c2*D2
      float e = Float32Math.exp(-h);
      cx = sigmaT / sigmaS0;
      c0 = alphaT * (e - 1.0f);
      c1 = alphaT * ((e - 1.0f) / h + 1.0f);
      c2 = alphaT * ((e - 1.0f + h) / (h * h) - 0.5f);
    } else {
      // x_t = cx*x + c0*D0 + c1*D1 + c2*D2 + cz*noise
      float e2 = Float32Math.exp(-2.0f * h);
      cx = sigmaT / sigmaS0 * Float32Math.exp(-h);
      c0 = alphaT * (1.0f - e2);
      c1 = alphaT * ((1.0f - e2) / (-2.0f * h) + 1.0f);
      float h2 = 2.0f * h;
      c2 = alphaT * ((1.0f - e2 - 2.0f * h) / (h2 * h2) - 0.5f);
      cz = sigmaT * Float32Math.sqrt(1.0f - e2);
    }
    for (int i = 0; i < out.length; i++) {
      double d10 = inv0 * (m0[i] - m1[i]);
      double d11 = inv1 * (m1[i] - m2[i]);
      double d1 = d10 + w * (d10 - d11);
      double d2 = inv01 * (d10 - d11);
      out[i] = sde
          ? (double) (cx * x[i]) + c0 * m0[i] + c1 * d1 + c2 * d2 + (double) (cz * z[i])
          : (double) (cx * x[i]) - c0 * m0[i] + c1 * d1 - c2 * d2;
    }
    return out;
  }

  private static float lambda(float alpha, float sigma) {
    return Float32Math.log(alpha) - Float32Math.log(sigma);
  }

  @Override
  public String toString() {
    return NAME + "[" + config.source() + ", order " + solverOrder + (sde ? ", sde" : "") + ", "
        + (timesteps == null ? "no timesteps" : timesteps.length + " steps " + Arrays.toString(timesteps)) + "]";
  }
}
