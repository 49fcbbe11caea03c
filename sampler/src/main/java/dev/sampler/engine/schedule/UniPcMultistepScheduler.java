package dev.sampler.engine.schedule;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

/**
 * diffusers' {@code UniPCMultistepScheduler} (UniP predictor and UniC corrector, B(h) variants bh1
 * and bh2, orders 1 to 3, data or noise prediction), reproducing diffusers at commit 58eb52c0
 * including its float32 arithmetic: sigmas are a float32 table; alpha_t, sigma_t, lambda_t, h,
 * the r_k, the {@code h_phi} terms (float32 {@code expm1}, correctly rounded as the logs, see
 * {@link Float32Math}), the order conditions and their
 * {@code torch.linalg.solve} are float32 (see {@link Float32Math} and {@link SmallLuSolve}); the
 * model outputs, samples and their differences are float64 (UniPC, unlike DPM-Solver, does not
 * round the sample to float32).
 *
 * <p>With order 3 the sum over the two earlier outputs follows torch 1.13's CPU einsum, whose
 * rounding depends on the sample's size (see {@link #einsum}); diffusers on another device or
 * torch version can differ there in the last bits.
 *
 * <p>Supported keys: {@code num_train_timesteps}, {@code beta_start}, {@code beta_end},
 * {@code beta_schedule} (linear, scaled_linear, squaredcos_cap_v2), {@code solver_order} (1, 2,
 * 3), {@code prediction_type} (epsilon, v_prediction, sample), {@code predict_x0},
 * {@code solver_type} (bh1, bh2; midpoint, heun and logrho are read as bh2 as diffusers does),
 * {@code lower_order_final}, {@code disable_corrector} (a list of step indices),
 * {@code use_karras_sigmas} with optional {@code sigma_min} and {@code sigma_max},
 * {@code final_sigmas_type} (zero, sigma_min), {@code timestep_spacing} (linspace, leading,
 * trailing), {@code steps_offset}, {@code rescale_betas_zero_snr}. Refused with an
 * {@link IllegalArgumentException} naming the source, key and value: {@code thresholding},
 * {@code solver_p}, {@code trained_betas}, {@code use_exponential_sigmas},
 * {@code use_beta_sigmas}, {@code use_flow_sigmas}, {@code use_dynamic_shifting},
 * {@code shift_terminal}, prediction type flow_prediction, other solver orders.
 *
 * <p>{@link #step} returns no x0 estimate ({@code predOriginalSample} null), as diffusers'
 * returns only {@code prev_sample}. It never draws noise.
 */
public final class UniPcMultistepScheduler implements NoiseScheduler {
  private static final String NAME = "UniPCMultistepScheduler";

  private final SchedulerConfig config;
  private final BetaSchedule schedule;
  /** ((1 - alphas_cumprod) / alphas_cumprod) ** 0.5 in float32, one per training timestep. */
  private final float[] trainSigmas;
  private final int solverOrder;
  private final String predictionType;
  private final boolean predictX0;
  private final boolean bh1;
  private final boolean lowerOrderFinal;
  private final Set<Integer> disableCorrector;
  private final boolean useKarras;
  private final Double sigmaMinOverride;
  private final Double sigmaMaxOverride;
  private final boolean finalSigmaZero;
  private final String spacing;
  private final int stepsOffset;

  private long[] timesteps;
  private float[] sigmas;
  private double[][] modelOutputs;
  private int lowerOrderNums;
  private int stepIndex = -1;
  private int thisOrder;
  private double[] lastSample;

  /**
   * A scheduler configured from {@code config} (diffusers' {@code from_config}: unknown keys are
   * ignored, missing keys take diffusers' defaults).
   *
   * @throws IllegalArgumentException for a key with an unsupported value (the message names the
   *     config source, the key and the value)
   */
  public UniPcMultistepScheduler(SchedulerConfig config) {
    this.config = config;
    String src = config.source();
    this.schedule = BetaSchedule.forMultistep(config);
    this.trainSigmas = Sigmas.train(schedule.alphasCumprod());
    this.solverOrder = SchedulerSupport.solverOrder(config, 1, 2, 3);
    this.predictionType = schedule.predictionType();
    this.predictX0 = config.getBoolean("predict_x0", true);
    String solverType = config.getString("solver_type", "bh2");
    switch (solverType) {
      case "bh1" -> this.bh1 = true;
      case "bh2", "midpoint", "heun", "logrho" -> this.bh1 = false;
      default -> throw new IllegalArgumentException(src + ": unsupported value for 'solver_type': \"" + solverType
          + "\" (supported: bh1, bh2)");
    }
    SchedulerSupport.refuseTrue(config, "thresholding");
    SchedulerSupport.refuseNonNull(config, "solver_p");
    SchedulerSupport.refuseNonNull(config, "shift_terminal");
    for (String key : new String[] {"use_exponential_sigmas", "use_beta_sigmas", "use_flow_sigmas",
        "use_dynamic_shifting"}) {
      SchedulerSupport.refuseTrue(config, key);
    }
    this.lowerOrderFinal = config.getBoolean("lower_order_final", true);
    this.disableCorrector = readIndexList(config, "disable_corrector");
    this.useKarras = config.getBoolean("use_karras_sigmas", false);
    this.sigmaMinOverride = config.has("sigma_min") ? config.getDouble("sigma_min", 0) : null;
    this.sigmaMaxOverride = config.has("sigma_max") ? config.getDouble("sigma_max", 0) : null;
    this.finalSigmaZero = config.getChoice("final_sigmas_type", "zero", "zero", "sigma_min").equals("zero");
    this.spacing = config.getChoice("timestep_spacing", "linspace", Spacing.SPACINGS);
    this.stepsOffset = config.getInt("steps_offset", 0);
  }

  private static Set<Integer> readIndexList(SchedulerConfig config, String key) {
    Set<Integer> out = new HashSet<>();
    JsonNode n = config.get(key);
    if (n == null || n.isNull()) {
      return out;
    }
    if (!n.isArray()) {
      throw new IllegalArgumentException(config.source() + ": '" + key + "' must be a list of step indices, got " + n);
    }
    for (JsonNode e : n) {
      if (!e.isIntegralNumber() || !e.canConvertToInt()) {
        throw new IllegalArgumentException(config.source() + ": '" + key + "' must be a list of step indices, got "
            + n);
      }
      out.add(e.intValue());
    }
    return out;
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
   * diffusers' {@code set_timesteps(n)}; also resets the multistep history and the corrector.
   *
   * @throws IllegalArgumentException if {@code numInferenceSteps} is below 1 (more steps than
   *     {@code num_train_timesteps} are accepted, as diffusers accepts them: timesteps repeat)
   */
  @Override
  public void setTimesteps(int numInferenceSteps) {
    SchedulerSupport.checkSteps(NAME + ".setTimesteps", numInferenceSteps, schedule.numTrainTimesteps(), false);
    int n = numInferenceSteps;
    int numTrain = schedule.numTrainTimesteps();
    long[] ts = Spacing.multistep(spacing, n, numTrain, numTrain, stepsOffset);
    double[] sig;
    double sigmaLast;
    if (useKarras) {
      float[] logSigmas = Sigmas.logs(trainSigmas);
      double sigmaMin = sigmaMinOverride != null ? sigmaMinOverride : trainSigmas[0];
      double sigmaMax = sigmaMaxOverride != null ? sigmaMaxOverride : trainSigmas[trainSigmas.length - 1];
      sig = Sigmas.karras(sigmaMin, sigmaMax, n);
      ts = new long[n];
      for (int i = 0; i < n; i++) {
        ts[i] = (long) Math.rint(Sigmas.sigmaToT(sig[i], logSigmas));
      }
      sigmaLast = finalSigmaZero ? 0 : sig[n - 1];
    } else {
      sig = Sigmas.interp(ts, trainSigmas);
      float ac0 = schedule.alphasCumprod()[0];
      sigmaLast = finalSigmaZero ? 0 : Float32Math.sqrt((1f - ac0) / ac0);
    }
    float[] s = new float[ts.length + 1];
    for (int i = 0; i < ts.length; i++) {
      s[i] = (float) sig[i];
    }
    s[ts.length] = (float) sigmaLast;
    this.timesteps = ts;
    this.sigmas = s;
    this.modelOutputs = new double[solverOrder][];
    this.lowerOrderNums = 0;
    this.lastSample = null;
    this.thisOrder = 0;
    this.stepIndex = -1;
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
   * One UniPC step: the corrector (UniC) refines {@code sample} with this model output, except on
   * the first step and on the steps listed in {@code disable_corrector}, then the predictor (UniP)
   * gives the next sample. {@code noise} is never used.
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
    boolean useCorrector = stepIndex > 0 && !disableCorrector.contains(stepIndex - 1) && lastSample != null;
    double[] converted = convertModelOutput(modelOutput, sample);
    double[] x = sample;
    if (useCorrector) {
      x = corrector(converted, lastSample, thisOrder);
    }
    for (int i = 0; i < solverOrder - 1; i++) {
      modelOutputs[i] = modelOutputs[i + 1];
    }
    modelOutputs[solverOrder - 1] = converted;
    int order = lowerOrderFinal ? Math.min(solverOrder, n - stepIndex) : solverOrder;
    thisOrder = Math.min(order, lowerOrderNums + 1);
    lastSample = x;
    double[] prev = predictor(x, thisOrder);
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

  /**
   * convert_model_output: the data prediction x0 (predict_x0) or the noise prediction epsilon,
   * float64 with float32 alpha_t and sigma_t.
   */
  private double[] convertModelOutput(double[] m, double[] x) {
    double[] out = new double[m.length];
    float sigma = sigmas[stepIndex];
    float alphaT = Sigmas.alpha(sigma);
    double a = alphaT;
    double s = sigma * alphaT;
    for (int i = 0; i < m.length; i++) {
      out[i] = switch (predictionType) {
        case "epsilon" -> predictX0 ? (x[i] - s * m[i]) / a : m[i];
        case "v_prediction" -> predictX0 ? a * x[i] - s * m[i] : a * m[i] + s * x[i];
        default -> predictX0 ? m[i] : (x[i] - a * m[i]) / s;
      };
    }
    return out;
  }

  /**
   * The float32 scalars both updates share, for the step from sigma index {@code s0} to {@code t}
   * of {@code order}: h = lambda_t - lambda_s0, hh = -h (data prediction) or h, h_phi_1 =
   * expm1(hh), B(h), the r_k of the earlier outputs (sigma indices {@code firstEarlier},
   * {@code firstEarlier - 1}, ...), the order conditions R (rows r_k^0, r_k^1, ...) and b.
   */
  private final class Coefficients {
    /** sigma_t / sigma_s0 (data prediction) or alpha_t / alpha_s0. */
    final float sampleCoef;
    /** alpha_t * h_phi_1 or sigma_t * h_phi_1. */
    final float phiCoef;
    /** alpha_t * B(h) or sigma_t * B(h). */
    final float bhCoef;
    final float[] rks;
    final float[][] r;
    final float[] b;

    Coefficients(int t, int s0, int order, int firstEarlier) {
      float sigmaT = sigmas[t];
      float sigmaS0 = sigmas[s0];
      float alphaT = Sigmas.alpha(sigmaT);
      float alphaS0 = Sigmas.alpha(sigmaS0);
      sigmaT = sigmaT * alphaT;
      sigmaS0 = sigmaS0 * alphaS0;
      float lambdaT = Float32Math.log(alphaT) - Float32Math.log(sigmaT);
      float lambdaS0 = Float32Math.log(alphaS0) - Float32Math.log(sigmaS0);
      float h = lambdaT - lambdaS0;
      rks = new float[order];
      for (int i = 1; i < order; i++) {
        float lambdaSi = Sigmas.lambda(sigmas[firstEarlier - (i - 1)]);
        rks[i - 1] = (lambdaSi - lambdaS0) / h;
      }
      rks[order - 1] = 1f;
      float hh = predictX0 ? -h : h;
      float hPhi1 = Float32Math.expm1(hh);
      float hPhiK = hPhi1 / hh - 1f;
      float bh = bh1 ? hh : Float32Math.expm1(hh);
      r = new float[order][order];
      b = new float[order];
      long factorial = 1;
      for (int i = 1; i <= order; i++) {
        for (int k = 0; k < order; k++) {
          // torch.pow(rks, i - 1): 1, rks, rks * rks
          r[i - 1][k] = i == 1 ? 1f : i == 2 ? rks[k] : rks[k] * rks[k];
        }
        b[i - 1] = hPhiK * (float) factorial / bh;
        factorial *= i + 1;
        // a Python float (1 / factorial) meets a float32 tensor: rounded to float32 first
        hPhiK = hPhiK / hh - (float) (1.0 / factorial);
      }
      if (predictX0) {
        sampleCoef = sigmaT / sigmaS0;
        phiCoef = alphaT * hPhi1;
        bhCoef = alphaT * bh;
      } else {
        sampleCoef = alphaT / alphaS0;
        phiCoef = sigmaT * hPhi1;
        bhCoef = sigmaT * bh;
      }
    }

    /** D1s[k] = (m_k - m0) / r_k for the earlier outputs, newest first. */
    double[][] d1s(double[] m0) {
      double[][] d = new double[rks.length - 1][];
      for (int k = 0; k < d.length; k++) {
        double[] mk = modelOutputs[solverOrder - 2 - k];
        double rk = rks[k];
        d[k] = new double[m0.length];
        for (int i = 0; i < m0.length; i++) {
          d[k][i] = (mk[i] - m0[i]) / rk;
        }
      }
      return d;
    }
  }

  /**
   * torch.einsum("k,bkc...->bc...", rhos, D1s) for K = 1 or 2 at element {@code i}. With K = 2,
   * torch 1.13 sums the two products separately rounded when the contraction is small
   * (K * numel < 400: its own bmm loop) and as an OpenBLAS dgemm otherwise, whose kernel fuses
   * the second multiply-add.
   */
  private static double einsum(double[] rhos, double[][] d1s, int i, boolean blas) {
    if (d1s.length == 1) {
      return rhos[0] * d1s[0][i];
    }
    return blas ? Math.fma(rhos[1], d1s[1][i], rhos[0] * d1s[0][i]) : rhos[0] * d1s[0][i] + rhos[1] * d1s[1][i];
  }

  private static boolean blasEinsum(int k, int numel) {
    return (long) k * numel >= 400;
  }

  /** multistep_uni_p_bh_update from the current (possibly corrected) sample. */
  private double[] predictor(double[] x, int order) {
    double[] m0 = modelOutputs[solverOrder - 1];
    Coefficients c = new Coefficients(stepIndex + 1, stepIndex, order, stepIndex - 1);
    double[][] d1s = c.d1s(m0);
    double[] out = new double[x.length];
    double sc = c.sampleCoef;
    double phi = c.phiCoef;
    double bh = c.bhCoef;
    if (order == 1) {
      // diffusers subtracts alpha_t * B(h) * 0 (a float32 zero, or NaN where B(h) is infinite:
      // bh1 at a final sigma of 0), so the result is NaN there as in diffusers
      double zero = c.bhCoef * 0f;
      for (int i = 0; i < out.length; i++) {
        out[i] = (sc * x[i] - phi * m0[i]) - zero;
      }
      return out;
    }
    double[] rhos;
    if (order == 2) {
      rhos = new double[] {0.5};
    } else {
      float[][] r = new float[order - 1][];
      for (int k = 0; k < order - 1; k++) {
        r[k] = Arrays.copyOf(c.r[k], order - 1);
      }
      // R[:-1, :-1] is a strided slice: factored as it is
      rhos = toDouble(SmallLuSolve.solveStrided(r, Arrays.copyOf(c.b, order - 1)));
    }
    boolean blas = blasEinsum(d1s.length, x.length);
    for (int i = 0; i < out.length; i++) {
      out[i] = (sc * x[i] - phi * m0[i]) - bh * einsum(rhos, d1s, i, blas);
    }
    return out;
  }

  /** multistep_uni_c_bh_update: the corrected sample at the current step. */
  private double[] corrector(double[] modelT, double[] last, int order) {
    double[] m0 = modelOutputs[solverOrder - 1];
    Coefficients c = new Coefficients(stepIndex, stepIndex - 1, order, stepIndex - 2);
    double[][] d1s = c.d1s(m0);
    double[] out = new double[last.length];
    double sc = c.sampleCoef;
    double phi = c.phiCoef;
    double bh = c.bhCoef;
    // order 1: rhos_c = [0.5]; else the full (contiguous) R: factored transposed
    double[] rhos = order == 1 ? new double[] {0.5} : toDouble(SmallLuSolve.solveContiguous(c.r, c.b));
    double rhoT = rhos[rhos.length - 1];
    boolean blas = blasEinsum(d1s.length, last.length);
    for (int i = 0; i < out.length; i++) {
      double corr = d1s.length == 0 ? 0.0 : einsum(rhos, d1s, i, blas);
      out[i] = (sc * last[i] - phi * m0[i]) - bh * (corr + rhoT * (modelT[i] - m0[i]));
    }
    return out;
  }

  private static double[] toDouble(float[] f) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  @Override
  public String toString() {
    return NAME + "[" + config.source() + ", order " + solverOrder + (bh1 ? ", bh1" : ", bh2") + ", "
        + (timesteps == null ? "no timesteps" : timesteps.length + " steps " + Arrays.toString(timesteps)) + "]";
  }
}
