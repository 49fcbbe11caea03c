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
 *   <li>{@link #torchLinspace}: {@code torch.linspace(start, end, steps, dtype=torch.float32)} on
 *       the CPU (torch 1.13): a float32 step, the first half counted up from {@code start} and the
 *       second half down from {@code end}, in blocks of 8 lanes.
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

  /** {@code torch.linspace(start, end, steps, dtype=torch.float32)} on the CPU (torch 1.13). */
  static float[] torchLinspace(double start, double end, int steps) {
    float[] out = new float[steps];
    float s = (float) start;
    float e = (float) end;
    if (steps == 1) {
      out[0] = s;
      return out;
    }
    float step = (e - s) / (float) (steps - 1);
    int half = steps / 2;
    // torch's vectorised loop: two blocks of 8 lanes at a time, each block's first value from the
    // scalar formula (compiled as a fused multiply-add) and lane j as first + j*step; the
    // remaining values (fewer than 16) from the scalar formula one by one
    int i = 0;
    for (; i <= steps - 16; i += 16) {
      for (int block = i; block < i + 16; block += 8) {
        float base = linspaceValue(s, e, step, half, steps, block);
        out[block] = base;
        for (int j = 1; j < 8; j++) {
          out[block + j] = (j * step) + base;
        }
      }
    }
    for (; i < steps; i++) {
      out[i] = linspaceValue(s, e, step, half, steps, i);
    }
    return out;
  }

  private static float linspaceValue(float s, float e, float step, int half, int steps, int idx) {
    return idx < half ? Math.fma(step, (float) idx, s) : Math.fma(-step, (float) (steps - idx - 1), e);
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
