package dev.sampler.engine.schedule;

/**
 * float32 operations of diffusers' schedule code: torch 1.13's CPU {@code linspace} reproduced bit
 * for bit (it builds the training betas, so every schedule depends on it; checked against torch in
 * Float32OpsTest), and correctly rounded float32 {@code exp}/{@code log} standing for torch's and
 * numpy's (which are SIMD approximations; see {@link #exp}).
 */
final class Float32Ops {
  private Float32Ops() {}

  /**
   * {@code torch.linspace(start, end, steps, dtype=torch.float32)} on the CPU.
   *
   * <p>torch's kernel computes {@code step = (end - start) / (steps - 1)} in float32 and each value
   * from the nearer end, {@code start + step * i} below {@code steps / 2} and
   * {@code end - step * (steps - i - 1)} above, which GCC contracts into one fused multiply-add.
   * The AVX2 build fills blocks of 16 as two vectors of 8: each vector takes that formula for its
   * first index j (the branch chosen by j) and adds {@code k * step} (float32 product, then sum)
   * for its other lanes; the {@code steps % 16} tail uses the formula per element. Above 32768
   * elements torch splits the range over threads, which moves the vector boundaries; this is the
   * single-thread result.
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

  /**
   * A float32 {@code exp}, correctly rounded: the float64 exponential rounded once to float32
   * (StrictMath's value is within 1 ulp of float64, which changes the float32 result only at a
   * float32 rounding tie, and is the same on every JVM). torch's own float32 exp (SLEEF's vector kernel, also for 0-dim tensors) is within 1 ulp of
   * this but not always equal; by the lead's decision (scheduler vectors README, "Decision
   * (lead): float32 log/exp") the schedulers use correctly rounded values and the reference
   * vectors are recorded with correctly rounded torch/numpy log and exp.
   */
  static float exp(float x) {
    return (float) StrictMath.exp(x);
  }

  /**
   * A float32 {@code log}, correctly rounded (see {@link #exp}); stands for torch's float32 log and
   * numpy's float32 {@code np.log} (a SIMD kernel with errors up to 3.8 ulp in numpy 1.24).
   */
  static float log(float x) {
    return (float) StrictMath.log(x);
  }

  /** A float32 square root (torch's {@code ** 0.5} and {@code sqrt} on float32 are correctly rounded). */
  static float sqrt(float x) {
    return (float) Math.sqrt(x); // double sqrt then one rounding is correctly rounded for float
  }
}
