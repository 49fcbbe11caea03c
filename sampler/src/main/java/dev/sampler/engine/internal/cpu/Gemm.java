package dev.sampler.engine.internal.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Register-blocked float32 micro-kernels for {@code tile[r][j] = sum_k A[r][k] * B[k][j]}, the
 * building block of every convolution and matrix product of the CPU backend.
 *
 * <p>A is read as {@code a[aOff + k * aStride + r]}: a packed panel ({@code aStride == MR}) or any
 * matrix whose MR rows are contiguous at each k (the keys of an attention head). B is read as
 * {@code b[bBase + koff[k] + j]}: {@code koff} maps each reduction index to a row, which lets a
 * 3x3 convolution read its input shifted in place instead of unfolding it (im2col). The tile is
 * {@code MR x NR} with row stride NR.
 *
 * <p>Shape: 8 rows x 3 vectors (24 accumulators) where the CPU has 512-bit vectors (32 vector
 * registers), 6 rows x 2 vectors (12 accumulators) with 256-bit vectors (16 registers). The
 * kernels are written out one statement per accumulator, and each must stay below HotSpot's
 * 8000-byte limit for compiling a method (a bigger one runs interpreted, 50x slower).
 */
final class Gemm {
  static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  static final int V = S.length();
  static final boolean WIDE = V >= 16;
  /** Rows per micro-tile. */
  static final int MR = WIDE ? 8 : 6;
  /** Column groups (of V lanes) per micro-tile. */
  static final int SLOTS = WIDE ? 3 : 2;
  /** Columns per micro-tile. */
  static final int NR = SLOTS * V;

  private Gemm() {}

  static String describe() {
    return "Java Vector API micro-kernel " + MR + "x" + NR + " (" + S + ")";
  }

  /**
   * {@code tile = A * B} for one micro-tile whose {@link #SLOTS} column groups of V lanes start at
   * {@code b[koff[k] + s_j]}.
   */
  static void tile(float[] a, int aOff, int aStride, float[] b, int[] koff, int kLen, int s0, int s1, int s2,
      float[] tile) {
    if (WIDE) {
      tile8x3(a, aOff, aStride, b, koff, kLen, s0, s1, s2, tile);
    } else {
      tile6x2(a, aOff, aStride, b, koff, kLen, s0, s1, tile);
    }
  }

  /** {@link #tile} over contiguous columns {@code [bBase, bBase + NR)}. */
  static void kernel(float[] a, int aOff, int aStride, float[] b, int bBase, int[] koff, int kLen, float[] tile) {
    tile(a, aOff, aStride, b, koff, kLen, bBase, bBase + V, bBase + 2 * V, tile);
  }

  /**
   * A full MR-row micro-tile straight into the output, with the epilogue in registers, over the
   * reduction indices {@code [kFrom, kFrom + kLen)}: the {@code first} chunk starts from {@code
   * cb[q_j + r] + res[o_j + r * ldo + i]} ({@code res} may be null), later chunks from what the
   * previous one stored; the {@code last} multiplies by {@code scale}. Stores {@code out[o_j + r *
   * ldo + i]} for {@code i < V}. A is read as in {@link #tile}.
   */
  static void direct(float[] a, int aOff, int aStride, float[] b, int[] koff, int kFrom, int kLen, int s0, int s1,
      int s2, float[] out, int o0, int o1, int o2, int ldo, float[] cb, int q0, int q1, int q2, float[] res,
      float scale, boolean first, boolean last) {
    float sc = last ? scale : 1f;
    if (WIDE) {
      if (first) {
        first8x3(a, aOff, aStride, b, koff, kFrom, kLen, s0, s1, s2, out, o0, o1, o2, ldo, cb, q0, q1, q2, res, sc);
      } else {
        next8x3(a, aOff, aStride, b, koff, kFrom, kLen, s0, s1, s2, out, o0, o1, o2, ldo, sc);
      }
    } else {
      if (first) {
        first6x2(a, aOff, aStride, b, koff, kFrom, kLen, s0, s1, out, o0, o1, ldo, cb, q0, q1, res, sc);
      } else {
        next6x2(a, aOff, aStride, b, koff, kFrom, kLen, s0, s1, out, o0, o1, ldo, sc);
      }
    }
  }

  private static void tile8x3(float[] a, int aOff, int aStride, float[] b, int[] koff, int kLen, int s0, int s1, int s2,
      float[] t) {
    FloatVector z = FloatVector.zero(S);
    FloatVector c00 = z, c01 = z, c02 = z;
    FloatVector c10 = z, c11 = z, c12 = z;
    FloatVector c20 = z, c21 = z, c22 = z;
    FloatVector c30 = z, c31 = z, c32 = z;
    FloatVector c40 = z, c41 = z, c42 = z;
    FloatVector c50 = z, c51 = z, c52 = z;
    FloatVector c60 = z, c61 = z, c62 = z;
    FloatVector c70 = z, c71 = z, c72 = z;
    int ai = aOff;
    for (int k = 0; k < kLen; k++, ai += aStride) {
      int bi = koff[k];
      FloatVector b0 = FloatVector.fromArray(S, b, bi + s0);
      FloatVector b1 = FloatVector.fromArray(S, b, bi + s1);
      FloatVector b2 = FloatVector.fromArray(S, b, bi + s2);
      FloatVector x = FloatVector.broadcast(S, a[ai]);
      c00 = x.fma(b0, c00);
      c01 = x.fma(b1, c01);
      c02 = x.fma(b2, c02);
      x = FloatVector.broadcast(S, a[ai + 1]);
      c10 = x.fma(b0, c10);
      c11 = x.fma(b1, c11);
      c12 = x.fma(b2, c12);
      x = FloatVector.broadcast(S, a[ai + 2]);
      c20 = x.fma(b0, c20);
      c21 = x.fma(b1, c21);
      c22 = x.fma(b2, c22);
      x = FloatVector.broadcast(S, a[ai + 3]);
      c30 = x.fma(b0, c30);
      c31 = x.fma(b1, c31);
      c32 = x.fma(b2, c32);
      x = FloatVector.broadcast(S, a[ai + 4]);
      c40 = x.fma(b0, c40);
      c41 = x.fma(b1, c41);
      c42 = x.fma(b2, c42);
      x = FloatVector.broadcast(S, a[ai + 5]);
      c50 = x.fma(b0, c50);
      c51 = x.fma(b1, c51);
      c52 = x.fma(b2, c52);
      x = FloatVector.broadcast(S, a[ai + 6]);
      c60 = x.fma(b0, c60);
      c61 = x.fma(b1, c61);
      c62 = x.fma(b2, c62);
      x = FloatVector.broadcast(S, a[ai + 7]);
      c70 = x.fma(b0, c70);
      c71 = x.fma(b1, c71);
      c72 = x.fma(b2, c72);
    }
    c00.intoArray(t, 0 * NR + 0 * V);
    c01.intoArray(t, 0 * NR + 1 * V);
    c02.intoArray(t, 0 * NR + 2 * V);
    c10.intoArray(t, 1 * NR + 0 * V);
    c11.intoArray(t, 1 * NR + 1 * V);
    c12.intoArray(t, 1 * NR + 2 * V);
    c20.intoArray(t, 2 * NR + 0 * V);
    c21.intoArray(t, 2 * NR + 1 * V);
    c22.intoArray(t, 2 * NR + 2 * V);
    c30.intoArray(t, 3 * NR + 0 * V);
    c31.intoArray(t, 3 * NR + 1 * V);
    c32.intoArray(t, 3 * NR + 2 * V);
    c40.intoArray(t, 4 * NR + 0 * V);
    c41.intoArray(t, 4 * NR + 1 * V);
    c42.intoArray(t, 4 * NR + 2 * V);
    c50.intoArray(t, 5 * NR + 0 * V);
    c51.intoArray(t, 5 * NR + 1 * V);
    c52.intoArray(t, 5 * NR + 2 * V);
    c60.intoArray(t, 6 * NR + 0 * V);
    c61.intoArray(t, 6 * NR + 1 * V);
    c62.intoArray(t, 6 * NR + 2 * V);
    c70.intoArray(t, 7 * NR + 0 * V);
    c71.intoArray(t, 7 * NR + 1 * V);
    c72.intoArray(t, 7 * NR + 2 * V);
  }

  private static void tile6x2(float[] a, int aOff, int aStride, float[] b, int[] koff, int kLen, int s0, int s1,
      float[] t) {
    FloatVector z = FloatVector.zero(S);
    FloatVector c00 = z, c01 = z;
    FloatVector c10 = z, c11 = z;
    FloatVector c20 = z, c21 = z;
    FloatVector c30 = z, c31 = z;
    FloatVector c40 = z, c41 = z;
    FloatVector c50 = z, c51 = z;
    int ai = aOff;
    for (int k = 0; k < kLen; k++, ai += aStride) {
      int bi = koff[k];
      FloatVector b0 = FloatVector.fromArray(S, b, bi + s0);
      FloatVector b1 = FloatVector.fromArray(S, b, bi + s1);
      FloatVector x = FloatVector.broadcast(S, a[ai]);
      c00 = x.fma(b0, c00);
      c01 = x.fma(b1, c01);
      x = FloatVector.broadcast(S, a[ai + 1]);
      c10 = x.fma(b0, c10);
      c11 = x.fma(b1, c11);
      x = FloatVector.broadcast(S, a[ai + 2]);
      c20 = x.fma(b0, c20);
      c21 = x.fma(b1, c21);
      x = FloatVector.broadcast(S, a[ai + 3]);
      c30 = x.fma(b0, c30);
      c31 = x.fma(b1, c31);
      x = FloatVector.broadcast(S, a[ai + 4]);
      c40 = x.fma(b0, c40);
      c41 = x.fma(b1, c41);
      x = FloatVector.broadcast(S, a[ai + 5]);
      c50 = x.fma(b0, c50);
      c51 = x.fma(b1, c51);
    }
    c00.intoArray(t, 0 * NR + 0 * V);
    c01.intoArray(t, 0 * NR + 1 * V);
    c10.intoArray(t, 1 * NR + 0 * V);
    c11.intoArray(t, 1 * NR + 1 * V);
    c20.intoArray(t, 2 * NR + 0 * V);
    c21.intoArray(t, 2 * NR + 1 * V);
    c30.intoArray(t, 3 * NR + 0 * V);
    c31.intoArray(t, 3 * NR + 1 * V);
    c40.intoArray(t, 4 * NR + 0 * V);
    c41.intoArray(t, 4 * NR + 1 * V);
    c50.intoArray(t, 5 * NR + 0 * V);
    c51.intoArray(t, 5 * NR + 1 * V);
  }

  private static void first8x3(float[] a, int aOff, int aStride, float[] b, int[] koff, int kFrom,
      int kLen, int s0, int s1, int s2, float[] out, int o0, int o1, int o2, int ldo, float[] cb, int q0, int q1, int q2, float[] res,
      float scale) {
    FloatVector c00 = FloatVector.broadcast(S, cb[q0 + 0]);
    FloatVector c01 = FloatVector.broadcast(S, cb[q1 + 0]);
    FloatVector c02 = FloatVector.broadcast(S, cb[q2 + 0]);
    FloatVector c10 = FloatVector.broadcast(S, cb[q0 + 1]);
    FloatVector c11 = FloatVector.broadcast(S, cb[q1 + 1]);
    FloatVector c12 = FloatVector.broadcast(S, cb[q2 + 1]);
    FloatVector c20 = FloatVector.broadcast(S, cb[q0 + 2]);
    FloatVector c21 = FloatVector.broadcast(S, cb[q1 + 2]);
    FloatVector c22 = FloatVector.broadcast(S, cb[q2 + 2]);
    FloatVector c30 = FloatVector.broadcast(S, cb[q0 + 3]);
    FloatVector c31 = FloatVector.broadcast(S, cb[q1 + 3]);
    FloatVector c32 = FloatVector.broadcast(S, cb[q2 + 3]);
    FloatVector c40 = FloatVector.broadcast(S, cb[q0 + 4]);
    FloatVector c41 = FloatVector.broadcast(S, cb[q1 + 4]);
    FloatVector c42 = FloatVector.broadcast(S, cb[q2 + 4]);
    FloatVector c50 = FloatVector.broadcast(S, cb[q0 + 5]);
    FloatVector c51 = FloatVector.broadcast(S, cb[q1 + 5]);
    FloatVector c52 = FloatVector.broadcast(S, cb[q2 + 5]);
    FloatVector c60 = FloatVector.broadcast(S, cb[q0 + 6]);
    FloatVector c61 = FloatVector.broadcast(S, cb[q1 + 6]);
    FloatVector c62 = FloatVector.broadcast(S, cb[q2 + 6]);
    FloatVector c70 = FloatVector.broadcast(S, cb[q0 + 7]);
    FloatVector c71 = FloatVector.broadcast(S, cb[q1 + 7]);
    FloatVector c72 = FloatVector.broadcast(S, cb[q2 + 7]);
    if (res != null) {
      c00 = c00.add(FloatVector.fromArray(S, res, o0 + 0 * ldo));
      c01 = c01.add(FloatVector.fromArray(S, res, o1 + 0 * ldo));
      c02 = c02.add(FloatVector.fromArray(S, res, o2 + 0 * ldo));
      c10 = c10.add(FloatVector.fromArray(S, res, o0 + 1 * ldo));
      c11 = c11.add(FloatVector.fromArray(S, res, o1 + 1 * ldo));
      c12 = c12.add(FloatVector.fromArray(S, res, o2 + 1 * ldo));
      c20 = c20.add(FloatVector.fromArray(S, res, o0 + 2 * ldo));
      c21 = c21.add(FloatVector.fromArray(S, res, o1 + 2 * ldo));
      c22 = c22.add(FloatVector.fromArray(S, res, o2 + 2 * ldo));
      c30 = c30.add(FloatVector.fromArray(S, res, o0 + 3 * ldo));
      c31 = c31.add(FloatVector.fromArray(S, res, o1 + 3 * ldo));
      c32 = c32.add(FloatVector.fromArray(S, res, o2 + 3 * ldo));
      c40 = c40.add(FloatVector.fromArray(S, res, o0 + 4 * ldo));
      c41 = c41.add(FloatVector.fromArray(S, res, o1 + 4 * ldo));
      c42 = c42.add(FloatVector.fromArray(S, res, o2 + 4 * ldo));
      c50 = c50.add(FloatVector.fromArray(S, res, o0 + 5 * ldo));
      c51 = c51.add(FloatVector.fromArray(S, res, o1 + 5 * ldo));
      c52 = c52.add(FloatVector.fromArray(S, res, o2 + 5 * ldo));
      c60 = c60.add(FloatVector.fromArray(S, res, o0 + 6 * ldo));
      c61 = c61.add(FloatVector.fromArray(S, res, o1 + 6 * ldo));
      c62 = c62.add(FloatVector.fromArray(S, res, o2 + 6 * ldo));
      c70 = c70.add(FloatVector.fromArray(S, res, o0 + 7 * ldo));
      c71 = c71.add(FloatVector.fromArray(S, res, o1 + 7 * ldo));
      c72 = c72.add(FloatVector.fromArray(S, res, o2 + 7 * ldo));
    }
    int ai = aOff + kFrom * aStride;
    int kEnd = kFrom + kLen;
    for (int k = kFrom; k < kEnd; k++, ai += aStride) {
      int bi = koff[k];
      FloatVector b0 = FloatVector.fromArray(S, b, bi + s0);
      FloatVector b1 = FloatVector.fromArray(S, b, bi + s1);
      FloatVector b2 = FloatVector.fromArray(S, b, bi + s2);
      FloatVector x = FloatVector.broadcast(S, a[ai]);
      c00 = x.fma(b0, c00);
      c01 = x.fma(b1, c01);
      c02 = x.fma(b2, c02);
      x = FloatVector.broadcast(S, a[ai + 1]);
      c10 = x.fma(b0, c10);
      c11 = x.fma(b1, c11);
      c12 = x.fma(b2, c12);
      x = FloatVector.broadcast(S, a[ai + 2]);
      c20 = x.fma(b0, c20);
      c21 = x.fma(b1, c21);
      c22 = x.fma(b2, c22);
      x = FloatVector.broadcast(S, a[ai + 3]);
      c30 = x.fma(b0, c30);
      c31 = x.fma(b1, c31);
      c32 = x.fma(b2, c32);
      x = FloatVector.broadcast(S, a[ai + 4]);
      c40 = x.fma(b0, c40);
      c41 = x.fma(b1, c41);
      c42 = x.fma(b2, c42);
      x = FloatVector.broadcast(S, a[ai + 5]);
      c50 = x.fma(b0, c50);
      c51 = x.fma(b1, c51);
      c52 = x.fma(b2, c52);
      x = FloatVector.broadcast(S, a[ai + 6]);
      c60 = x.fma(b0, c60);
      c61 = x.fma(b1, c61);
      c62 = x.fma(b2, c62);
      x = FloatVector.broadcast(S, a[ai + 7]);
      c70 = x.fma(b0, c70);
      c71 = x.fma(b1, c71);
      c72 = x.fma(b2, c72);
    }
    if (scale != 1f) {
      c00 = c00.mul(scale);
      c01 = c01.mul(scale);
      c02 = c02.mul(scale);
      c10 = c10.mul(scale);
      c11 = c11.mul(scale);
      c12 = c12.mul(scale);
      c20 = c20.mul(scale);
      c21 = c21.mul(scale);
      c22 = c22.mul(scale);
      c30 = c30.mul(scale);
      c31 = c31.mul(scale);
      c32 = c32.mul(scale);
      c40 = c40.mul(scale);
      c41 = c41.mul(scale);
      c42 = c42.mul(scale);
      c50 = c50.mul(scale);
      c51 = c51.mul(scale);
      c52 = c52.mul(scale);
      c60 = c60.mul(scale);
      c61 = c61.mul(scale);
      c62 = c62.mul(scale);
      c70 = c70.mul(scale);
      c71 = c71.mul(scale);
      c72 = c72.mul(scale);
    }
    c00.intoArray(out, o0 + 0 * ldo);
    c01.intoArray(out, o1 + 0 * ldo);
    c02.intoArray(out, o2 + 0 * ldo);
    c10.intoArray(out, o0 + 1 * ldo);
    c11.intoArray(out, o1 + 1 * ldo);
    c12.intoArray(out, o2 + 1 * ldo);
    c20.intoArray(out, o0 + 2 * ldo);
    c21.intoArray(out, o1 + 2 * ldo);
    c22.intoArray(out, o2 + 2 * ldo);
    c30.intoArray(out, o0 + 3 * ldo);
    c31.intoArray(out, o1 + 3 * ldo);
    c32.intoArray(out, o2 + 3 * ldo);
    c40.intoArray(out, o0 + 4 * ldo);
    c41.intoArray(out, o1 + 4 * ldo);
    c42.intoArray(out, o2 + 4 * ldo);
    c50.intoArray(out, o0 + 5 * ldo);
    c51.intoArray(out, o1 + 5 * ldo);
    c52.intoArray(out, o2 + 5 * ldo);
    c60.intoArray(out, o0 + 6 * ldo);
    c61.intoArray(out, o1 + 6 * ldo);
    c62.intoArray(out, o2 + 6 * ldo);
    c70.intoArray(out, o0 + 7 * ldo);
    c71.intoArray(out, o1 + 7 * ldo);
    c72.intoArray(out, o2 + 7 * ldo);
  }

  private static void next8x3(float[] a, int aOff, int aStride, float[] b, int[] koff, int kFrom,
      int kLen, int s0, int s1, int s2, float[] out, int o0, int o1, int o2, int ldo, float scale) {
    FloatVector c00 = FloatVector.fromArray(S, out, o0 + 0 * ldo);
    FloatVector c01 = FloatVector.fromArray(S, out, o1 + 0 * ldo);
    FloatVector c02 = FloatVector.fromArray(S, out, o2 + 0 * ldo);
    FloatVector c10 = FloatVector.fromArray(S, out, o0 + 1 * ldo);
    FloatVector c11 = FloatVector.fromArray(S, out, o1 + 1 * ldo);
    FloatVector c12 = FloatVector.fromArray(S, out, o2 + 1 * ldo);
    FloatVector c20 = FloatVector.fromArray(S, out, o0 + 2 * ldo);
    FloatVector c21 = FloatVector.fromArray(S, out, o1 + 2 * ldo);
    FloatVector c22 = FloatVector.fromArray(S, out, o2 + 2 * ldo);
    FloatVector c30 = FloatVector.fromArray(S, out, o0 + 3 * ldo);
    FloatVector c31 = FloatVector.fromArray(S, out, o1 + 3 * ldo);
    FloatVector c32 = FloatVector.fromArray(S, out, o2 + 3 * ldo);
    FloatVector c40 = FloatVector.fromArray(S, out, o0 + 4 * ldo);
    FloatVector c41 = FloatVector.fromArray(S, out, o1 + 4 * ldo);
    FloatVector c42 = FloatVector.fromArray(S, out, o2 + 4 * ldo);
    FloatVector c50 = FloatVector.fromArray(S, out, o0 + 5 * ldo);
    FloatVector c51 = FloatVector.fromArray(S, out, o1 + 5 * ldo);
    FloatVector c52 = FloatVector.fromArray(S, out, o2 + 5 * ldo);
    FloatVector c60 = FloatVector.fromArray(S, out, o0 + 6 * ldo);
    FloatVector c61 = FloatVector.fromArray(S, out, o1 + 6 * ldo);
    FloatVector c62 = FloatVector.fromArray(S, out, o2 + 6 * ldo);
    FloatVector c70 = FloatVector.fromArray(S, out, o0 + 7 * ldo);
    FloatVector c71 = FloatVector.fromArray(S, out, o1 + 7 * ldo);
    FloatVector c72 = FloatVector.fromArray(S, out, o2 + 7 * ldo);
    int ai = aOff + kFrom * aStride;
    int kEnd = kFrom + kLen;
    for (int k = kFrom; k < kEnd; k++, ai += aStride) {
      int bi = koff[k];
      FloatVector b0 = FloatVector.fromArray(S, b, bi + s0);
      FloatVector b1 = FloatVector.fromArray(S, b, bi + s1);
      FloatVector b2 = FloatVector.fromArray(S, b, bi + s2);
      FloatVector x = FloatVector.broadcast(S, a[ai]);
      c00 = x.fma(b0, c00);
      c01 = x.fma(b1, c01);
      c02 = x.fma(b2, c02);
      x = FloatVector.broadcast(S, a[ai + 1]);
      c10 = x.fma(b0, c10);
      c11 = x.fma(b1, c11);
      c12 = x.fma(b2, c12);
      x = FloatVector.broadcast(S, a[ai + 2]);
      c20 = x.fma(b0, c20);
      c21 = x.fma(b1, c21);
      c22 = x.fma(b2, c22);
      x = FloatVector.broadcast(S, a[ai + 3]);
      c30 = x.fma(b0, c30);
      c31 = x.fma(b1, c31);
      c32 = x.fma(b2, c32);
      x = FloatVector.broadcast(S, a[ai + 4]);
      c40 = x.fma(b0, c40);
      c41 = x.fma(b1, c41);
      c42 = x.fma(b2, c42);
      x = FloatVector.broadcast(S, a[ai + 5]);
      c50 = x.fma(b0, c50);
      c51 = x.fma(b1, c51);
      c52 = x.fma(b2, c52);
      x = FloatVector.broadcast(S, a[ai + 6]);
      c60 = x.fma(b0, c60);
      c61 = x.fma(b1, c61);
      c62 = x.fma(b2, c62);
      x = FloatVector.broadcast(S, a[ai + 7]);
      c70 = x.fma(b0, c70);
      c71 = x.fma(b1, c71);
      c72 = x.fma(b2, c72);
    }
    if (scale != 1f) {
      c00 = c00.mul(scale);
      c01 = c01.mul(scale);
      c02 = c02.mul(scale);
      c10 = c10.mul(scale);
      c11 = c11.mul(scale);
      c12 = c12.mul(scale);
      c20 = c20.mul(scale);
      c21 = c21.mul(scale);
      c22 = c22.mul(scale);
      c30 = c30.mul(scale);
      c31 = c31.mul(scale);
      c32 = c32.mul(scale);
      c40 = c40.mul(scale);
      c41 = c41.mul(scale);
      c42 = c42.mul(scale);
      c50 = c50.mul(scale);
      c51 = c51.mul(scale);
      c52 = c52.mul(scale);
      c60 = c60.mul(scale);
      c61 = c61.mul(scale);
      c62 = c62.mul(scale);
      c70 = c70.mul(scale);
      c71 = c71.mul(scale);
      c72 = c72.mul(scale);
    }
    c00.intoArray(out, o0 + 0 * ldo);
    c01.intoArray(out, o1 + 0 * ldo);
    c02.intoArray(out, o2 + 0 * ldo);
    c10.intoArray(out, o0 + 1 * ldo);
    c11.intoArray(out, o1 + 1 * ldo);
    c12.intoArray(out, o2 + 1 * ldo);
    c20.intoArray(out, o0 + 2 * ldo);
    c21.intoArray(out, o1 + 2 * ldo);
    c22.intoArray(out, o2 + 2 * ldo);
    c30.intoArray(out, o0 + 3 * ldo);
    c31.intoArray(out, o1 + 3 * ldo);
    c32.intoArray(out, o2 + 3 * ldo);
    c40.intoArray(out, o0 + 4 * ldo);
    c41.intoArray(out, o1 + 4 * ldo);
    c42.intoArray(out, o2 + 4 * ldo);
    c50.intoArray(out, o0 + 5 * ldo);
    c51.intoArray(out, o1 + 5 * ldo);
    c52.intoArray(out, o2 + 5 * ldo);
    c60.intoArray(out, o0 + 6 * ldo);
    c61.intoArray(out, o1 + 6 * ldo);
    c62.intoArray(out, o2 + 6 * ldo);
    c70.intoArray(out, o0 + 7 * ldo);
    c71.intoArray(out, o1 + 7 * ldo);
    c72.intoArray(out, o2 + 7 * ldo);
  }

  private static void first6x2(float[] a, int aOff, int aStride, float[] b, int[] koff, int kFrom,
      int kLen, int s0, int s1, float[] out, int o0, int o1, int ldo, float[] cb, int q0, int q1, float[] res,
      float scale) {
    FloatVector c00 = FloatVector.broadcast(S, cb[q0 + 0]);
    FloatVector c01 = FloatVector.broadcast(S, cb[q1 + 0]);
    FloatVector c10 = FloatVector.broadcast(S, cb[q0 + 1]);
    FloatVector c11 = FloatVector.broadcast(S, cb[q1 + 1]);
    FloatVector c20 = FloatVector.broadcast(S, cb[q0 + 2]);
    FloatVector c21 = FloatVector.broadcast(S, cb[q1 + 2]);
    FloatVector c30 = FloatVector.broadcast(S, cb[q0 + 3]);
    FloatVector c31 = FloatVector.broadcast(S, cb[q1 + 3]);
    FloatVector c40 = FloatVector.broadcast(S, cb[q0 + 4]);
    FloatVector c41 = FloatVector.broadcast(S, cb[q1 + 4]);
    FloatVector c50 = FloatVector.broadcast(S, cb[q0 + 5]);
    FloatVector c51 = FloatVector.broadcast(S, cb[q1 + 5]);
    if (res != null) {
      c00 = c00.add(FloatVector.fromArray(S, res, o0 + 0 * ldo));
      c01 = c01.add(FloatVector.fromArray(S, res, o1 + 0 * ldo));
      c10 = c10.add(FloatVector.fromArray(S, res, o0 + 1 * ldo));
      c11 = c11.add(FloatVector.fromArray(S, res, o1 + 1 * ldo));
      c20 = c20.add(FloatVector.fromArray(S, res, o0 + 2 * ldo));
      c21 = c21.add(FloatVector.fromArray(S, res, o1 + 2 * ldo));
      c30 = c30.add(FloatVector.fromArray(S, res, o0 + 3 * ldo));
      c31 = c31.add(FloatVector.fromArray(S, res, o1 + 3 * ldo));
      c40 = c40.add(FloatVector.fromArray(S, res, o0 + 4 * ldo));
      c41 = c41.add(FloatVector.fromArray(S, res, o1 + 4 * ldo));
      c50 = c50.add(FloatVector.fromArray(S, res, o0 + 5 * ldo));
      c51 = c51.add(FloatVector.fromArray(S, res, o1 + 5 * ldo));
    }
    int ai = aOff + kFrom * aStride;
    int kEnd = kFrom + kLen;
    for (int k = kFrom; k < kEnd; k++, ai += aStride) {
      int bi = koff[k];
      FloatVector b0 = FloatVector.fromArray(S, b, bi + s0);
      FloatVector b1 = FloatVector.fromArray(S, b, bi + s1);
      FloatVector x = FloatVector.broadcast(S, a[ai]);
      c00 = x.fma(b0, c00);
      c01 = x.fma(b1, c01);
      x = FloatVector.broadcast(S, a[ai + 1]);
      c10 = x.fma(b0, c10);
      c11 = x.fma(b1, c11);
      x = FloatVector.broadcast(S, a[ai + 2]);
      c20 = x.fma(b0, c20);
      c21 = x.fma(b1, c21);
      x = FloatVector.broadcast(S, a[ai + 3]);
      c30 = x.fma(b0, c30);
      c31 = x.fma(b1, c31);
      x = FloatVector.broadcast(S, a[ai + 4]);
      c40 = x.fma(b0, c40);
      c41 = x.fma(b1, c41);
      x = FloatVector.broadcast(S, a[ai + 5]);
      c50 = x.fma(b0, c50);
      c51 = x.fma(b1, c51);
    }
    if (scale != 1f) {
      c00 = c00.mul(scale);
      c01 = c01.mul(scale);
      c10 = c10.mul(scale);
      c11 = c11.mul(scale);
      c20 = c20.mul(scale);
      c21 = c21.mul(scale);
      c30 = c30.mul(scale);
      c31 = c31.mul(scale);
      c40 = c40.mul(scale);
      c41 = c41.mul(scale);
      c50 = c50.mul(scale);
      c51 = c51.mul(scale);
    }
    c00.intoArray(out, o0 + 0 * ldo);
    c01.intoArray(out, o1 + 0 * ldo);
    c10.intoArray(out, o0 + 1 * ldo);
    c11.intoArray(out, o1 + 1 * ldo);
    c20.intoArray(out, o0 + 2 * ldo);
    c21.intoArray(out, o1 + 2 * ldo);
    c30.intoArray(out, o0 + 3 * ldo);
    c31.intoArray(out, o1 + 3 * ldo);
    c40.intoArray(out, o0 + 4 * ldo);
    c41.intoArray(out, o1 + 4 * ldo);
    c50.intoArray(out, o0 + 5 * ldo);
    c51.intoArray(out, o1 + 5 * ldo);
  }

  private static void next6x2(float[] a, int aOff, int aStride, float[] b, int[] koff, int kFrom,
      int kLen, int s0, int s1, float[] out, int o0, int o1, int ldo, float scale) {
    FloatVector c00 = FloatVector.fromArray(S, out, o0 + 0 * ldo);
    FloatVector c01 = FloatVector.fromArray(S, out, o1 + 0 * ldo);
    FloatVector c10 = FloatVector.fromArray(S, out, o0 + 1 * ldo);
    FloatVector c11 = FloatVector.fromArray(S, out, o1 + 1 * ldo);
    FloatVector c20 = FloatVector.fromArray(S, out, o0 + 2 * ldo);
    FloatVector c21 = FloatVector.fromArray(S, out, o1 + 2 * ldo);
    FloatVector c30 = FloatVector.fromArray(S, out, o0 + 3 * ldo);
    FloatVector c31 = FloatVector.fromArray(S, out, o1 + 3 * ldo);
    FloatVector c40 = FloatVector.fromArray(S, out, o0 + 4 * ldo);
    FloatVector c41 = FloatVector.fromArray(S, out, o1 + 4 * ldo);
    FloatVector c50 = FloatVector.fromArray(S, out, o0 + 5 * ldo);
    FloatVector c51 = FloatVector.fromArray(S, out, o1 + 5 * ldo);
    int ai = aOff + kFrom * aStride;
    int kEnd = kFrom + kLen;
    for (int k = kFrom; k < kEnd; k++, ai += aStride) {
      int bi = koff[k];
      FloatVector b0 = FloatVector.fromArray(S, b, bi + s0);
      FloatVector b1 = FloatVector.fromArray(S, b, bi + s1);
      FloatVector x = FloatVector.broadcast(S, a[ai]);
      c00 = x.fma(b0, c00);
      c01 = x.fma(b1, c01);
      x = FloatVector.broadcast(S, a[ai + 1]);
      c10 = x.fma(b0, c10);
      c11 = x.fma(b1, c11);
      x = FloatVector.broadcast(S, a[ai + 2]);
      c20 = x.fma(b0, c20);
      c21 = x.fma(b1, c21);
      x = FloatVector.broadcast(S, a[ai + 3]);
      c30 = x.fma(b0, c30);
      c31 = x.fma(b1, c31);
      x = FloatVector.broadcast(S, a[ai + 4]);
      c40 = x.fma(b0, c40);
      c41 = x.fma(b1, c41);
      x = FloatVector.broadcast(S, a[ai + 5]);
      c50 = x.fma(b0, c50);
      c51 = x.fma(b1, c51);
    }
    if (scale != 1f) {
      c00 = c00.mul(scale);
      c01 = c01.mul(scale);
      c10 = c10.mul(scale);
      c11 = c11.mul(scale);
      c20 = c20.mul(scale);
      c21 = c21.mul(scale);
      c30 = c30.mul(scale);
      c31 = c31.mul(scale);
      c40 = c40.mul(scale);
      c41 = c41.mul(scale);
      c50 = c50.mul(scale);
      c51 = c51.mul(scale);
    }
    c00.intoArray(out, o0 + 0 * ldo);
    c01.intoArray(out, o1 + 0 * ldo);
    c10.intoArray(out, o0 + 1 * ldo);
    c11.intoArray(out, o1 + 1 * ldo);
    c20.intoArray(out, o0 + 2 * ldo);
    c21.intoArray(out, o1 + 2 * ldo);
    c30.intoArray(out, o0 + 3 * ldo);
    c31.intoArray(out, o1 + 3 * ldo);
    c40.intoArray(out, o0 + 4 * ldo);
    c41.intoArray(out, o1 + 4 * ldo);
    c50.intoArray(out, o0 + 5 * ldo);
    c51.intoArray(out, o1 + 5 * ldo);
  }

  /**
   * Packs the rows of a row-major {@code [m, k]} matrix into MR-row panels {@code [ceil(m/MR)][k][MR]},
   * zero-filling the rows past {@code m}.
   */
  static float[] packRows(float[] w, int m, int k) {
    int mb = (m + MR - 1) / MR;
    float[] p = new float[mb * k * MR + MR];
    for (int b = 0; b < mb; b++) {
      for (int r = 0; r < MR; r++) {
        int row = b * MR + r;
        if (row >= m) {
          break;
        }
        int src = row * k, dst = b * k * MR + r;
        for (int kk = 0; kk < k; kk++) {
          p[dst + kk * MR] = w[src + kk];
        }
      }
    }
    return p;
  }
}
