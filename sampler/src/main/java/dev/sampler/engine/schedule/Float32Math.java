package dev.sampler.engine.schedule;

/**
 * The float32 functions that diffusers' multistep schedulers evaluate through torch and numpy.
 *
 * <ul>
 *   <li>{@link #log}, {@link #exp}, {@link #expm1}: float32 {@code torch.log}, {@code torch.exp},
 *       {@code torch.expm1} (and numpy's float32 {@code np.log}), <b>correctly rounded</b>: the
 *       float64 function rounded to float32 (with {@link StrictMath}, so that every JVM gives the
 *       same bits; correctly rounded except where the float64 result falls within its error of a
 *       float32 rounding boundary, a chance of about 2^-28 per value). This is the project's
 *       decision (scheduler vectors README, "Decision (lead)"): torch's CPU kernels are SLEEF's 1-ulp functions (about 1% of logs and 10% of exps differ
 *       from the correctly rounded value by an ulp) and numpy's SIMD log is up to 3.8 ulp off;
 *       both depend on the build and the CPU, so the parity vectors are made with diffusers
 *       running on correctly rounded functions instead.
 *   <li>{@link #sqrt}: float32 square root (correctly rounded, as torch's).
 *   <li>{@link #torchLinspace}: {@code torch.linspace(start, end, steps, dtype=torch.float32)} on
 *       the CPU (torch 1.13): a float32 step, the first half counted up from {@code start} and the
 *       second half down from {@code end}, in blocks of 8 lanes. It builds the training betas, so
 *       every schedule depends on it.
 *   <li>{@link #torchCumprod}: {@code torch.cumprod} of a float32 tensor on the CPU, which
 *       accumulates in double and rounds each partial product to float32.
 * </ul>
 */
final class Float32Math {
  private Float32Math() {}

  /** Float32 natural logarithm, correctly rounded (log(0) = -inf, log(x < 0) = NaN). */
  static float log(float x) {
    return (float) StrictMath.log(x);
  }

  /** Float32 e^x, correctly rounded. */
  static float exp(float x) {
    return (float) StrictMath.exp(x);
  }

  /** Float32 e^x - 1, correctly rounded (expm1(-inf) = -1). */
  static float expm1(float x) {
    return (float) StrictMath.expm1(x);
  }

  /** Float32 square root: torch's {@code ** 0.5} and {@code sqrt} on float32 are correctly rounded. */
  static float sqrt(float x) {
    return (float) Math.sqrt(x); // double sqrt then one rounding is correctly rounded for float
  }

  /**
   * {@code torch.linspace(start, end, steps, dtype=torch.float32)} on the CPU (torch 1.13).
   *
   * <p>torch's kernel computes {@code step = (end - start) / (steps - 1)} in float32 and each value
   * from the nearer end, {@code start + step * i} below {@code steps / 2} and
   * {@code end - step * (steps - i - 1)} above, which GCC contracts into one fused multiply-add.
   * The AVX2 build fills blocks of 16 as two vectors of 8: each vector takes that formula for its
   * first index j (the branch chosen by j) and adds {@code k * step} (float32 product, then sum)
   * for all its lanes, lane 0 included (so a -0.0 first value becomes +0.0 as in torch); the
   * {@code steps % 16} tail uses the formula per element. Above 32768 elements torch splits the
   * range over threads, which moves the vector boundaries; this is the single-thread result.
   *
   * @throws IllegalArgumentException if {@code steps < 1}
   */
  static float[] torchLinspace(double start, double end, int steps) {
    if (steps < 1) {
      throw new IllegalArgumentException("linspace needs at least one step, got " + steps);
    }
    float s = (float) start;
    float e = (float) end;
    float[] out = new float[steps];
    if (steps == 1) {
      out[0] = s; // torch fills a one-element linspace with start
      return out;
    }
    float step = (e - s) / (float) (steps - 1);
    int half = steps / 2;
    int i = 0;
    for (; i <= steps - 16; i += 16) {
      for (int v = i; v < i + 16; v += 8) {
        float base = linspaceAt(v, s, e, step, half, steps);
        for (int k = 0; k < 8; k++) {
          out[v + k] = base + (float) k * step;
        }
      }
    }
    for (; i < steps; i++) {
      out[i] = linspaceAt(i, s, e, step, half, steps);
    }
    return out;
  }

  private static float linspaceAt(int i, float s, float e, float step, int half, int steps) {
    return i < half ? Math.fma(step, (float) i, s) : Math.fma(-step, (float) (steps - i - 1), e);
  }

  /** {@code torch.cumprod} of a float32 tensor on the CPU: a double accumulator, float32 outputs. */
  static float[] torchCumprod(float[] x) {
    float[] out = new float[x.length];
    double acc = 1;
    for (int i = 0; i < x.length; i++) {
      acc *= x[i];
      out[i] = (float) acc;
    }
    return out;
  }
}
