package dev.sampler.engine.schedule;

/**
 * What the diffusers "sigma" schedulers (Euler, Euler ancestral, Heun, LMS) share: float32
 * timesteps and sigmas, {@code init_noise_sigma} from the largest sigma, the input scaling
 * {@code x / sqrt(sigma^2 + 1)}, and a step index found from the first timestep passed
 * ({@code index_for_timestep}) and then advanced by each step.
 *
 * <p>Like diffusers' classes (and unlike DDPM/DDIM), these accept more inference steps than
 * training timesteps in {@link #setTimesteps}; diffusers then fails at a later step (an index past
 * the sigmas), and so do these, with an IllegalArgumentException.
 */
abstract class SigmaScheduler implements NoiseScheduler {
  protected final SchedulerConfig config;
  protected final String cls;
  protected final float[] alphasCumprod;
  protected final String predictionType;
  protected final String spacing;
  protected final int stepsOffset;

  /** Set by {@link #setTimesteps}: the float32 timesteps and sigmas (sigmas has one more). */
  protected float[] timesteps;
  protected float[] sigmas;
  /** The current position in the schedule, -1 until the first scaleModelInput or step. */
  protected int stepIndex = -1;

  SigmaScheduler(String cls, SchedulerConfig config, BetaSchedule schedule) {
    this.cls = cls;
    this.config = config;
    this.alphasCumprod = schedule.alphasCumprod();
    this.predictionType = schedule.predictionType();
    this.spacing = config.getChoice("timestep_spacing", "linspace", Spacing.SPACINGS);
    this.stepsOffset = config.getInt("steps_offset", 0);
  }

  @Override
  public final String className() {
    return cls;
  }

  @Override
  public final SchedulerConfig config() {
    return config;
  }

  @Override
  public int order() {
    return 1;
  }

  @Override
  public final double[] timesteps() {
    return timesteps == null ? new double[0] : Sigmas.toDouble(timesteps);
  }

  @Override
  public final double[] sigmas() {
    return sigmas == null ? new double[0] : Sigmas.toDouble(sigmas);
  }

  /**
   * {@code max(sigmas)} for "linspace" and "trailing" spacing, {@code sqrt(max^2 + 1)} for
   * "leading", in float32.
   */
  @Override
  public final double initNoiseSigma() {
    SchedulerSupport.requireTimesteps(cls, sigmas != null);
    float max = Sigmas.max(sigmas);
    return spacing.equals("leading") ? Sigmas.scaledMax(max) : max;
  }

  @Override
  public double[] scaleModelInput(double[] sample, double timestep) {
    SchedulerSupport.requireTimesteps(cls, sigmas != null);
    initStepIndex(timestep);
    double scale = inputScale(sigmaAt(stepIndex));
    double[] out = new double[sample.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = sample[i] / scale;
    }
    return out;
  }

  /** {@code (sigma ** 2 + 1) ** 0.5} in float32. */
  static float inputScale(float sigma) {
    return Float32Math.sqrt(sigma * sigma + 1f);
  }

  /** Looks the first timestep up (diffusers' _init_step_index) if no step ran yet. */
  protected final void initStepIndex(double timestep) {
    if (stepIndex < 0) {
      stepIndex = Sigmas.indexForTimestep(cls, Sigmas.toDouble(timesteps), timestep);
    }
  }

  /** {@code sigmas[i]}, failing as diffusers' IndexError does past the end. */
  protected final float sigmaAt(int i) {
    if (i < 0 || i >= sigmas.length) {
      throw new IllegalArgumentException(cls + ": step index " + i + " is past the end of the " + sigmas.length
          + " sigmas (more steps than timesteps, or a repeated first timestep)");
    }
    return sigmas[i];
  }

  /** Starts a new schedule: the step index is looked up again at the next call. */
  protected final void resetIndex() {
    stepIndex = -1;
  }

  /**
   * The x0 estimate of Euler/Heun/LMS from a float32 sigma: epsilon {@code x - sigma m}, v
   * {@code m * (-sigma / sqrt(sigma^2 + 1)) + x / (sigma^2 + 1)}, sample {@code m}. {@code x} is
   * float64 except where the class cast it to float32 first ({@code xIsFloat32}: then
   * {@code x / (sigma^2 + 1)} is a float32 division, as torch does with two float32 operands).
   */
  static double[] predictOriginal(String predictionType, double[] m, double[] x, float sigma, boolean xIsFloat32) {
    double[] x0 = new double[x.length];
    switch (predictionType) {
      case "epsilon" -> {
        for (int i = 0; i < x0.length; i++) {
          x0[i] = x[i] - sigma * m[i];
        }
      }
      case "v_prediction" -> {
        float s2p1 = sigma * sigma + 1f;
        double c = -sigma / Float32Math.sqrt(s2p1);
        for (int i = 0; i < x0.length; i++) {
          double scaled = xIsFloat32 ? (double) ((float) x[i] / s2p1) : x[i] / s2p1;
          x0[i] = m[i] * c + scaled;
        }
      }
      default -> {
        for (int i = 0; i < x0.length; i++) {
          x0[i] = m[i];
        }
      }
    }
    return x0;
  }

  /** {@code sample.to(torch.float32)}: each value rounded to float32 (kept as double). */
  static double[] toFloat32(double[] sample) {
    double[] out = new double[sample.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) sample[i];
    }
    return out;
  }
}
