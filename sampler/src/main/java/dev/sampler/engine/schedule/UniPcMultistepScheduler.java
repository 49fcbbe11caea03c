package dev.sampler.engine.schedule;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

/**
 * diffusers' {@code UniPCMultistepScheduler} (UniP predictor and UniC corrector, B(h) variants bh1
 * and bh2, data prediction), reproducing diffusers at commit 58eb52c0 including its float32
 * arithmetic: sigmas are a float32 table; alpha_t, sigma_t, lambda_t, h, the r_k, the
 * {@code h_phi} terms (torch's float32 {@code expm1}), the B(h) coefficients and the corrector's
 * 2x2 linear solve are float32 (see {@link Float32Math}); the data predictions, samples and their
 * differences are float64 (UniPC, unlike DPM-Solver, does not round the sample to float32).
 *
 * <p>Supported keys: {@code num_train_timesteps}, {@code beta_start}, {@code beta_end},
 * {@code beta_schedule} (linear, scaled_linear, squaredcos_cap_v2), {@code solver_order} (1, 2),
 * {@code prediction_type} (epsilon, v_prediction, sample), {@code predict_x0} (true),
 * {@code solver_type} (bh1, bh2; midpoint, heun and logrho are read as bh2 as diffusers does),
 * {@code lower_order_final}, {@code disable_corrector} (a list of step indices),
 * {@code use_karras_sigmas} with optional {@code sigma_min} and {@code sigma_max},
 * {@code final_sigmas_type} (zero, sigma_min), {@code timestep_spacing} (linspace, leading,
 * trailing), {@code steps_offset}, {@code rescale_betas_zero_snr}. Refused with an
 * {@link IllegalArgumentException} naming the source, key and value: {@code solver_order} 3,
 * {@code predict_x0} false, {@code thresholding}, {@code solver_p}, {@code trained_betas},
 * {@code use_exponential_sigmas}, {@code use_beta_sigmas}, {@code use_flow_sigmas},
 * {@code use_dynamic_shifting}, {@code shift_terminal}, prediction type flow_prediction.
 *
 * <p>{@link #step} returns no x0 estimate ({@code predOriginalSample} null), as diffusers'
 * returns only {@code prev_sample}. It never draws noise.
 */
public final class UniPcMultistepScheduler implements NoiseScheduler {
  private static final String NAME = "UniPCMultistepScheduler";

  private final SchedulerConfig config;
  private final MultistepSchedule schedule;
  private final int solverOrder;
  private final String predictionType;
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
    this.schedule = MultistepSchedule.of(config);
    this.solverOrder = MultistepSchedule.solverOrder(config, 1, 2);
    this.predictionType = config.getChoice("prediction_type", "epsilon", "epsilon", "v_prediction", "sample");
    if (!config.getBoolean("predict_x0", true)) {
      throw new IllegalArgumentException(src + ": unsupported value for 'predict_x0': false (supported: true)");
    }
    String solverType = config.getString("solver_type", "bh2");
    switch (solverType) {
      case "bh1" -> this.bh1 = true;
      case "bh2", "midpoint", "heun", "logrho" -> this.bh1 = false;
      default -> throw new IllegalArgumentException(src + ": unsupported value for 'solver_type': \"" + solverType
          + "\" (supported: bh1, bh2)");
    }
    MultistepSchedule.refuseTrue(config, "thresholding");
    MultistepSchedule.refuseNonNull(config, "solver_p");
    MultistepSchedule.refuseNonNull(config, "shift_terminal");
    for (String key : new String[] {"use_exponential_sigmas", "use_beta_sigmas", "use_flow_sigmas",
        "use_dynamic_shifting"}) {
      MultistepSchedule.refuseTrue(config, key);
    }
    this.lowerOrderFinal = config.getBoolean("lower_order_final", true);
    this.disableCorrector = readIndexList(config, "disable_corrector");
    this.useKarras = config.getBoolean("use_karras_sigmas", false);
    this.sigmaMinOverride = config.has("sigma_min") ? config.getDouble("sigma_min", 0) : null;
    this.sigmaMaxOverride = config.has("sigma_max") ? config.getDouble("sigma_max", 0) : null;
    this.finalSigmaZero = config.getChoice("final_sigmas_type", "zero", "zero", "sigma_min").equals("zero");
    this.spacing = config.getChoice("timestep_spacing", "linspace", "linspace", "leading", "trailing");
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
        throw new IllegalArgumentException(config.source() + ": '" + key + "' must be a list of step indices, got " + n);
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
    MultistepSchedule.checkSteps(NAME, numInferenceSteps);
    int n = numInferenceSteps;
    int numTrain = schedule.numTrainTimesteps;
    long[] ts = schedule.spacedTimesteps(spacing, numTrain, n, stepsOffset);
    double[] sig;
    double sigmaLast;
    if (useKarras) {
      float[] train = schedule.trainSigmas;
      float[] logSigmas = schedule.logTrainSigmas();
      double sigmaMin = sigmaMinOverride != null ? sigmaMinOverride : train[0];
      double sigmaMax = sigmaMaxOverride != null ? sigmaMaxOverride : train[train.length - 1];
      sig = MultistepSchedule.karrasSigmas(sigmaMin, sigmaMax, n);
      ts = new long[n];
      for (int i = 0; i < n; i++) {
        ts[i] = (long) Math.rint(MultistepSchedule.sigmaToT(sig[i], logSigmas));
      }
      sigmaLast = finalSigmaZero ? 0 : sig[n - 1];
    } else {
      sig = new double[ts.length];
      for (int i = 0; i < ts.length; i++) {
        sig[i] = schedule.interpSigma(ts[i]);
      }
      float ac0 = schedule.alphasCumprod[0];
      sigmaLast = finalSigmaZero ? 0 : MultistepSchedule.sqrt((1f - ac0) / ac0);
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
    double[] t = new double[timesteps.length];
    for (int i = 0; i < t.length; i++) {
      t[i] = timesteps[i];
    }
    return t;
  }

  @Override
  public double[] sigmas() {
    requireTimesteps();
    double[] s = new double[sigmas.length];
    for (int i = 0; i < s.length; i++) {
      s[i] = sigmas[i];
    }
    return s;
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
    MultistepSchedule.checkLengths(NAME, modelOutput, sample);
    if (stepIndex < 0) {
      stepIndex = MultistepSchedule.indexForTimestep(timesteps, timestep);
    }
    int n = timesteps.length;
    if (stepIndex >= n) {
      throw MultistepSchedule.noStepLeft(NAME, timestep, n);
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

  /** convert_model_output with predict_x0: the data prediction x0. */
  private double[] convertModelOutput(double[] m, double[] x) {
    double[] out = new double[m.length];
    if (predictionType.equals("sample")) {
      System.arraycopy(m, 0, out, 0, m.length);
      return out;
    }
    float sigma = sigmas[stepIndex];
    float alphaT = MultistepSchedule.alpha(sigma);
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

  /**
   * The float32 scalars both updates share, for the step from sigma index {@code s0} to {@code t}
   * of {@code order}: h = lambda_t - lambda_s0, -h, h_phi_1 = expm1(-h), B(h), the r_k of the
   * earlier outputs and the right-hand side b of the order conditions.
   */
  private final class Coefficients {
    final float sigmaRatio;
    final float alphaPhi;
    final float alphaBh;
    final float[] rks;
    final float[] b;

    Coefficients(int t, int s0, int order, int firstEarlier) {
      float sigmaT = sigmas[t];
      float sigmaS0 = sigmas[s0];
      float alphaT = MultistepSchedule.alpha(sigmaT);
      float alphaS0 = MultistepSchedule.alpha(sigmaS0);
      sigmaT = sigmaT * alphaT;
      sigmaS0 = sigmaS0 * alphaS0;
      float lambdaT = Float32Math.torchLog(alphaT) - Float32Math.torchLog(sigmaT);
      float lambdaS0 = Float32Math.torchLog(alphaS0) - Float32Math.torchLog(sigmaS0);
      float h = lambdaT - lambdaS0;
      rks = new float[order - 1];
      for (int i = 1; i < order; i++) {
        float lambdaSi = MultistepSchedule.lambda(sigmas[firstEarlier - (i - 1)]);
        rks[i - 1] = (lambdaSi - lambdaS0) / h;
      }
      float hh = -h;
      float hPhi1 = Float32Math.torchExpm1(hh);
      float hPhiK = hPhi1 / hh - 1f;
      float bh = bh1 ? hh : Float32Math.torchExpm1(hh);
      b = new float[order];
      long factorial = 1;
      for (int i = 1; i <= order; i++) {
        b[i - 1] = hPhiK * (float) factorial / bh;
        factorial *= i + 1;
        // a Python float (1 / factorial) meets a float32 tensor: rounded to float32 first
        hPhiK = hPhiK / hh - (float) (1.0 / factorial);
      }
      sigmaRatio = sigmaT / sigmaS0;
      alphaPhi = alphaT * hPhi1;
      alphaBh = alphaT * bh;
    }
  }

  /** multistep_uni_p_bh_update from the current (possibly corrected) sample. */
  private double[] predictor(double[] x, int order) {
    double[] m0 = modelOutputs[solverOrder - 1];
    Coefficients c = new Coefficients(stepIndex + 1, stepIndex, order, stepIndex - 1);
    double[] out = new double[x.length];
    double ratio = c.sigmaRatio;
    double phi = c.alphaPhi;
    double bh = c.alphaBh;
    if (order == 1) {
      for (int i = 0; i < out.length; i++) {
        out[i] = ratio * x[i] - phi * m0[i];
      }
      return out;
    }
    // order 2: rhos_p = [0.5]; pred_res = 0.5 * D1 with D1 = (m1 - m0) / r_1
    double[] m1 = modelOutputs[solverOrder - 2];
    double rk = c.rks[0];
    for (int i = 0; i < out.length; i++) {
      double d1 = (m1[i] - m0[i]) / rk;
      out[i] = (ratio * x[i] - phi * m0[i]) - bh * (0.5 * d1);
    }
    return out;
  }

  /** multistep_uni_c_bh_update: the corrected sample at the current step. */
  private double[] corrector(double[] modelT, double[] last, int order) {
    double[] m0 = modelOutputs[solverOrder - 1];
    Coefficients c = new Coefficients(stepIndex, stepIndex - 1, order, stepIndex - 2);
    double[] out = new double[last.length];
    double ratio = c.sigmaRatio;
    double phi = c.alphaPhi;
    double bh = c.alphaBh;
    if (order == 1) {
      // rhos_c = [0.5], no earlier outputs
      for (int i = 0; i < out.length; i++) {
        out[i] = (ratio * last[i] - phi * m0[i]) - bh * (0.5 * (modelT[i] - m0[i]));
      }
      return out;
    }
    double[] rhos = solve2(c.rks[0], c.b[0], c.b[1]);
    double[] m1 = modelOutputs[solverOrder - 2];
    double rk = c.rks[0];
    for (int i = 0; i < out.length; i++) {
      double d1 = (m1[i] - m0[i]) / rk;
      double corr = rhos[0] * d1;
      out[i] = (ratio * last[i] - phi * m0[i]) - bh * (corr + rhos[1] * (modelT[i] - m0[i]));
    }
    return out;
  }

  /**
   * torch.linalg.solve(R, b) for the corrector's R = [[1, 1], [r, 1]] in float32, as torch 1.13
   * computes it on the CPU: R is contiguous, so it factors R^T (LAPACK getrf: the first column
   * [1, 1] needs no pivot, U = [[1, r], [0, 1 - r]]) and solves with the transpose (getrs 'T':
   * U^T y = b, then L^T x = y), with separately rounded products and true divisions.
   */
  static double[] solve2(float r, float b0, float b1) {
    float u11 = 1f - r;
    float y1 = (b1 - r * b0) / u11;
    float x0 = b0 - y1;
    return new double[] {x0, y1};
  }

  @Override
  public String toString() {
    return NAME + "[" + config.source() + ", order " + solverOrder + (bh1 ? ", bh1" : ", bh2") + ", "
        + (timesteps == null ? "no timesteps" : timesteps.length + " steps " + Arrays.toString(timesteps)) + "]";
  }
}
