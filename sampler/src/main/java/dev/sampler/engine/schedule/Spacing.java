package dev.sampler.engine.schedule;

/**
 * diffusers' inference timesteps ({@code timestep_spacing} "linspace", "leading", "trailing"), with
 * numpy's arithmetic reproduced: {@code np.linspace} (float64 {@code i * step + start}, the last
 * value set to {@code stop}), {@code np.arange} with a float step (numpy fills
 * {@code start + i * delta} where {@code delta = (start + step) - start}, and takes
 * {@code ceil((stop - start) / step)} values, which for "trailing" is sometimes one more than
 * asked: diffusers then has n + 1 timesteps ending at -1, and so does this), and
 * {@code np.round} (half to even).
 */
final class Spacing {
  private Spacing() {}

  /** The values of {@code timestep_spacing} diffusers implements. */
  static final String[] SPACINGS = {"linspace", "leading", "trailing"};

  /**
   * DDPMScheduler's and DDIMScheduler's integer timesteps (int64 in diffusers), in order: n points
   * over the {@code numTrain} training timesteps.
   *
   * @param spacing one of {@link #SPACINGS} (validated by the caller)
   */
  static long[] integer(String spacing, int n, int numTrain, int stepsOffset) {
    return integer(spacing, n, numTrain, numTrain, stepsOffset, false);
  }

  /**
   * DPMSolverMultistepScheduler's and UniPCMultistepScheduler's integer timesteps, in order. They
   * differ from DDPM's and DDIM's: "linspace" and "leading" place n + 1 points (the "leading" ratio
   * is {@code lastTimestep // (n + 1)}) and drop the smallest, and all three spacings count down
   * from {@code lastTimestep} ({@code num_train_timesteps} less the entries DPM-Solver's
   * {@code lambda_min_clipped} cuts), while the "trailing" step stays
   * {@code num_train_timesteps / n}. May hold more than n entries (numpy's arange for "trailing").
   *
   * @param spacing one of {@link #SPACINGS} (validated by the caller)
   */
  static long[] multistep(String spacing, int n, int numTrain, int lastTimestep, int stepsOffset) {
    return integer(spacing, n, numTrain, lastTimestep, stepsOffset, true);
  }

  private static long[] integer(String spacing, int n, int numTrain, int last, int stepsOffset, boolean dropLast) {
    int points = dropLast ? n + 1 : n;
    switch (spacing) {
      case "linspace" -> {
        double[] lin = npLinspace(0, last - 1, points);
        long[] t = new long[n];
        for (int i = 0; i < n; i++) {
          t[i] = (long) Math.rint(lin[points - 1 - i]);
        }
        return t; // diffusers adds no steps_offset here
      }
      case "leading" -> {
        long ratio = last / points;
        long[] t = new long[n];
        for (int i = 0; i < n; i++) {
          t[i] = (long) (points - 1 - i) * ratio + stepsOffset;
        }
        return t;
      }
      case "trailing" -> {
        double[] a = npArangeDown(last, (double) numTrain / n);
        long[] t = new long[a.length];
        for (int i = 0; i < a.length; i++) {
          t[i] = (long) Math.rint(a[i]) - 1;
        }
        return t;
      }
      default -> throw new IllegalArgumentException("timestep_spacing \"" + spacing + "\"");
    }
  }

  /**
   * The float32 timesteps of the sigma schedulers (Euler, Euler ancestral, Heun, LMS), in order:
   * the same spacings computed in float64 by numpy, then {@code astype(float32)}, with
   * steps_offset (leading) and the trailing {@code - 1} applied in float32.
   */
  static float[] float32(String spacing, int n, int numTrain, int stepsOffset) {
    switch (spacing) {
      case "linspace" -> {
        double[] lin = npLinspace(0, numTrain - 1, n);
        float[] t = new float[n];
        for (int i = 0; i < n; i++) {
          t[i] = (float) lin[n - 1 - i];
        }
        return t;
      }
      case "leading" -> {
        long ratio = numTrain / n;
        float[] t = new float[n];
        for (int i = 0; i < n; i++) {
          t[i] = (float) ((long) (n - 1 - i) * ratio) + (float) stepsOffset;
        }
        return t;
      }
      case "trailing" -> {
        double[] a = npArangeDown(numTrain, (double) numTrain / n);
        float[] t = new float[a.length];
        for (int i = 0; i < a.length; i++) {
          t[i] = (float) Math.rint(a[i]) - 1f;
        }
        return t;
      }
      default -> throw new IllegalArgumentException("timestep_spacing \"" + spacing + "\"");
    }
  }

  /** numpy 1.24's {@code np.linspace(start, stop, num)} in float64 (endpoint included). */
  static double[] npLinspace(double start, double stop, int num) {
    double[] y = new double[num];
    int div = num - 1;
    double delta = stop - start;
    if (div > 0) {
      double step = delta / div;
      for (int i = 0; i < num; i++) {
        // numpy scales by delta / div unless that step underflows to zero
        y[i] = (step == 0 ? (i / (double) div) * delta : i * step) + start;
      }
      y[num - 1] = stop;
    } else {
      for (int i = 0; i < num; i++) {
        y[i] = i * delta + start;
      }
    }
    return y;
  }

  /**
   * numpy 1.24's {@code np.arange(start, 0, -step)} for an integer {@code start} and a float
   * step: length {@code ceil(-start / -step)}, values {@code start}, {@code start - step}, then
   * {@code start + i * delta} with {@code delta} the difference of the first two.
   */
  static double[] npArangeDown(int start, double step) {
    double len = Math.ceil((double) (0 - start) / -step);
    int n = len > 0 ? (int) len : 0;
    double[] a = new double[n];
    if (n == 0) {
      return a;
    }
    a[0] = start;
    if (n == 1) {
      return a;
    }
    a[1] = start + -step;
    double delta = a[1] - a[0];
    for (int i = 2; i < n; i++) {
      a[i] = a[0] + i * delta;
    }
    return a;
  }
}
