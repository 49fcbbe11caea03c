package dev.sampler.engine.schedule;

/**
 * float32 kernels as the reference stack computes them, bit for bit: torch 1.13's CPU kernels at
 * its AVX2 capability (the one Debian's build selects) and numpy 1.24's SIMD float32 log. diffusers
 * builds its schedules with these, and a correctly rounded stand-in differs from them in the last
 * bit often enough (torch's exp in about 1 of 10 arguments, numpy's log in about 1 of 5) to break
 * parity at float64 round-off. Each method names the algorithm it reproduces; the algorithms were
 * read from the torch, Sleef and numpy sources and checked bit for bit against the running
 * libraries on 10^4 to 10^5 arguments each.
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
   * torch's float32 {@code exp} on the CPU, any tensor size (Sleef's {@code expf8_u10}: the same
   * vector kernel serves 0-dim tensors): Cody-Waite reduction by ln 2, a degree-6 polynomial with
   * fused multiply-adds, scaling by two powers of two.
   */
  static float sleefExpf(float d) {
    if (Float.isNaN(d)) {
      return d;
    }
    int q = (int) Math.rint(d * R_LN2F);
    float s = Math.fma((float) q, -L2UF, d);
    s = Math.fma((float) q, -L2LF, s);
    float u = 0.000198527617612853646278381f;
    u = Math.fma(u, s, 0.00139304355252534151077271f);
    u = Math.fma(u, s, 0.00833336077630519866943359f);
    u = Math.fma(u, s, 0.0416664853692054748535156f);
    u = Math.fma(u, s, 0.166666671633720397949219f);
    u = Math.fma(u, s, 0.5f);
    u = 1.0f + Math.fma(s * s, u, s);
    int h = q >> 1;
    u = u * pow2i(h) * pow2i(q - h);
    if (d < -104f) {
      u = 0f;
    }
    if (100f < d) {
      u = Float.POSITIVE_INFINITY;
    }
    return u;
  }

  /**
   * torch's float32 {@code log} on the CPU, any tensor size (Sleef's {@code logf8_u10}, the
   * "u1" kernel): exponent split at 0.75, then log((m-1)/(m+1)) in double-float arithmetic with
   * fused multiply-adds.
   */
  static float sleefLogf(float d) {
    if (Float.isNaN(d) || d < 0f) {
      return Float.NaN;
    }
    if (d == 0f) {
      return Float.NEGATIVE_INFINITY;
    }
    if (d == Float.POSITIVE_INFINITY) {
      return d;
    }
    boolean o = d < Float.MIN_NORMAL;
    if (o) {
      d = d * 18446744073709551616f; // 2^64
    }
    int e = ((Float.floatToRawIntBits(d * (1.0f / 0.75f)) >>> 23) & 0xff) - 0x7f;
    float m = Float.intBitsToFloat(Float.floatToRawIntBits(d) + ((-e) << 23));
    if (o) {
      e -= 64;
    }
    // s = (ln2 as a float pair) * e
    float sx = 0.69314718246459960938f * (float) e;
    float sy = Math.fma(-1.904654323148236017e-09f, (float) e, Math.fma(0.69314718246459960938f, (float) e, -sx));
    // x = (m - 1) / (m + 1) as a float pair
    float nx = -1f + m;
    float nv = nx - (-1f);
    float ny = ((-1f) - (nx - nv)) + (m - nv);
    float dx = 1f + m;
    float dv = dx - 1f;
    float dy = (1f - (dx - dv)) + (m - dv);
    float t = 1.0f / dx;
    float xx = nx * t;
    float uu = Math.fma(t, nx, -xx);
    float vv = Math.fma(-dy, t, Math.fma(-dx, t, 1f));
    float xy = Math.fma(xx, vv, Math.fma(ny, t, uu));
    float x2 = xx * xx;
    float p = 0.3027294874f;
    p = Math.fma(p, x2, 0.3996108174f);
    p = Math.fma(p, x2, 0.6666694880f);
    // s += 2x (pair + pair), then s += x^3 * p (pair + float)
    float ax = xx * 2f;
    float ay = xy * 2f;
    float s1 = sx + ax;
    float s1y = (((sx - s1) + ax) + sy) + ay;
    float w = x2 * xx * p;
    float s2 = s1 + w;
    float s2y = ((s1 - s2) + w) + s1y;
    return s2 + s2y;
  }

  /**
   * numpy 1.24's float32 {@code np.log} with its AVX512F (or AVX2+FMA3) kernel, which it uses for
   * arrays and scalars alike: mantissa in [0.5, 1) (doubled, exponent lowered, at or below
   * sqrt(1/2)), log(1+x) as a ratio of two degree-5 polynomials evaluated with fused
   * multiply-adds, plus exponent * ln 2. Its error reaches 3.8 ulp, so it is not interchangeable
   * with a correctly rounded log.
   */
  static float numpyLogf(float x) {
    if (Float.isNaN(x) || x < 0f) {
      return Float.NaN;
    }
    if (x == 0f) {
      return Float.NEGATIVE_INFINITY;
    }
    if (x == Float.POSITIVE_INFINITY) {
      return x;
    }
    int exp;
    float m;
    if (x < Float.MIN_NORMAL) { // the kernel normalizes subnormals exactly (getexp/getmant)
      float y = x * 33554432f; // 2^25
      exp = Math.getExponent(y) - 25 + 1;
      m = Math.scalb(y, -(Math.getExponent(y) + 1));
    } else {
      exp = Math.getExponent(x) + 1;
      m = Math.scalb(x, -exp);
    }
    float e = (float) exp;
    if (m <= SQRT1_2F) {
      m = m + m;
      e = e - 1f;
    }
    float r = m - 1f;
    float num = Math.fma(LOG_P[5], r, LOG_P[4]);
    num = Math.fma(num, r, LOG_P[3]);
    num = Math.fma(num, r, LOG_P[2]);
    num = Math.fma(num, r, LOG_P[1]);
    num = Math.fma(num, r, LOG_P[0]);
    float den = Math.fma(LOG_Q[5], r, LOG_Q[4]);
    den = Math.fma(den, r, LOG_Q[3]);
    den = Math.fma(den, r, LOG_Q[2]);
    den = Math.fma(den, r, LOG_Q[1]);
    den = Math.fma(den, r, LOG_Q[0]);
    return Math.fma(e, LOGE2F, num / den);
  }

  /** A float32 square root (torch's {@code ** 0.5} and {@code sqrt} on float32 are correctly rounded). */
  static float sqrt(float x) {
    return (float) Math.sqrt(x); // double sqrt then one rounding is correctly rounded for float
  }

  private static float pow2i(int q) {
    return Float.intBitsToFloat((q + 0x7f) << 23);
  }

  // Sleef's constants (sleefsimdsp.c / misc.h)
  private static final float R_LN2F = 1.442695040888963407359924681001892137426645954152985934135449406931f;
  private static final float L2UF = 0.693145751953125f;
  private static final float L2LF = 1.428606765330187045e-06f;

  // numpy's constants (npy_simd_data.h, npy_math.h)
  private static final float[] LOG_P = {
    0.000000000000000000000e+00f, 9.999999999999998702752e-01f, 2.112677543073053063722e+00f,
    1.480000633576506585156e+00f, 3.808837741388407920751e-01f, 2.589979117907922693523e-02f};
  private static final float[] LOG_Q = {
    1.000000000000000000000e+00f, 2.612677543073109236779e+00f, 2.453006071784736363091e+00f,
    9.864942958519418960339e-01f, 1.546476374983906719538e-01f, 5.875095403124574342950e-03f};
  private static final float LOGE2F = 0.693147180559945309417232121458176568f;
  private static final float SQRT1_2F = 0.707106781186547524400844362104849039f;
}
