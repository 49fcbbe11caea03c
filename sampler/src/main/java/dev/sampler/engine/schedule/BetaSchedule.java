package dev.sampler.engine.schedule;

import dev.sampler.engine.ModelException;
import java.nio.file.Path;

/**
 * The training noise schedule of a diffusers scheduler config: betas and the cumulative products
 * of alphas, bit for bit as diffusers computes them with torch 1.13 on the CPU (float32 tensors):
 *
 * <ul>
 *   <li>"linear": {@code torch.linspace(beta_start, beta_end, n, dtype=float32)}, reproduced with
 *       its kernel's fused multiply-adds and vector blocks ({@link Float32Math#torchLinspace});
 *   <li>"scaled_linear": the same linspace from {@code beta_start ** 0.5} to {@code beta_end ** 0.5},
 *       squared in float32;
 *   <li>"squaredcos_cap_v2": {@code min(1 - alpha_bar(t2) / alpha_bar(t1), 0.999)} in float64 with
 *       {@code alpha_bar(t) = cos((t + 0.008) / 1.008 * pi / 2) ** 2}, rounded to float32;
 *   <li>{@code rescale_betas_zero_snr}: diffusers' {@code rescale_zero_terminal_snr} in float32;
 *   <li>{@code alphas_cumprod = cumprod(1 - betas)}: torch's CPU cumprod accumulates in float64 and
 *       rounds each partial product to float32 (a float32 running product differs in most entries).
 * </ul>
 *
 * <p>Checked against diffusers' own arrays in SchedulerParityTest (train_schedules.json.gz) and
 * BetaScheduleTest. Two libm dependencies remain: {@code beta_start ** 0.5} is Python's (glibc)
 * pow, here {@code Math.sqrt}, and the cosine is glibc's {@code cos}, here {@code StrictMath.cos};
 * a last-bit difference there changes a float32 beta only at a float32 rounding tie.
 *
 * @param betaSchedule the schedule's name ("linear", "scaled_linear", "squaredcos_cap_v2")
 * @param predictionType what the model predicts ("epsilon", "v_prediction", "sample")
 * @param alphasCumprod alpha-bar for each training timestep, float32 values
 */
public record BetaSchedule(String betaSchedule, String predictionType, float[] alphasCumprod) {

  /** The beta schedules implemented. */
  public static final String[] SCHEDULES = {"linear", "scaled_linear", "squaredcos_cap_v2"};

  /** The prediction types implemented. */
  public static final String[] PREDICTION_TYPES = {"epsilon", "v_prediction", "sample"};

  /** The largest {@code num_train_timesteps} accepted. */
  public static final int MAX_TRAIN_TIMESTEPS = 100_000;

  /**
   * Reads the schedule keys of a scheduler_config.json (with diffusers' DDPMScheduler defaults:
   * linear, 0.0001 to 0.02, 1000 steps, epsilon), honouring {@code rescale_betas_zero_snr}.
   *
   * @throws ModelException if the file cannot be read or parsed, or a key has an unsupported
   *     value (the message names the file, the key and the value)
   */
  public static BetaSchedule read(Path schedulerConfig) throws ModelException {
    SchedulerConfig config = SchedulerConfig.read(schedulerConfig);
    try {
      return fromConfig(config, 0.0001, 0.02, true);
    } catch (IllegalArgumentException e) {
      throw new ModelException(e.getMessage(), e);
    }
  }

  /**
   * The schedule of a scheduler config, as the scheduler class with the given defaults builds it.
   *
   * @param defaultBetaStart the class's {@code beta_start} default (0.0001; Heun 0.00085)
   * @param defaultBetaEnd the class's {@code beta_end} default (0.02; Heun 0.012)
   * @param rescaleKey whether the class has the {@code rescale_betas_zero_snr} key (Heun and LMS
   *     do not: diffusers ignores the key for them, and so does this)
   * @throws IllegalArgumentException naming the config's source, the key and the value, for
   *     {@code num_train_timesteps} outside 1..100000, explicit {@code trained_betas}, or a
   *     {@code beta_schedule} or {@code prediction_type} not implemented
   */
  public static BetaSchedule fromConfig(SchedulerConfig config, double defaultBetaStart, double defaultBetaEnd,
      boolean rescaleKey) {
    String where = config.source();
    int n = config.getInt("num_train_timesteps", 1000);
    if (n < 1 || n > MAX_TRAIN_TIMESTEPS) {
      throw new IllegalArgumentException(where + ": unsupported value for 'num_train_timesteps': " + n
          + " (supported: 1.." + MAX_TRAIN_TIMESTEPS + ")");
    }
    if (config.has("trained_betas")) {
      throw new IllegalArgumentException(where + ": unsupported value for 'trained_betas': "
          + abbreviate(config.get("trained_betas").toString()) + " (supported: null; explicit betas are not implemented)");
    }
    String schedule = config.getChoice("beta_schedule", "linear", SCHEDULES);
    String prediction = config.getChoice("prediction_type", "epsilon", PREDICTION_TYPES);
    float[] betas = betas(schedule, n, config.getDouble("beta_start", defaultBetaStart),
        config.getDouble("beta_end", defaultBetaEnd));
    if (rescaleKey && config.getBoolean("rescale_betas_zero_snr", false)) {
      betas = rescaleZeroTerminalSnr(betas);
    }
    return new BetaSchedule(schedule, prediction, alphasCumprod(betas));
  }

  /**
   * diffusers' float32 betas of a named schedule.
   *
   * @throws IllegalArgumentException for a schedule not in {@link #SCHEDULES} or {@code n < 1}
   */
  public static float[] betas(String schedule, int n, double betaStart, double betaEnd) {
    if (n < 1) {
      throw new IllegalArgumentException("a beta schedule needs at least one timestep, got " + n);
    }
    switch (schedule) {
      case "linear" -> {
        return Float32Math.torchLinspace(betaStart, betaEnd, n);
      }
      case "scaled_linear" -> {
        float[] b = Float32Math.torchLinspace(Math.sqrt(betaStart), Math.sqrt(betaEnd), n);
        for (int i = 0; i < n; i++) {
          b[i] = b[i] * b[i];
        }
        return b;
      }
      case "squaredcos_cap_v2" -> {
        float[] b = new float[n];
        for (int i = 0; i < n; i++) {
          double t1 = (double) i / n;
          double t2 = (double) (i + 1) / n;
          b[i] = (float) Math.min(1 - cosineAlphaBar(t2) / cosineAlphaBar(t1), 0.999);
        }
        return b;
      }
      default -> throw new IllegalArgumentException("unsupported beta schedule \"" + schedule + "\" (supported: "
          + String.join(", ", SCHEDULES) + ")");
    }
  }

  /**
   * diffusers' {@code rescale_zero_terminal_snr} (zero terminal SNR, arXiv 2305.08891 Algorithm 1)
   * in float32 as torch computes it: the last beta becomes 1, so the last alphas_cumprod is 0.
   */
  public static float[] rescaleZeroTerminalSnr(float[] betas) {
    int n = betas.length;
    float[] sq = alphasCumprod(betas);
    for (int i = 0; i < n; i++) {
      sq[i] = Float32Math.sqrt(sq[i]);
    }
    float first = sq[0];
    float last = sq[n - 1];
    float scale = first / (first - last);
    float[] bar = new float[n];
    for (int i = 0; i < n; i++) {
      float s = (sq[i] - last) * scale;
      bar[i] = s * s;
    }
    float[] out = new float[n];
    out[0] = 1f - bar[0];
    for (int i = 1; i < n; i++) {
      out[i] = 1f - bar[i] / bar[i - 1];
    }
    return out;
  }

  /** {@code torch.cumprod(1.0 - betas)} on float32: a float64 running product, each entry rounded. */
  public static float[] alphasCumprod(float[] betas) {
    float[] alphas = new float[betas.length];
    for (int i = 0; i < alphas.length; i++) {
      alphas[i] = 1f - betas[i];
    }
    return Float32Math.torchCumprod(alphas);
  }

  /**
   * The schedule of DPMSolverMultistepScheduler and UniPCMultistepScheduler: {@link #fromConfig}
   * with DDPM's defaults, {@link #withZeroSnrFloor}, and at least 2 training timesteps (their
   * {@code _sigma_to_t} brackets a sigma between two training sigmas).
   *
   * @throws IllegalArgumentException as {@link #fromConfig}, and for {@code num_train_timesteps} 1
   */
  static BetaSchedule forMultistep(SchedulerConfig config) {
    int n = config.getInt("num_train_timesteps", 1000);
    if (n < 2 || n > MAX_TRAIN_TIMESTEPS) {
      throw new IllegalArgumentException(config.source() + ": unsupported value for 'num_train_timesteps': " + n
          + " (supported: 2 to " + MAX_TRAIN_TIMESTEPS + ")");
    }
    return withZeroSnrFloor(config, fromConfig(config, 0.0001, 0.02, true));
  }

  /**
   * Euler, Euler ancestral, DPM-Solver and UniPC (not DDPM or DDIM) set the last alphas_cumprod to
   * 2^-24 after the zero-SNR rescale ({@code rescale_betas_zero_snr}), so that its sigma is finite;
   * {@code s} itself is left as it is.
   */
  static BetaSchedule withZeroSnrFloor(SchedulerConfig config, BetaSchedule s) {
    if (config.getBoolean("rescale_betas_zero_snr", false)) {
      float[] ac = s.alphasCumprod().clone();
      ac[ac.length - 1] = 0x1p-24f;
      return new BetaSchedule(s.betaSchedule(), s.predictionType(), ac);
    }
    return s;
  }

  private static double cosineAlphaBar(double t) {
    double c = StrictMath.cos((t + 0.008) / 1.008 * Math.PI / 2);
    return c * c;
  }

  private static String abbreviate(String s) {
    return s.length() <= 40 ? s : s.substring(0, 37) + "...";
  }

  /** Number of training timesteps. */
  public int numTrainTimesteps() {
    return alphasCumprod.length;
  }

  /**
   * The model's estimate of the clean sample x0 from the noisy sample x_t and the model output,
   * per the prediction type, for one row of {@code length} values starting at {@code off}.
   */
  public void predictOriginal(float[] sample, float[] modelOutput, int off, int length, int timestep, float[] x0) {
    double ab = alphasCumprod[timestep];
    double sa = Math.sqrt(ab);
    double sb = Math.sqrt(1 - ab);
    for (int i = off; i < off + length; i++) {
      double x = sample[i];
      double m = modelOutput[i];
      x0[i] = (float) switch (predictionType) {
        case "epsilon" -> (x - sb * m) / sa;
        case "v_prediction" -> sa * x - sb * m;
        default -> m;
      };
    }
  }
}
