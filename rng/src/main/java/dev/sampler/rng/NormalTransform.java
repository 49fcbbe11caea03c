package dev.sampler.rng;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The v2 bytes-to-normals conversion of {@link NoiseStream}: Box-Muller over 128-byte blocks,
 * evaluated with the Vector API using only operations whose result IEEE 754 defines exactly
 * (add, multiply, fused multiply-add, square root, int-to-float conversion, integer and bit
 * operations), in a fixed order. The Vector API's transcendental operators (LOG, SIN, COS, ...)
 * call SVML stubs in C2 and fdlibm-like Java code elsewhere and may differ in the last bit, so
 * none is used; log, sin and cos are this class's own polynomials (fitted by
 * {@code tools/fit_noise_polys.py}). Each lane computes exactly the per-pair arithmetic written
 * out in {@link NoiseStream}'s Javadoc, so the output is the same bits in the interpreter, C1 and
 * C2, with 128-, 256- or 512-bit vectors or none; {@code NormalTransformTest} holds the scalar
 * twin and checks that.
 *
 * <p>Block layout (fixed, independent of the vector width): 32 little-endian uint32 words
 * w[0..31]; pair j (0..15) takes a = w[j], c = w[16 + j] and writes its cosine output to float j
 * and its sine output to float 16 + j of the block's 32 floats.
 */
final class NormalTransform {
    /** DRBG bytes consumed per block. */
    static final int BLOCK_BYTES = 128;
    /** Normals produced per block. */
    static final int BLOCK_FLOATS = 32;
    /** Box-Muller pairs per block. */
    static final int PAIRS = 16;

    /**
     * The preferred int species, capped at 512 bits so that its lane count (at most 16) divides a
     * block's 16 pairs. The width changes only how many pairs one instruction handles.
     */
    static final VectorSpecies<Integer> INTS = IntVector.SPECIES_PREFERRED.vectorBitSize() > 512
            ? VectorSpecies.of(int.class, VectorShape.S_512_BIT) : IntVector.SPECIES_PREFERRED;

    /** Byte and float species of the same shape. */
    static final VectorSpecies<Byte> BYTES = INTS.withLanes(byte.class);
    static final VectorSpecies<Float> FLOATS = INTS.withLanes(float.class);
    private static final boolean LITTLE_ENDIAN_PLATFORM = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;

    // u1 = (a >>> 8) * 2^-24 + (((a & 0xFF) << 8 | (c & 0xFF)) + 1) * 2^-40.
    static final float TWO_M24 = 0x1p-24f;
    static final float TWO_M40 = 0x1p-40f;
    // log: m = u1 / 2^k in [SQRT_HALF, 2 SQRT_HALF), f = m - 1, ln(1+f) = f + f^2 P(f).
    static final int SQRT_HALF_BITS = 0x3f3504f3; // 0.70710677f
    static final float L0 = -0x1.fffff8p-2f;
    static final float L1 = 0x1.55555p-2f;
    static final float L2 = -0x1.000438p-2f;
    static final float L3 = 0x1.99a41cp-3f;
    static final float L4 = -0x1.5423e8p-3f;
    static final float L5 = 0x1.226c84p-3f;
    static final float L6 = -0x1.0f5208p-3f;
    static final float L7 = 0x1.0875p-3f;
    static final float L8 = -0x1.38138ep-4f;
    /** ln 2 = LN2_HI + LN2_LO (LN2_HI = float(ln 2), LN2_LO = float(ln 2 - LN2_HI)). */
    static final float LN2_HI = 0x1.62e43p-1f;
    static final float LN2_LO = -0x1.05c61p-29f;
    // angle: g = c >>> 8, quadrant q = (g + 2^21) >>> 22, f = (g - q 2^22) * 2^-22 in [-1/2, 1/2).
    static final float TWO_M22 = 0x1p-22f;
    // sin(pi/2 f) = f (S0 + w (S1 + w (S2 + w S3))), w = f^2, S0 = pi/2 = S0_HI + S0_LO.
    static final float S0_HI = 0x1.921fb6p+0f;
    static final float S0_LO = -0x1.777a5cp-25f;
    static final float S1 = -0x1.4abbbep-1f;
    static final float S2 = 0x1.465facp-4f;
    static final float S3 = -0x1.2db5cep-8f;
    // cos(pi/2 f) = 1 + w (C0 + w (C1 + w (C2 + w C3))).
    static final float C0 = -0x1.3bd3ccp+0f;
    static final float C1 = 0x1.03c1bp-2f;
    static final float C2 = -0x1.55b2b6p-6f;
    static final float C3 = 0x1.d4f7eep-11f;

    private NormalTransform() {}

    /** The most blocks one {@link #convert} pass handles; sizes the caller's scratch array. */
    static final int CHUNK_BLOCKS = 64;

    /**
     * Converts {@code blocks} 128-byte blocks of {@code src} starting at byte {@code srcOff} into
     * {@code 32 * blocks} normals at {@code dst[dstOff...]}, with the preferred vector width.
     * {@code radii} is scratch space of at least {@code 16 * min(blocks, CHUNK_BLOCKS)} floats.
     *
     * @throws IndexOutOfBoundsException if a range is out of bounds
     */
    static void convert(byte[] src, int srcOff, float[] dst, int dstOff, int blocks, float[] radii) {
        // Two passes over at most CHUNK_BLOCKS blocks (4 KiB of radii, in L1): C2 gives up
        // inlining (NodeCountInliningCutoff) when log, sin, cos and the quadrant logic sit in one
        // loop, and a Vector API call that is not inlined boxes every vector (~50x slower).
        for (int done = 0; done < blocks; done += CHUNK_BLOCKS) {
            int n = Math.min(CHUNK_BLOCKS, blocks - done);
            int s = srcOff + done * BLOCK_BYTES;
            radii(src, s, radii, n);
            rotate(src, s, radii, dst, dstOff + done * BLOCK_FLOATS, n);
        }
    }

    // The species must be a compile-time constant in the loop C2 compiles, or every vector
    // operation falls back to boxed Java code: hence INTS directly, not a parameter, and helpers
    // small enough (< 325 bytecodes, FreqInlineSize) to be inlined.

    private static void radii(byte[] src, int srcOff, float[] radii, int blocks) {
        int lanes = INTS.length();
        for (int b = 0; b < blocks; b++) {
            int s = srcOff + b * BLOCK_BYTES;
            for (int j = 0; j < PAIRS; j += lanes) {
                IntVector a = loadLE(BYTES, src, s + 4 * j);
                IntVector c = loadLE(BYTES, src, s + 4 * (PAIRS + j));
                radius(a, c).intoArray(radii, b * PAIRS + j);
            }
        }
    }

    private static void rotate(byte[] src, int srcOff, float[] radii, float[] dst, int dstOff, int blocks) {
        int lanes = INTS.length();
        for (int b = 0; b < blocks; b++) {
            int s = srcOff + b * BLOCK_BYTES;
            int d = dstOff + b * BLOCK_FLOATS;
            for (int j = 0; j < PAIRS; j += lanes) {
                IntVector c = loadLE(BYTES, src, s + 4 * (PAIRS + j));
                FloatVector r = FloatVector.fromArray(FLOATS, radii, b * PAIRS + j);
                rotateAndStore(r, c, dst, d + j, d + PAIRS + j);
            }
        }
    }

    /**
     * The same conversion with the given int species, whose lane count must divide 16, in one
     * pass. For tests, which compare widths in one JVM: with a species that is not a compile-time
     * constant the Vector API computes the same bits through its (slow) Java fallback.
     *
     * @throws IllegalArgumentException if the lane count does not divide 16
     */
    static void convertWith(VectorSpecies<Integer> ints, byte[] src, int srcOff, float[] dst, int dstOff,
            int blocks) {
        int lanes = ints.length();
        if (PAIRS % lanes != 0) {
            throw new IllegalArgumentException("species " + ints + " has " + lanes + " lanes; need a divisor of 16");
        }
        VectorSpecies<Byte> bytes = ints.withLanes(byte.class);
        for (int b = 0; b < blocks; b++) {
            int s = srcOff + b * BLOCK_BYTES;
            int d = dstOff + b * BLOCK_FLOATS;
            for (int j = 0; j < PAIRS; j += lanes) {
                IntVector a = loadLE(bytes, src, s + 4 * j);
                IntVector c = loadLE(bytes, src, s + 4 * (PAIRS + j));
                rotateAndStore(radius(a, c), c, dst, d + j, d + PAIRS + j);
            }
        }
    }

    /** r = sqrt(-2 ln u1), u1 from the 40 bits a || (c &amp; 0xFF). */
    static FloatVector radius(IntVector a, IntVector c) {
        FloatVector hi = toFloat(a.lanewise(VectorOperators.LSHR, 8));
        FloatVector lo = toFloat(a.and(0xFF).lanewise(VectorOperators.LSHL, 8).or(c.and(0xFF)).add(1));
        // Both products are exact (powers of two, no underflow); the add rounds once.
        FloatVector u1 = hi.mul(TWO_M24).add(lo.mul(TWO_M40));
        return log(u1).mul(-2f).sqrt();
    }

    /**
     * ln(x) for normal x in (0, 1]: x = 2^k m with m in [0.70710677, 1.4142135), f = m - 1 (exact),
     * ln x = k ln2 + f + f^2 P(f).
     */
    static FloatVector log(FloatVector x) {
        IntVector ix = x.reinterpretAsInts();
        IntVector k = ix.sub(SQRT_HALF_BITS).lanewise(VectorOperators.ASHR, 23);
        FloatVector f = ix.sub(k.lanewise(VectorOperators.LSHL, 23)).reinterpretAsFloats().sub(1f);
        FloatVector p = f.fma(L8, L7);
        p = p.fma(f, f.broadcast(L6));
        p = p.fma(f, f.broadcast(L5));
        p = p.fma(f, f.broadcast(L4));
        p = p.fma(f, f.broadcast(L3));
        p = p.fma(f, f.broadcast(L2));
        p = p.fma(f, f.broadcast(L1));
        p = p.fma(f, f.broadcast(L0));
        FloatVector y = f.mul(f).fma(p, f);
        FloatVector kf = toFloat(k);
        return kf.fma(f.broadcast(LN2_HI), kf.fma(f.broadcast(LN2_LO), y));
    }

    /**
     * Writes r cos(2 pi g / 2^24) to {@code dst[cosAt...]} and r sin(...) to
     * {@code dst[sinAt...]}, g = c &gt;&gt;&gt; 8. The quadrant reduction is exact (integer), so
     * the polynomials see the exact reduced angle.
     */
    static void rotateAndStore(FloatVector r, IntVector c, float[] dst, int cosAt, int sinAt) {
        IntVector g = c.lanewise(VectorOperators.LSHR, 8);
        IntVector q = g.add(1 << 21).lanewise(VectorOperators.LSHR, 22);
        FloatVector f = toFloat(g.sub(q.lanewise(VectorOperators.LSHL, 22))).mul(TWO_M22);
        FloatVector w = f.mul(f);
        // Quadrant q mod 4: (cos, sin) of the full angle is (C, S), (-S, C), (-C, -S), (S, -C) for
        // C = cos, S = sin of the reduced one: swap on odd q, then flip sign bits; integer selects.
        IntVector ci = cosReduced(w).reinterpretAsInts();
        IntVector si = sinReduced(f, w).reinterpretAsInts();
        IntVector swap = ci.lanewise(VectorOperators.XOR, si).and(q.and(1).neg());
        IntVector cosSign = q.add(1).and(2).lanewise(VectorOperators.LSHL, 30);
        IntVector sinSign = q.and(2).lanewise(VectorOperators.LSHL, 30);
        FloatVector x = ci.lanewise(VectorOperators.XOR, swap).lanewise(VectorOperators.XOR, cosSign)
                .reinterpretAsFloats();
        FloatVector y = si.lanewise(VectorOperators.XOR, swap).lanewise(VectorOperators.XOR, sinSign)
                .reinterpretAsFloats();
        r.mul(x).intoArray(dst, cosAt);
        r.mul(y).intoArray(dst, sinAt);
    }

    /** sin(pi/2 f), w = f^2. */
    static FloatVector sinReduced(FloatVector f, FloatVector w) {
        FloatVector sp = w.fma(S3, S2);
        sp = sp.fma(w, w.broadcast(S1));
        sp = sp.fma(w, w.broadcast(S0_LO));
        return f.fma(f.broadcast(S0_HI), f.mul(sp));
    }

    /** cos(pi/2 f), w = f^2. */
    static FloatVector cosReduced(FloatVector w) {
        FloatVector cp = w.fma(C3, C2);
        cp = cp.fma(w, w.broadcast(C1));
        cp = cp.fma(w, w.broadcast(C0));
        return cp.fma(w, w.broadcast(1f));
    }

    /**
     * Little-endian int lanes from {@code src[off...]}. On a little-endian platform a byte load
     * reinterpreted as ints: C2 does not intrinsify IntVector.fromMemorySegment on a heap segment
     * (VectorSupport::load "failed to inline (intrinsic)" in JDK 25), which made it ~5x slower.
     */
    static IntVector loadLE(VectorSpecies<Byte> bytes, byte[] src, int off) {
        if (LITTLE_ENDIAN_PLATFORM) {
            return ByteVector.fromArray(bytes, src, off).reinterpretAsInts();
        }
        return IntVector.fromMemorySegment(bytes.withLanes(int.class), MemorySegment.ofArray(src), off,
                ByteOrder.LITTLE_ENDIAN);
    }

    private static FloatVector toFloat(IntVector v) {
        return (FloatVector) v.convert(VectorOperators.I2F, 0);
    }
}
