package dev.sampler.engine.schedule;

import java.util.Arrays;

/**
 * What diffusers' DPMSolverMultistepScheduler and UniPCMultistepScheduler share: the training
 * noise schedule in float32 exactly as their constructors compute it with torch, the timestep
 * spacings and Karras sigmas of their {@code set_timesteps} (numpy, float64 with float32 tables),
 * the conversion sigma → (alpha_t, sigma_t, lambda_t) in float32, and the config checks.
 *
 * <p>Every float32 value here is the one torch or numpy produces, except that logarithms and
 * exponentials are correctly rounded (see {@link Float32Math}).
 */
final class MultistepSchedule {
  final int numTrainTimesteps;
  final String betaSchedule;
  /** alphas_cumprod (float32), with the zero-SNR floor 2^-24 in the last entry when rescaled. */
  final float[] alphasCumprod;
  /** ((1 - alphas_cumprod) / alphas_cumprod) ** 0.5 in float32, one per training timestep. */
  final float[] trainSigmas;

  private MultistepSchedule(int numTrainTimesteps, String betaSchedule, float[] alphasCumprod) {
    this.numTrainTimesteps = numTrainTimesteps;
    this.betaSchedule = betaSchedule;
    this.alphasCumprod = alphasCumprod;
    this.trainSigmas = new float[alphasCumprod.length];
    for (int i = 0; i < alphasCumprod.length; i++) {
      trainSigmas[i] = sqrt((1f - alphasCumprod[i]) / alphasCumprod[i]);
    }
  }

  /**
   * The training schedule of {@code config}: {@code num_train_timesteps}, {@code beta_start},
   * {@code beta_end}, {@code beta_schedule}, {@code rescale_betas_zero_snr} (explicit
   * {@code trained_betas} are refused).
   *
   * @throws IllegalArgumentException naming the source, the key and the value
   */
  static MultistepSchedule of(SchedulerConfig config) {
    int n = config.getInt("num_train_timesteps", 1000);
    if (n < 2 || n > 100_000) {
      throw new IllegalArgumentException(config.source() + ": unsupported value for 'num_train_timesteps': " + n
          + " (supported: 2 to 100000)");
    }
    if (config.has("trained_betas")) {
      throw new IllegalArgumentException(config.source() + ": unsupported value for 'trained_betas': "
          + config.get("trained_betas") + " (supported: null; explicit betas are not implemented)");
    }
    String schedule = config.getChoice("beta_schedule", "linear", "linear", "scaled_linear", "squaredcos_cap_v2");
    double betaStart = config.getDouble("beta_start", 0.0001);
    double betaEnd = config.getDouble("beta_end", 0.02);
    float[] betas = switch (schedule) {
      case "linear" -> Float32Math.torchLinspace(betaStart, betaEnd, n);
      case "scaled_linear" -> {
        float[] b = Float32Math.torchLinspace(Math.sqrt(betaStart), Math.sqrt(betaEnd), n);
        for (int i = 0; i < n; i++) {
          b[i] = b[i] * b[i];
        }
        yield b;
      }
      default -> cosineBetas(n);
    };
    boolean rescale = config.getBoolean("rescale_betas_zero_snr", false);
    if (rescale) {
      betas = rescaleZeroTerminalSnr(betas);
    }
    float[] alphas = new float[n];
    for (int i = 0; i < n; i++) {
      alphas[i] = 1f - betas[i];
    }
    float[] cumprod = Float32Math.torchCumprod(alphas);
    if (rescale) {
      // diffusers: close to 0 without being 0, so that the first sigma is finite
      cumprod[n - 1] = 0x1p-24f;
    }
    return new MultistepSchedule(n, schedule, cumprod);
  }

  /** betas_for_alpha_bar (cosine): float64 in Python, then a float32 tensor. */
  private static float[] cosineBetas(int n) {
    float[] betas = new float[n];
    for (int i = 0; i < n; i++) {
      double t1 = (double) i / n;
      double t2 = (double) (i + 1) / n;
      betas[i] = (float) Math.min(1 - cosineAlphaBar(t2) / cosineAlphaBar(t1), 0.999);
    }
    return betas;
  }

  private static double cosineAlphaBar(double t) {
    double c = StrictMath.cos((t + 0.008) / 1.008 * Math.PI / 2);
    return c * c;
  }

  /** rescale_zero_terminal_snr, every operation a float32 tensor operation. */
  private static float[] rescaleZeroTerminalSnr(float[] betas) {
    int n = betas.length;
    float[] alphas = new float[n];
    for (int i = 0; i < n; i++) {
      alphas[i] = 1f - betas[i];
    }
    float[] abs = Float32Math.torchCumprod(alphas);
    for (int i = 0; i < n; i++) {
      abs[i] = sqrt(abs[i]);
    }
    float first = abs[0];
    float last = abs[n - 1];
    float scale = first / (first - last);
    for (int i = 0; i < n; i++) {
      abs[i] = (abs[i] - last) * scale;
    }
    float[] ab = new float[n];
    for (int i = 0; i < n; i++) {
      ab[i] = abs[i] * abs[i];
    }
    float[] out = new float[n];
    out[0] = 1f - ab[0];
    for (int i = 1; i < n; i++) {
      out[i] = 1f - ab[i] / ab[i - 1];
    }
    return out;
  }

  // ---- timesteps ----

  /**
   * The integer timesteps of {@code timestep_spacing} for {@code n} steps, as diffusers'
   * DPM-Solver and UniPC compute them ({@code lastTimestep} is {@code num_train_timesteps} less
   * the entries cut by DPM-Solver's {@code lambda_min_clipped}). May hold more than {@code n}
   * entries (numpy's arange for "trailing").
   */
  long[] spacedTimesteps(String spacing, int lastTimestep, int n, int stepsOffset) {
    switch (spacing) {
      case "linspace" -> {
        double[] y = numpyLinspace(0, lastTimestep - 1, n + 1);
        long[] t = new long[n];
        for (int i = 0; i < n; i++) {
          t[i] = (long) Math.rint(y[n - i]);
        }
        return t;
      }
      case "leading" -> {
        long ratio = lastTimestep / (n + 1);
        long[] t = new long[n];
        for (int i = 0; i < n; i++) {
          t[i] = (n - i) * ratio + stepsOffset;
        }
        return t;
      }
      case "trailing" -> {
        double ratio = (double) numTrainTimesteps / n;
        double[] y = numpyArange(lastTimestep, 0, -ratio);
        long[] t = new long[y.length];
        for (int i = 0; i < y.length; i++) {
          t[i] = (long) Math.rint(y[i]) - 1;
        }
        return t;
      }
      default -> throw new IllegalStateException("unchecked timestep_spacing " + spacing);
    }
  }

  /** np.linspace(start, stop, num) in float64 (endpoint included). */
  static double[] numpyLinspace(double start, double stop, int num) {
    double[] y = new double[num];
    int div = num - 1;
    double delta = stop - start;
    if (div > 0) {
      double step = delta / div;
      for (int i = 0; i < num; i++) {
        y[i] = step == 0 ? (i / (double) div) * delta : i * step;
      }
    } else {
      for (int i = 0; i < num; i++) {
        y[i] = i * delta;
      }
    }
    for (int i = 0; i < num; i++) {
      y[i] += start;
    }
    if (num > 1) {
      y[num - 1] = stop;
    }
    return y;
  }

  /** np.arange(start, stop, step) in float64 (int start and stop, float step). */
  static double[] numpyArange(long start, long stop, double step) {
    double len = Math.ceil((double) (stop - start) / step);
    int n = len > 0 ? (int) len : 0;
    double[] y = new double[n];
    if (n > 0) {
      y[0] = start;
    }
    if (n > 1) {
      y[1] = start + step;
    }
    // numpy fills the rest from the first two values: start + i * (y[1] - start)
    double delta = n > 1 ? y[1] - start : 0;
    for (int i = 2; i < n; i++) {
      y[i] = start + i * delta;
    }
    return y;
  }

  /** np.interp of the training sigmas at integer timesteps (clamped at both ends). */
  double interpSigma(long t) {
    if (t <= 0) {
      return trainSigmas[0];
    }
    if (t >= trainSigmas.length - 1) {
      return trainSigmas[trainSigmas.length - 1];
    }
    return trainSigmas[(int) t];
  }

  // ---- Karras sigmas ----

  /** _convert_to_karras: rho 7 between sigmaMax and sigmaMin, float64. */
  static double[] karrasSigmas(double sigmaMin, double sigmaMax, int n) {
    double rho = 7.0;
    double[] ramp = numpyLinspace(0, 1, n);
    double minInvRho = StrictMath.pow(sigmaMin, 1 / rho);
    double maxInvRho = StrictMath.pow(sigmaMax, 1 / rho);
    double[] s = new double[n];
    for (int i = 0; i < n; i++) {
      s[i] = StrictMath.pow(maxInvRho + ramp[i] * (minInvRho - maxInvRho), rho);
    }
    return s;
  }

  /** np.log of the training sigmas (a float32 array: a float32 log, correctly rounded). */
  float[] logTrainSigmas() {
    float[] l = new float[trainSigmas.length];
    for (int i = 0; i < l.length; i++) {
      l[i] = Float32Math.log(trainSigmas[i]);
    }
    return l;
  }

  /**
   * _sigma_to_t: the fractional training timestep of {@code sigma}. numpy's value-based casting
   * makes everything but the last line float32: the float64 log of sigma is rounded to float32
   * before it meets the float32 table.
   */
  static double sigmaToT(double sigma, float[] logSigmas) {
    float logSigma = (float) StrictMath.log(Math.max(sigma, 1e-10));
    int low = 0;
    for (int i = 0; i < logSigmas.length; i++) {
      if (logSigma - logSigmas[i] >= 0) {
        low = i;
      }
    }
    low = Math.min(low, logSigmas.length - 2);
    int high = low + 1;
    float w = (logSigmas[low] - logSigma) / (logSigmas[low] - logSigmas[high]);
    w = Math.min(Math.max(w, 0f), 1f);
    return (double) (1f - w) * low + (double) w * high;
  }

  // ---- per-step quantities (torch float32 0-d tensors) ----

  /** _sigma_to_alpha_sigma_t: alpha_t = 1 / (sigma^2 + 1)^0.5. */
  static float alpha(float sigma) {
    return 1f / sqrt(sigma * sigma + 1f);
  }

  /** lambda_t = log(alpha_t) - log(sigma_t) with sigma_t = sigma * alpha_t. */
  static float lambda(float sigma) {
    float a = alpha(sigma);
    return Float32Math.log(a) - Float32Math.log(sigma * a);
  }

  /** Float32 square root (correctly rounded, as torch's). */
  static float sqrt(float x) {
    return (float) Math.sqrt(x);
  }

  // ---- shared argument and config checks ----

  /** The sample as float32 ({@code sample.to(torch.float32)}). */
  static float[] toFloat32(double[] x) {
    float[] f = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      f[i] = (float) x[i];
    }
    return f;
  }

  static void checkLengths(String cls, double[] modelOutput, double[] sample) {
    if (modelOutput.length != sample.length) {
      throw new IllegalArgumentException(cls + ".step: model_output has " + modelOutput.length
          + " values but sample has " + sample.length);
    }
  }

  /** Refuses {@code key} = true (a feature this runtime does not implement). */
  static void refuseTrue(SchedulerConfig config, String key) {
    if (config.getBoolean(key, false)) {
      throw new IllegalArgumentException(config.source() + ": unsupported value for '" + key
          + "': true (supported: false)");
    }
  }

  /** Refuses a non-null {@code key}. */
  static void refuseNonNull(SchedulerConfig config, String key) {
    if (config.has(key)) {
      throw new IllegalArgumentException(config.source() + ": unsupported value for '" + key + "': "
          + config.get(key) + " (supported: null)");
    }
  }

  /** {@code solver_order}, which must be one of {@code allowed}. */
  static int solverOrder(SchedulerConfig config, int... allowed) {
    int order = config.getInt("solver_order", 2);
    for (int a : allowed) {
      if (a == order) {
        return order;
      }
    }
    throw new IllegalArgumentException(config.source() + ": unsupported value for 'solver_order': " + order
        + " (supported: " + Arrays.toString(allowed).replaceAll("[\\[\\]]", "") + ")");
  }

  /**
   * Rejects a step count below 1 (diffusers gives an empty schedule for 0). Counts above
   * {@code num_train_timesteps} are accepted as diffusers' multistep schedulers accept them
   * (timesteps then repeat).
   */
  static void checkSteps(String cls, int numInferenceSteps) {
    if (numInferenceSteps < 1) {
      throw new IllegalArgumentException(cls + ".setTimesteps: num_inference_steps must be at least 1, got "
          + numInferenceSteps);
    }
  }

  /**
   * The step index past the end: diffusers fails there with an IndexError or AssertionError (a run
   * whose first timestep occurs twice starts at index 1 and so has one step fewer).
   */
  static IllegalArgumentException noStepLeft(String cls, double timestep, int n) {
    return new IllegalArgumentException(cls + ".step(timestep " + timestep + "): all " + n
        + " steps of the schedule have been taken (a run whose first timestep occurs more than once starts"
        + " at its second occurrence, as in diffusers); call setTimesteps to start a new run");
  }

  /** diffusers' index_for_timestep: the second match if several, the last index if none. */
  static int indexForTimestep(long[] timesteps, double timestep) {
    int first = -1;
    for (int i = 0; i < timesteps.length; i++) {
      if (timesteps[i] == timestep) {
        if (first >= 0) {
          return i;
        }
        first = i;
      }
    }
    return first >= 0 ? first : timesteps.length - 1;
  }
}
