package dev.sampler.engine.internal.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Element-wise vector helpers that give the same bits whichever way the JVM runs them.
 *
 * <p>The Vector API's transcendental operations ({@code VectorOperators.EXP}) and floating-point
 * {@code reduceLanes(ADD)} may compute differently in the interpreter, C1 and C2 (SVML stubs,
 * unspecified reduction order), which made two identical forward passes differ in the last bits
 * while the JIT warmed up. Everything here uses only IEEE add, multiply, fused multiply-add,
 * divide and bit operations, in a fixed order, so results are reproducible; the scalar forms do
 * exactly the per-lane arithmetic of the vector forms.
 */
final class VectorMath {
  static final VectorSpecies<Float> S = Gemm.S;
  static final int V = S.length();

  private static final float LOG2E = 1.44269504088896341f;
  /** ln 2 split so that {@code n * LN2_HI} is exact for the n that occur (Cephes). */
  private static final float LN2_HI = 0.693359375f;
  private static final float LN2_LO = -2.12194440e-4f;
  /** 1.5 * 2^23: adding it rounds to an integer held in the low mantissa bits. */
  private static final float ROUND = 12582912f;
  private static final int ROUND_BITS = 0x4B400000;
  private static final float MAX_ARG = 88.3762626647949f;
  private static final float MIN_ARG = -87.3365447504f;
  private static final float P0 = 1.9875691500e-4f;
  private static final float P1 = 1.3981999507e-3f;
  private static final float P2 = 8.3334519073e-3f;
  private static final float P3 = 4.1665795894e-2f;
  private static final float P4 = 1.6666665459e-1f;
  private static final float P5 = 5.0000001201e-1f;

  private VectorMath() {}

  /**
   * {@code exp(x)} to about 1 ulp for {@code x} in [-87.3, 88.4]; arguments outside are clamped
   * (below: the smallest normal float instead of 0 or a subnormal). Cephes' expf: {@code x = n ln2
   * + r}, {@code |r| <= ln2 / 2}, a degree-7 polynomial for {@code exp(r)}, {@code 2^n} from the
   * exponent bits.
   */
  static FloatVector exp(FloatVector x) {
    x = x.max(MIN_ARG).min(MAX_ARG);
    FloatVector t = x.fma(LOG2E, ROUND);
    FloatVector n = t.sub(ROUND);
    FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), x);
    r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
    FloatVector p = r.fma(P0, P1);
    p = p.fma(r, FloatVector.broadcast(S, P2));
    p = p.fma(r, FloatVector.broadcast(S, P3));
    p = p.fma(r, FloatVector.broadcast(S, P4));
    p = p.fma(r, FloatVector.broadcast(S, P5));
    FloatVector y = p.mul(r.mul(r)).add(r).add(1f);
    FloatVector scale = t.reinterpretAsInts().add(127 - ROUND_BITS).lanewise(VectorOperators.LSHL, 23)
        .reinterpretAsFloats();
    return y.mul(scale);
  }

  /** The scalar twin of {@link #exp(FloatVector)}: the same operations, the same bits. */
  static float exp(float x) {
    x = Math.min(Math.max(x, MIN_ARG), MAX_ARG);
    float t = Math.fma(x, LOG2E, ROUND);
    float n = t - ROUND;
    float r = Math.fma(n, -LN2_HI, x);
    r = Math.fma(n, -LN2_LO, r);
    float p = Math.fma(r, P0, P1);
    p = Math.fma(p, r, P2);
    p = Math.fma(p, r, P3);
    p = Math.fma(p, r, P4);
    p = Math.fma(p, r, P5);
    float y = p * (r * r) + r + 1f;
    float scale = Float.intBitsToFloat((Float.floatToRawIntBits(t) + (127 - ROUND_BITS)) << 23);
    return y * scale;
  }

  /** {@code x * sigmoid(x) = x / (1 + exp(-x))}. */
  static FloatVector silu(FloatVector x) {
    return x.div(exp(x.neg()).add(1f));
  }

  /** The scalar twin of {@link #silu(FloatVector)}. */
  static float silu(float x) {
    return x / (exp(-x) + 1f);
  }

  /** {@code o[oOff..oOff+len) = silu(x[xOff..xOff+len))}. */
  static void silu(float[] x, int xOff, float[] o, int oOff, int len) {
    int i = 0;
    for (; i <= len - V; i += V) {
      silu(FloatVector.fromArray(S, x, xOff + i)).intoArray(o, oOff + i);
    }
    for (; i < len; i++) {
      o[oOff + i] = silu(x[xOff + i]);
    }
  }

  /** The lanes of {@code v} summed in lane order (a fixed order, unlike {@code reduceLanes}). */
  static float sumLanes(FloatVector v, float[] scratch) {
    v.intoArray(scratch, 0);
    float s = 0f;
    for (int i = 0; i < V; i++) {
      s += scratch[i];
    }
    return s;
  }

  /**
   * Mean and biased variance of {@code x[off..off+len)} in one pass: sums of {@code x - shift}
   * and its square, with {@code shift} the mean of the first (up to) 64 elements, so the variance
   * does not cancel when the mean is large against the spread; float vectors per block, double
   * across blocks.
   */
  static void meanVar(float[] x, int off, int len, double[] out) {
    float[] lanes = new float[V];
    int probe = Math.min(len, 64);
    double p0 = 0;
    for (int i = 0; i < probe; i++) {
      p0 += x[off + i];
    }
    float shift = (float) (p0 / probe);
    FloatVector sv = FloatVector.broadcast(S, shift);
    double s1 = 0, s2 = 0;
    int i = 0;
    while (i < len) {
      int end = Math.min(len, i + 2048);
      FloatVector a1 = FloatVector.zero(S), a2 = FloatVector.zero(S);
      for (; i <= end - V; i += V) {
        FloatVector d = FloatVector.fromArray(S, x, off + i).sub(sv);
        a1 = a1.add(d);
        a2 = d.fma(d, a2);
      }
      double p1 = sumLanes(a1, lanes), p2 = sumLanes(a2, lanes);
      for (; i < end; i++) {
        double d = x[off + i] - shift;
        p1 += d;
        p2 += d * d;
      }
      s1 += p1;
      s2 += p2;
    }
    double m = s1 / len;
    out[0] = shift + m;
    out[1] = Math.max(0, s2 / len - m * m);
  }
}
