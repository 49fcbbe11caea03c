package dev.sampler.engine.sampling;

/**
 * Classifier-free guidance as diffusers pipelines compute it: {@code uncond + scale * (cond -
 * uncond)}, optionally followed by {@code rescale_noise_cfg} (Lin et al. 2023, section 3.4), which
 * rescales each image's guided output to the standard deviation of its conditional output.
 */
public final class Guidance {
  private Guidance() {}

  /**
   * Combines {@code count} images' conditional and unconditional outputs into {@code out}.
   *
   * @param cond conditional outputs, {@code count * per} values
   * @param uncond null-class outputs, same layout
   * @param scale guidance scale (1 gives {@code cond})
   * @param rescale guidance rescale phi in [0, 1] (0 disables it)
   */
  public static void combine(float[] cond, float[] uncond, int count, int per, double scale, double rescale,
      double[] out) {
    int n = count * per;
    if (cond.length < n || uncond.length < n || out.length < n) {
      throw new IllegalArgumentException("guidance arrays hold fewer than " + n + " values");
    }
    for (int i = 0; i < n; i++) {
      double u = uncond[i];
      out[i] = u + scale * (cond[i] - u);
    }
    if (rescale > 0) {
      for (int k = 0; k < count; k++) {
        int off = k * per;
        double stdCond = std(cond, off, per);
        double stdCfg = std(out, off, per);
        double factor = stdCfg == 0 ? 1 : stdCond / stdCfg;
        for (int i = off; i < off + per; i++) {
          double g = out[i];
          out[i] = rescale * (g * factor) + (1 - rescale) * g;
        }
      }
    }
  }

  /** Sample standard deviation (Bessel-corrected, as torch.std), two-pass. */
  static double std(float[] a, int off, int n) {
    double mean = 0;
    for (int i = off; i < off + n; i++) {
      mean += a[i];
    }
    mean /= n;
    double ss = 0;
    for (int i = off; i < off + n; i++) {
      double d = a[i] - mean;
      ss += d * d;
    }
    return Math.sqrt(ss / (n - 1));
  }

  static double std(double[] a, int off, int n) {
    double mean = 0;
    for (int i = off; i < off + n; i++) {
      mean += a[i];
    }
    mean /= n;
    double ss = 0;
    for (int i = off; i < off + n; i++) {
      double d = a[i] - mean;
      ss += d * d;
    }
    return Math.sqrt(ss / (n - 1));
  }
}
