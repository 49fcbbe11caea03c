package dev.sampler.engine.schedule;

/**
 * The sigma (noise level) arithmetic the diffusers sigma schedulers share: training sigmas from
 * alphas_cumprod, {@code np.interp} onto the inference timesteps, Karras sigmas, the
 * sigma-to-timestep inversion {@code _sigma_to_t}, log-linear interpolation, and the timestep
 * lookup {@code index_for_timestep}; each with the float32/float64 roundings (and numpy's legacy
 * scalar promotion) diffusers' code gets from torch 1.13 and numpy 1.24, its log and exp taken
 * correctly rounded (StrictMath), as the reference vectors are recorded.
 */
final class Sigmas {
  private Sigmas() {}

  /** {@code ((1 - alphas_cumprod) / alphas_cumprod) ** 0.5} on the float32 tensor, in training order. */
  static float[] train(float[] alphasCumprod) {
    float[] s = new float[alphasCumprod.length];
    for (int i = 0; i < s.length; i++) {
      float a = alphasCumprod[i];
      s[i] = Float32Math.sqrt((1f - a) / a);
    }
    return s;
  }

  /**
   * {@code np.log} of each float32 training sigma (the {@code log_sigmas} of _sigma_to_t), correctly
   * rounded to float32 ({@link Float32Math#log}).
   */
  static float[] logs(float[] trainSigmas) {
    float[] l = new float[trainSigmas.length];
    for (int i = 0; i < l.length; i++) {
      l[i] = Float32Math.log(trainSigmas[i]);
    }
    return l;
  }

  /**
   * {@code np.interp(timesteps, np.arange(len(fp)), fp)}: float64 linear interpolation at the
   * float32 timesteps, clamped to the end values outside [0, len - 1].
   */
  static double[] interp(float[] timesteps, float[] fp) {
    int last = fp.length - 1;
    double[] out = new double[timesteps.length];
    for (int i = 0; i < out.length; i++) {
      double x = timesteps[i];
      if (Double.isNaN(x)) {
        out[i] = x;
      } else if (x < 0) {
        out[i] = fp[0];
      } else if (x >= last) {
        out[i] = fp[last]; // numpy: above the range and exactly at its end
      } else {
        int j = (int) Math.floor(x); // xp = 0, 1, 2, ...: the bracketing interval
        if (j == x) {
          out[i] = fp[j];
        } else {
          double slope = ((double) fp[j + 1] - fp[j]) / 1.0;
          double r = slope * (x - j) + fp[j];
          if (Double.isNaN(r)) {
            r = slope * (x - (j + 1)) + fp[j + 1];
            if (Double.isNaN(r) && fp[j] == fp[j + 1]) {
              r = fp[j];
            }
          }
          out[i] = r;
        }
      }
    }
    return out;
  }

  /**
   * {@link #interp} at integer timesteps (DPM-Solver's and UniPC's int64 timesteps): the training
   * sigma at {@code t}, clamped to the ends. (Every in-range t is exact as a float32; a t beyond
   * 2^24 is clamped either way.)
   */
  static double[] interp(long[] timesteps, float[] fp) {
    float[] t = new float[timesteps.length];
    for (int i = 0; i < t.length; i++) {
      t[i] = timesteps[i];
    }
    return interp(t, fp);
  }

  /**
   * {@code _convert_to_karras}: {@code (max^(1/7) + ramp * (min^(1/7) - max^(1/7))) ** 7} over
   * {@code ramp = np.linspace(0, 1, n)}, in float64. ({@code StrictMath.pow} may differ from
   * glibc's and numpy's pow in the last bit; the schedule keeps these sigmas, and the logs taken of
   * them, rounded to float32, which hides that but for a double rounding near a float32 tie.)
   */
  static double[] karras(double sigmaMin, double sigmaMax, int n) {
    double rho = 7.0;
    double[] ramp = Spacing.npLinspace(0, 1, n);
    double minInvRho = StrictMath.pow(sigmaMin, 1 / rho);
    double maxInvRho = StrictMath.pow(sigmaMax, 1 / rho);
    double[] s = new double[n];
    for (int i = 0; i < n; i++) {
      s[i] = StrictMath.pow(maxInvRho + ramp[i] * (minInvRho - maxInvRho), rho);
    }
    return s;
  }

  /**
   * {@code _sigma_to_t(sigma, log_sigmas)} for one float64 sigma. numpy 1.24's legacy promotion
   * makes the float64 {@code log(sigma)} float32 where it meets the float32 {@code log_sigmas}
   * array, so the bracket search and the weight are float32; {@code (1 - w) * low + w * high}
   * is float64 (a float32 array times an int64 array).
   */
  static double sigmaToT(double sigma, float[] logSigmas) {
    // float64 log; StrictMath's last-bit differences from a correctly rounded log vanish in the
    // float32 rounding except at a float32 tie
    float logSigma = (float) StrictMath.log(Math.max(sigma, 1e-10));
    // argmax of the cumulative count of (logSigma - log_sigmas >= 0): the last index counted
    int low = 0;
    for (int i = 0; i < logSigmas.length; i++) {
      if (logSigma - logSigmas[i] >= 0f) {
        low = i;
      }
    }
    low = Math.min(low, logSigmas.length - 2);
    int high = low + 1;
    float lo = logSigmas[low];
    float hi = logSigmas[high];
    float w = (lo - logSigma) / (lo - hi);
    w = Math.min(Math.max(w, 0f), 1f); // np.clip (NaN stays NaN)
    if (Float.isNaN(w)) {
      return Double.NaN;
    }
    return (double) (1f - w) * low + (double) w * high;
  }

  /**
   * Euler's {@code interpolation_type="log_linear"}:
   * {@code torch.linspace(np.log(sigmas[-1]), np.log(sigmas[0]), n + 1).exp()}: correctly rounded
   * float32 log and exp, torch's float32 linspace; n + 1 values from the largest training sigma down
   * to the smallest ({@code trainSigmas} in training order). diffusers keeps all n + 1 and still
   * appends the final sigma, so this interpolation leaves one sigma more than usual.
   */
  static float[] logLinear(float[] trainSigmas, int n) {
    float lo = Float32Math.log(trainSigmas[trainSigmas.length - 1]);
    float hi = Float32Math.log(trainSigmas[0]);
    float[] l = Float32Math.torchLinspace(lo, hi, n + 1);
    for (int i = 0; i < l.length; i++) {
      l[i] = Float32Math.exp(l[i]);
    }
    return l;
  }

  /**
   * {@code index_for_timestep}: the position of {@code timestep} in {@code schedule}, the second
   * one where it occurs more than once (diffusers' rule, so that a pipeline starting mid-schedule
   * does not skip a sigma).
   *
   * @throws IllegalArgumentException if it does not occur
   */
  static int indexForTimestep(String cls, double[] schedule, double timestep) {
    int i = positionOf(schedule, timestep);
    if (i < 0) {
      throw new IllegalArgumentException(cls + ": timestep " + timestep + " is not one of this scheduler's timesteps");
    }
    return i;
  }

  /**
   * {@code index_for_timestep}'s search alone: the second position of {@code timestep} in
   * {@code schedule} if it occurs more than once, else the first, or -1 if it does not occur (the
   * multistep schedulers then take the last index, as diffusers' do).
   */
  static int positionOf(double[] schedule, double timestep) {
    int first = -1;
    for (int i = 0; i < schedule.length; i++) {
      if (schedule[i] == timestep) {
        if (first >= 0) {
          return i;
        }
        first = i;
      }
    }
    return first;
  }

  /**
   * DPM-Solver's and UniPC's {@code index_for_timestep}: {@link #positionOf} over their int64
   * timesteps, the last index where {@code timestep} does not occur.
   */
  static int indexOrLast(long[] timesteps, double timestep) {
    int i = positionOf(toDouble(timesteps), timestep);
    return i >= 0 ? i : timesteps.length - 1;
  }

  /** float64 values rounded to float32 (numpy {@code astype(np.float32)}). */
  static float[] toFloat(double[] d) {
    float[] f = new float[d.length];
    for (int i = 0; i < d.length; i++) {
      f[i] = (float) d[i];
    }
    return f;
  }

  /** float32 values as float64. */
  static double[] toDouble(float[] f) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  /** int64 values as float64. */
  static double[] toDouble(long[] l) {
    double[] d = new double[l.length];
    for (int i = 0; i < l.length; i++) {
      d[i] = l[i];
    }
    return d;
  }

  /** The float32 largest value (torch's {@code max()}; NaN if any is NaN). */
  static float max(float[] f) {
    float m = Float.NEGATIVE_INFINITY;
    for (float v : f) {
      if (Float.isNaN(v)) {
        return v;
      }
      m = Math.max(m, v);
    }
    return m;
  }

  /** {@code (max**2 + 1) ** 0.5} in float32, the initial noise scale for "leading" spacing. */
  static float scaledMax(float max) {
    return Float32Math.sqrt(max * max + 1f);
  }

  /**
   * {@code _sigma_to_alpha_sigma_t}'s alpha_t = 1 / (sigma^2 + 1)^0.5 on float32 0-d tensors
   * (DPM-Solver, UniPC); sigma_t is then {@code sigma * alpha_t}.
   */
  static float alpha(float sigma) {
    return 1f / Float32Math.sqrt(sigma * sigma + 1f);
  }

  /** lambda_t = log(alpha_t) - log(sigma_t) with sigma_t = sigma * alpha_t, in float32. */
  static float lambda(float sigma) {
    float a = alpha(sigma);
    return Float32Math.log(a) - Float32Math.log(sigma * a);
  }
}
