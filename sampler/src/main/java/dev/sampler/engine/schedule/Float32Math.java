package dev.sampler.engine.schedule;

/**
 * The float32 functions that diffusers' multistep schedulers evaluate through torch and numpy,
 * reproduced bit for bit (not merely to within an ulp), because their results feed every step's
 * coefficients and a one-ulp float32 difference is far above float64 round-off.
 *
 * <ul>
 *   <li>{@link #torchLog}, {@link #torchExp}, {@link #torchExpm1}: torch's CPU {@code log},
 *       {@code exp} and {@code expm1} on float32 tensors (any size, 0-d included) are SLEEF's
 *       1.0-ulp functions ({@code Sleef_logf8_u10}, {@code Sleef_expf8_u10},
 *       {@code Sleef_expm1f8_u10}) in their AVX2 build, which fuses multiply-adds. They are not
 *       correctly rounded: about 1% of logs and 9% of exps differ by an ulp from the correctly
 *       rounded value. The algorithms below are SLEEF 3.5's ({@code sleefsimdsp.c}, {@code df.h};
 *       Boost licence) with every fused multiply-add as {@link Math#fma(float, float, float)}; a
 *       test checks them against libsleef's {@code Sleef_*f1_u10purecfma} on recorded values.
 *   <li>{@link #numpyLog}: numpy 1.24's float32 {@code np.log} on contiguous arrays on x86 CPUs
 *       with AVX2+FMA3 or AVX512F (its own SIMD routine: a [5/5] rational approximation, up to 3.8
 *       ulp from the correctly rounded value).
 *   <li>{@link #torchLinspace}: {@code torch.linspace(start, end, steps, dtype=torch.float32)} on
 *       the CPU (torch 1.13): a float32 step, the first half counted up from {@code start} and the
 *       second half down from {@code end}, in blocks of 8 lanes.
 *   <li>{@link #torchCumprod}: {@code torch.cumprod} of a float32 tensor on the CPU, which
 *       accumulates in double and rounds each partial product to float32.
 * </ul>
 */
final class Float32Math {
  // SLEEF's split of ln 2 and 1/ln 2 (misc.h)
  private static final float L2U = 0.693145751953125f;
  private static final float L2L = 1.428606765330187045e-06f;
  private static final float R_LN2 = 1.442695040888963407359924681001892137426645954152985934135449406931f;

  private Float32Math() {}

  /** torch.log of a float32 value (SLEEF xlogf_u1, FMA build). */
  static float torchLog(float d) {
    boolean tiny = d < Float.MIN_NORMAL;
    if (tiny) {
      d *= 18446744073709551616f; // 2^64: brings subnormals into the normal range
    }
    int e = ilogb2k(d * (1.0f / 0.75f));
    float m = Float.intBitsToFloat(Float.floatToRawIntBits(d) - (e << 23));
    if (tiny) {
      e -= 64;
    }
    // s = (ln2 as a float pair) * e
    float fe = e;
    float sx = 0.69314718246459960938f * fe;
    float sy = Math.fma(-1.904654323148236017e-09f, fe, Math.fma(0.69314718246459960938f, fe, -sx));
    // x = (m - 1) / (m + 1) as a float pair
    float nx = -1 + m;
    float nv = nx - -1;
    float ny = (-1 - (nx - nv)) + (m - nv);
    float dx = 1 + m;
    float dv = dx - 1;
    float dy = (1 - (dx - dv)) + (m - dv);
    float t = 1.0f / dx;
    float qx = nx * t;
    float u = Math.fma(t, nx, -qx);
    float v = Math.fma(-dy, t, Math.fma(-dx, t, 1));
    float qy = Math.fma(qx, v, Math.fma(ny, t, u));
    float x2 = qx * qx;
    float p = 0.3027294874e+0f;
    p = Math.fma(p, x2, 0.3996108174e+0f);
    p = Math.fma(p, x2, 0.6666694880e+0f);
    // s += 2x (pair add, |s| >= |2x|)
    float ax = qx * 2;
    float ay = qy * 2;
    float rx = sx + ax;
    float ry = (((sx - rx) + ax) + sy) + ay;
    // s += x^3 * p
    float w = x2 * qx * p;
    float zx = rx + w;
    float zy = ((rx - zx) + w) + ry;
    float r = zx + zy;
    if (d == Float.POSITIVE_INFINITY) {
      return Float.POSITIVE_INFINITY;
    }
    if (d < 0 || Float.isNaN(d)) {
      return Float.NaN;
    }
    if (d == 0) {
      return Float.NEGATIVE_INFINITY;
    }
    return r;
  }

  /** torch.exp of a float32 value (SLEEF xexpf, FMA build). */
  static float torchExp(float d) {
    int q = rint(d * R_LN2);
    float fq = q;
    float s = Math.fma(fq, -L2U, d);
    s = Math.fma(fq, -L2L, s);
    float u = (float) 0.000198527617612853646278381;
    u = Math.fma(u, s, (float) 0.00139304355252534151077271);
    u = Math.fma(u, s, (float) 0.00833336077630519866943359);
    u = Math.fma(u, s, (float) 0.0416664853692054748535156);
    u = Math.fma(u, s, (float) 0.166666671633720397949219);
    u = Math.fma(u, s, 0.5f);
    u = 1.0f + Math.fma(s * s, u, s);
    u = ldexp2(u, q);
    if (d < -104) {
      return 0;
    }
    if (100 < d) {
      return Float.POSITIVE_INFINITY;
    }
    return u;
  }

  /** torch.expm1 of a float32 value (SLEEF xexpm1f, FMA build). */
  static float torchExpm1(float a) {
    // expk2f(a, 0): e^a as a float pair
    float dx = a;
    float dy = 0;
    int q = rint((dx + dy) * R_LN2);
    float fq = q;
    float[] s = add2(dx, dy, fq * -L2U);
    s = add2(s[0], s[1], fq * -L2L);
    float u = +0.1980960224e-3f;
    u = Math.fma(u, s[0], +0.1394256484e-2f);
    u = Math.fma(u, s[0], +0.8333456703e-2f);
    u = Math.fma(u, s[0], +0.4166637361e-1f);
    // t = s*u + 1/6
    float mx = s[0] * u;
    float my = Math.fma(s[1], u, Math.fma(s[0], u, -mx));
    float[] t = add2(mx, my, +0.166666659414234244790680580464e+0f);
    // t = s*t + 0.5
    float[] st = mul(s[0], s[1], t[0], t[1]);
    t = add2(st[0], st[1], 0.5f);
    // t = s + s^2 * t
    float sqx = s[0] * s[0];
    float sqy = Math.fma(s[0] + s[0], s[1], Math.fma(s[0], s[0], -sqx));
    float[] p = mul(sqx, sqy, t[0], t[1]);
    t = add2pair(s[0], s[1], p[0], p[1]);
    // t = 1 + t
    float ox = 1 + t[0];
    float oy = ((1 - ox) + t[0]) + t[1];
    ox = ldexp2(ox, q);
    oy = ldexp2(oy, q);
    if (dx < -104) {
      ox = 0;
      oy = 0;
    }
    // xexpm1f: (e^a as a pair) - 1
    float[] r = add2(ox, oy, -1.0f);
    float x = r[0] + r[1];
    if (a > 88.72283172607421875f) {
      x = Float.POSITIVE_INFINITY;
    }
    if (a < -16.635532333438687426013570f) {
      x = -1;
    }
    if (a == 0 && Float.floatToRawIntBits(a) == 0x80000000) {
      x = -0.0f;
    }
    return x;
  }

  /**
   * numpy's float32 {@code np.log} (numpy 1.24, AVX2+FMA3 and AVX512F loops: the mantissa in
   * (sqrt(1/2), sqrt(2)], a [5/5] rational approximation of log(1+x), fused multiply-adds).
   */
  static float numpyLog(float xIn) {
    if (Float.isNaN(xIn)) {
      return Float.NaN;
    }
    if (xIn < 0) {
      return Float.NaN;
    }
    if (xIn == 0) {
      return Float.NEGATIVE_INFINITY;
    }
    if (xIn == Float.POSITIVE_INFINITY) {
      return Float.POSITIVE_INFINITY;
    }
    // mantissa in [0.5, 1) and exponent with x = mantissa * 2^exponent (subnormals normalised)
    float x = xIn;
    int bias = 0;
    if (x < Float.MIN_NORMAL) {
      x *= 0x1p100f;
      bias = 100;
    }
    int bits = Float.floatToRawIntBits(x);
    float exponent = ((bits >>> 23) & 0xff) - 126 - bias;
    float mant = Float.intBitsToFloat((bits & 0x7fffff) | (126 << 23));
    if (mant <= 0.707106781186547524400844362104849039f) {
      mant = mant + mant;
      exponent = exponent - 1f;
    }
    float y = mant - 1f;
    float num = Math.fma(2.589979117907922693523e-02f, y, 3.808837741388407920751e-01f);
    num = Math.fma(num, y, 1.480000633576506585156e+00f);
    num = Math.fma(num, y, 2.112677543073053063722e+00f);
    num = Math.fma(num, y, 9.999999999999998702752e-01f);
    num = Math.fma(num, y, 0.0f);
    float den = Math.fma(5.875095403124574342950e-03f, y, 1.546476374983906719538e-01f);
    den = Math.fma(den, y, 9.864942958519418960339e-01f);
    den = Math.fma(den, y, 2.453006071784736363091e+00f);
    den = Math.fma(den, y, 2.612677543073109236779e+00f);
    den = Math.fma(den, y, 1.0f);
    float poly = num / den;
    return Math.fma(exponent, 0.693147180559945309417232121458176568f, poly);
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

  // ---- SLEEF helpers (float pairs as two floats; FMA variants of df.h) ----

  /** _mm256_cvtps_epi32: round half to even; out-of-range and NaN give Integer.MIN_VALUE. */
  private static int rint(float f) {
    if (Float.isNaN(f) || f >= 0x1p31f || f < -0x1p31f) {
      return Integer.MIN_VALUE;
    }
    return (int) Math.rint(f);
  }

  private static int ilogb2k(float d) {
    return ((Float.floatToRawIntBits(d) >>> 23) & 0xff) - 0x7f;
  }

  private static float pow2i(int q) {
    return Float.intBitsToFloat((q + 0x7f) << 23);
  }

  private static float ldexp2(float d, int e) {
    return d * pow2i(e >> 1) * pow2i(e - (e >> 1));
  }

  /** dfadd2_vf2_vf2_vf: (xx, xy) + y. */
  private static float[] add2(float xx, float xy, float y) {
    float s = xx + y;
    float v = s - xx;
    float t = (xx - (s - v)) + (y - v);
    return new float[] {s, t + xy};
  }

  /** dfadd2_vf2_vf2_vf2: (xx, xy) + (yx, yy). */
  private static float[] add2pair(float xx, float xy, float yx, float yy) {
    float s = xx + yx;
    float v = s - xx;
    float t = (xx - (s - v)) + (yx - v);
    return new float[] {s, t + (xy + yy)};
  }

  /** dfmul_vf2_vf2_vf2 (FMA): (xx, xy) * (yx, yy). */
  private static float[] mul(float xx, float xy, float yx, float yy) {
    float s = xx * yx;
    return new float[] {s, Math.fma(xx, yy, Math.fma(xy, yx, Math.fma(xx, yx, -s)))};
  }
}
