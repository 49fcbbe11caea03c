package dev.sampler.rng;

import static dev.sampler.rng.NormalTransform.C0;
import static dev.sampler.rng.NormalTransform.C1;
import static dev.sampler.rng.NormalTransform.C2;
import static dev.sampler.rng.NormalTransform.C3;
import static dev.sampler.rng.NormalTransform.L0;
import static dev.sampler.rng.NormalTransform.L1;
import static dev.sampler.rng.NormalTransform.L2;
import static dev.sampler.rng.NormalTransform.L3;
import static dev.sampler.rng.NormalTransform.L4;
import static dev.sampler.rng.NormalTransform.L5;
import static dev.sampler.rng.NormalTransform.L6;
import static dev.sampler.rng.NormalTransform.L7;
import static dev.sampler.rng.NormalTransform.L8;
import static dev.sampler.rng.NormalTransform.LN2_HI;
import static dev.sampler.rng.NormalTransform.LN2_LO;
import static dev.sampler.rng.NormalTransform.S0_HI;
import static dev.sampler.rng.NormalTransform.S0_LO;
import static dev.sampler.rng.NormalTransform.S1;
import static dev.sampler.rng.NormalTransform.S2;
import static dev.sampler.rng.NormalTransform.S3;
import static dev.sampler.rng.NormalTransform.SQRT_HALF_BITS;
import static dev.sampler.rng.NormalTransform.TWO_M22;
import static dev.sampler.rng.NormalTransform.TWO_M24;
import static dev.sampler.rng.NormalTransform.TWO_M40;

/**
 * The scalar twin of {@link NormalTransform}: plain Java float arithmetic and
 * {@link Math#fma(float, float, float)}, one pair at a time, written from the definition in
 * {@link NoiseStream}'s Javadoc. Tests assert that the vector code gives exactly these bits.
 */
final class NormalTransformReference {
    private NormalTransformReference() {}

    /** One 128-byte block of {@code src} at {@code off} to 32 floats at {@code dst[dstOff...]}. */
    static void block(byte[] src, int off, float[] dst, int dstOff) {
        for (int j = 0; j < 16; j++) {
            int a = leInt(src, off + 4 * j);
            int c = leInt(src, off + 64 + 4 * j);
            float r = radius(a, c);
            dst[dstOff + j] = r * cosOf(c);
            dst[dstOff + 16 + j] = r * sinOf(c);
        }
    }

    static int leInt(byte[] b, int off) {
        return (b[off] & 0xFF) | (b[off + 1] & 0xFF) << 8 | (b[off + 2] & 0xFF) << 16 | (b[off + 3] & 0xFF) << 24;
    }

    /** u1 = RN((a || (c &amp; 0xFF)) + 1) * 2^-40), the 40-bit uniform in (0, 1]. */
    static float u1(int a, int c) {
        float hi = (float) (a >>> 8);
        float lo = (float) ((((a & 0xFF) << 8) | (c & 0xFF)) + 1);
        return hi * TWO_M24 + lo * TWO_M40;
    }

    static float radius(int a, int c) {
        return (float) Math.sqrt(log(u1(a, c)) * -2f);
    }

    static float log(float x) {
        int ix = Float.floatToRawIntBits(x);
        int k = (ix - SQRT_HALF_BITS) >> 23;
        float f = Float.intBitsToFloat(ix - (k << 23)) - 1f;
        float p = Math.fma(f, L8, L7);
        p = Math.fma(p, f, L6);
        p = Math.fma(p, f, L5);
        p = Math.fma(p, f, L4);
        p = Math.fma(p, f, L3);
        p = Math.fma(p, f, L2);
        p = Math.fma(p, f, L1);
        p = Math.fma(p, f, L0);
        float y = Math.fma(f * f, p, f);
        float kf = (float) k;
        return Math.fma(kf, LN2_HI, Math.fma(kf, LN2_LO, y));
    }

    /** The reduced angle's quadrant q (0..4) and fraction f in [-1/2, 1/2): g = (q + f) 2^22. */
    static int quadrant(int c) {
        return ((c >>> 8) + (1 << 21)) >>> 22;
    }

    static float fraction(int c) {
        int g = c >>> 8;
        return (float) (g - (quadrant(c) << 22)) * TWO_M22;
    }

    /** sin(pi/2 f) of the reduced angle. */
    static float sinReduced(float f) {
        float w = f * f;
        float sp = Math.fma(w, S3, S2);
        sp = Math.fma(sp, w, S1);
        sp = Math.fma(sp, w, S0_LO);
        return Math.fma(f, S0_HI, f * sp);
    }

    /** cos(pi/2 f) of the reduced angle. */
    static float cosReduced(float f) {
        float w = f * f;
        float cp = Math.fma(w, C3, C2);
        cp = Math.fma(cp, w, C1);
        cp = Math.fma(cp, w, C0);
        return Math.fma(cp, w, 1f);
    }

    /** cos(2 pi (c &gt;&gt;&gt; 8) / 2^24). */
    static float cosOf(int c) {
        int q = quadrant(c) & 3;
        float f = fraction(c);
        return switch (q) {
            case 0 -> cosReduced(f);
            case 1 -> -sinReduced(f);
            case 2 -> -cosReduced(f);
            default -> sinReduced(f);
        };
    }

    /** sin(2 pi (c &gt;&gt;&gt; 8) / 2^24). */
    static float sinOf(int c) {
        int q = quadrant(c) & 3;
        float f = fraction(c);
        return switch (q) {
            case 0 -> sinReduced(f);
            case 1 -> cosReduced(f);
            case 2 -> -sinReduced(f);
            default -> -cosReduced(f);
        };
    }
}
