package dev.sampler.engine.internal.cpu;

import dev.sampler.engine.backend.Conv2dSpec;
import dev.sampler.engine.backend.Epilogue;
import dev.sampler.engine.backend.Tensor;
import dev.sampler.engine.backend.TensorBackend;
import dev.sampler.engine.internal.HeapTensor;
import dev.sampler.engine.internal.Shapes;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The {@code "cpu"} backend: tensors in Java heap arrays, every primitive a multi-threaded Java
 * Vector API kernel, and convolutions either on the same Java micro-kernels or (optionally) on
 * oneDNN through ND4J.
 *
 * <p>Convolutions run as implicit GEMMs without unfolding the input for stride 1: the input is
 * copied once into a zero-padded (and, when asked, nearest-upsampled) buffer and the micro-kernel
 * reads each reduction row of B at a shifted offset into it. When output rows split into whole
 * vectors, every micro-tile covers a few vector-wide "slots" of output pixels and is stored
 * straight into the output with bias, per-sample bias, residual and scale applied in registers;
 * for narrow images one shifted copy per horizontal tap makes the rows contiguous instead; only
 * odd sizes go through a tile buffer on the padded grid. Strided convolutions unfold (im2col)
 * first. Long reductions run in chunks so a chunk's input rows stay in L1 across all
 * output-channel blocks. Weights are packed into micro-kernel panels on first use and cached on
 * the weight tensor.
 *
 * <p>Operations are serialised ({@code synchronized}); each runs on the whole thread team.
 * Results do not depend on the thread count (see {@link VectorMath}).
 */
public final class CpuBackend implements TensorBackend {
  public static final String NAME = "cpu";

  private static final VectorSpecies<Float> S = Gemm.S;
  private static final int V = Gemm.V;
  private static final int MR = Gemm.MR;
  private static final int NR = Gemm.NR;
  private static final int SLOTS = Gemm.SLOTS;

  private final ThreadTeam team;
  private final ConvEngine convEngine;
  private final OpProfile profile;

  private float[] convBuf = new float[0];
  private final float[][] tiles;
  private final int[][] segments;
  private final float[][] attnScores;
  private final float[][] attnPacked;
  private final float[][] attnMax;
  private final float[][] attnInv;

  /** Packed weight panels cached on a weight tensor. */
  private record Packed(float[] panels, int rows, int k) {}

  /** Creates the backend with {@code threads} compute threads (the caller counts as one). */
  CpuBackend(int threads, ConvEngine convEngine, boolean profile) {
    this.team = new ThreadTeam(threads, "sampler-cpu-");
    this.convEngine = convEngine;
    this.profile = profile ? new OpProfile() : null;
    this.tiles = new float[threads][MR * NR + V];
    this.segments = new int[threads][3 * (NR + 2)];
    this.attnScores = new float[threads][0];
    this.attnPacked = new float[threads][0];
    this.attnMax = new float[threads][0];
    this.attnInv = new float[threads][0];
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "cpu (" + team.size() + " threads; " + Gemm.describe()
        + (convEngine == null ? "" : "; convolutions: " + convEngine.description()) + ")";
  }

  @Override
  public synchronized String profile() {
    return profile == null ? "" : profile.report();
  }

  @Override
  public synchronized void resetProfile() {
    if (profile != null) {
      profile.reset();
    }
  }

  private HeapTensor t(Tensor x) {
    return HeapTensor.of(this, x);
  }

  private long start() {
    return profile == null ? 0 : System.nanoTime();
  }

  private void stop(String op, long t0) {
    if (profile != null) {
      profile.add(op, System.nanoTime() - t0);
    }
  }

  @Override
  public Tensor allocate(int... shape) {
    return new HeapTensor(this, shape);
  }

  @Override
  public Tensor upload(float[] data, int... shape) {
    return HeapTensor.upload(this, data, shape);
  }

  @Override
  public void download(Tensor tensor, float[] dst) {
    HeapTensor.download(this, tensor, dst);
  }

  // ------------------------------------------------------------------------------------------
  // convolution

  @Override
  public synchronized void conv2d(Tensor xt, Tensor wt, Tensor bt, Conv2dSpec spec, Epilogue e, Tensor outt) {
    long t0 = start();
    HeapTensor x = t(xt), w = t(wt), out = t(outt), b = Shapes.opt(this, bt);
    Shapes.epilogue(this, e);
    HeapTensor sb = Shapes.opt(this, e.sampleBias()), res = Shapes.opt(this, e.residual());
    Shapes.conv2d(x, w, b, spec, sb, res, out);
    if (convEngine != null && convEngine.accepts(x, w, spec)) {
      convEngine.conv2d(x, w, b, spec, out);
      applyEpilogue(out, sb, res, e.scale());
      stop("conv2d[" + convEngine.name() + "]", t0);
      return;
    }
    int n = x.dim(0), cin = x.dim(1), h = x.dim(2), wd = x.dim(3);
    int cout = w.dim(0), kh = w.dim(2), kw = w.dim(3);
    int ho = out.dim(2), wo = out.dim(3);
    int k = cin * kh * kw;
    boolean up = spec.upsampleInput();
    int hu = up ? 2 * h : h, wu = up ? 2 * wd : wd;
    float[] src;
    int imgStride, rowWidth, qTot;
    int[] koff = new int[k];
    if (spec.stride() == 1 && spec.padLo() == spec.padHi() && kw > 1 && wo % V != 0 && (ho * wo) % V == 0) {
      // Narrow images: one copy of the padded input per horizontal tap, shifted by that tap and
      // cropped to the output width, so every reduction row of B is contiguous over the whole
      // output (no padding columns to skip) and whole vectors may span output rows.
      int p = spec.padLo();
      int hp = hu + 2 * p, plane = hp * wo, copy = n * cin * plane;
      src = convBuffer(kw * copy);
      shiftedCopies(x.data(), n * cin, h, wd, p, up, kw, hp, wo, copy, src);
      imgStride = cin * plane;
      rowWidth = wo;
      qTot = ho * wo;
      for (int ci = 0, i = 0; ci < cin; ci++) {
        for (int ky = 0; ky < kh; ky++) {
          for (int kx = 0; kx < kw; kx++) {
            koff[i++] = kx * copy + ci * plane + ky * wo;
          }
        }
      }
    } else if (spec.stride() == 1 && spec.padLo() == spec.padHi()) {
      int p = spec.padLo();
      int hp = hu + 2 * p, wp = wu + 2 * p, plane = hp * wp;
      if (p == 0 && !up) {
        src = x.data();
      } else {
        src = convBuffer(n * cin * plane);
        padCopy(x.data(), n * cin, h, wd, p, up, src);
      }
      imgStride = cin * plane;
      rowWidth = wp;
      qTot = ho * wp;
      for (int ci = 0, i = 0; ci < cin; ci++) {
        for (int ky = 0; ky < kh; ky++) {
          for (int kx = 0; kx < kw; kx++) {
            koff[i++] = ci * plane + ky * wp + kx;
          }
        }
      }
    } else {
      int lo = ho * wo;
      src = convBuffer(n * k * lo);
      im2col(x.data(), n, cin, h, wd, kh, kw, spec, ho, wo, src);
      imgStride = k * lo;
      rowWidth = wo;
      qTot = lo;
      for (int i = 0; i < k; i++) {
        koff[i] = i * lo;
      }
    }
    Packed packed = packed(w, cout, k);
    float[] o = out.writable();
    float[] bias = b == null ? null : b.data();
    float[] sbias = sb == null ? null : sb.data();
    float[] resid = res == null ? null : res.data();
    boolean junk = rowWidth != wo;
    if (junk ? wo % V == 0 : (ho * wo) % V == 0) {
      convSlots(packed, src, koff, k, kh * kw, n, cout, ho, wo, imgStride, rowWidth, junk, o, bias, sbias, resid, e.scale());
    } else {
      convTiles(packed, src, koff, k, n, cout, ho, wo, imgStride, rowWidth, qTot, o, bias, sbias, resid, e.scale());
    }
    if (profile != null) {
      stop("conv2d " + kh + "x" + kw + (spec.stride() == 1 ? "" : "/" + spec.stride()) + " " + cin + "->" + cout
          + " @" + ho + "x" + wo + (up ? " (upsampled)" : ""), t0);
    }
  }

  /**
   * Reduction indices per pass over the output-channel blocks: 32 input channels of a 3x3
   * convolution (their few input rows per tile stay in the 32 KiB L1 cache), 128 of a 1x1; the
   * whole reduction when it is at most a quarter longer than that.
   */
  private static int kChunk(int k, int taps) {
    int chunk = taps == 1 ? 128 : 32 * taps;
    return k <= chunk + chunk / 4 ? k : chunk;
  }

  /** Splits {@code mBlocks} MR-row blocks into chunks so that there are enough tasks for the team. */
  private int mChunks(int columnTasks, int mBlocks) {
    int target = 4 * team.size();
    if (columnTasks >= target) {
      return 1;
    }
    int chunks = Math.min(mBlocks, (target + columnTasks - 1) / columnTasks);
    int per = (mBlocks + chunks - 1) / chunks;
    return (mBlocks + per - 1) / per;
  }

  /**
   * The GEMM when every output row splits into whole vectors: each micro-tile covers SLOTS
   * vector-wide column groups ("slots", possibly in different rows or images) and is written
   * straight into the output with the bias, per-sample bias, residual and scale applied in
   * registers. Only a partial last block of output channels goes through a tile buffer.
   */
  private void convSlots(Packed packed, float[] src, int[] koff, int k, int taps, int n, int cout, int ho, int wo,
      int imgStride, int rowWidth, boolean junk, float[] o, float[] bias, float[] sbias, float[] resid,
      float scale) {
    int lo = ho * wo;
    int perImage = lo / V;
    int perRow = wo / V;
    int total = n * perImage;
    int groups = (total + SLOTS - 1) / SLOTS;
    int mBlocks = (cout + MR - 1) / MR;
    int mPad = mBlocks * MR;
    float[] cb = new float[n * mPad];
    for (int i = 0; i < n; i++) {
      for (int m = 0; m < cout; m++) {
        cb[i * mPad + m] = (bias == null ? 0f : bias[m]) + (sbias == null ? 0f : sbias[i * cout + m]);
      }
    }
    int chunks = mChunks(groups, mBlocks);
    int per = (mBlocks + chunks - 1) / chunks;
    int kChunk = kChunk(k, taps);
    team.run(groups * chunks, (task, worker) -> {
      int g = task / chunks, chunk = task % chunks;
      int[] sl = segments[worker];
      for (int j = 0; j < SLOTS; j++) {
        int s = Math.min(g * SLOTS + j, total - 1);
        int img = s / perImage, local = s - img * perImage;
        int bOff, oOff;
        if (junk) {
          int y = local / perRow, x0 = (local - y * perRow) * V;
          bOff = y * rowWidth + x0;
          oOff = y * wo + x0;
        } else {
          bOff = oOff = local * V;
        }
        sl[j] = img * imgStride + bOff;
        sl[SLOTS + j] = img * cout * lo + oOff;
        sl[2 * SLOTS + j] = img * mPad;
      }
      int s0 = sl[0], s1 = sl[1], s2 = SLOTS > 2 ? sl[2] : 0;
      int o0 = sl[SLOTS], o1 = sl[SLOTS + 1], o2 = SLOTS > 2 ? sl[SLOTS + 2] : 0;
      int q0 = sl[2 * SLOTS], q1 = sl[2 * SLOTS + 1], q2 = SLOTS > 2 ? sl[2 * SLOTS + 2] : 0;
      int mbFrom = chunk * per, mbEnd = Math.min(mBlocks, (chunk + 1) * per);
      int fullEnd = Math.min(mbEnd, cout / MR);
      // K in chunks so the input rows a chunk touches stay in L1 across all output-channel blocks
      for (int k0 = 0; k0 < k; k0 += kChunk) {
        int kl = Math.min(kChunk, k - k0);
        for (int mb = mbFrom; mb < fullEnd; mb++) {
          int m0 = mb * MR;
          int ro = m0 * lo;
          Gemm.direct(packed.panels, mb * k * MR, MR, src, koff, k0, kl, s0, s1, s2, o, o0 + ro, o1 + ro, o2 + ro, lo,
              cb, q0 + m0, q1 + m0, q2 + m0, resid, scale, k0 == 0, k0 + kl == k);
        }
      }
      for (int mb = Math.max(mbFrom, fullEnd); mb < mbEnd; mb++) {
        // a partial block of output channels: through the tile buffer, rows past cout dropped
        int m0 = mb * MR;
        int ro = m0 * lo;
        float[] tile = tiles[worker];
        Gemm.tile(packed.panels, mb * k * MR, MR, src, koff, k, s0, s1, s2, tile);
        for (int r = 0; r < cout - m0; r++) {
          for (int j = 0; j < SLOTS; j++) {
            int ob = sl[SLOTS + j] + ro + r * lo;
            FloatVector v = FloatVector.fromArray(S, tile, r * NR + j * V).add(cb[sl[2 * SLOTS + j] + m0 + r]);
            if (resid != null) {
              v = v.add(FloatVector.fromArray(S, resid, ob));
            }
            if (scale != 1f) {
              v = v.mul(scale);
            }
            v.intoArray(o, ob);
          }
        }
      }
    });
  }

  /**
   * The GEMM on NR-column panels of the (padded-width) output grid through a tile buffer, for
   * outputs whose rows do not split into whole vectors (small images).
   */
  private void convTiles(Packed packed, float[] src, int[] koff, int k, int n, int cout, int ho, int wo,
      int imgStride, int rowWidth, int qTot, float[] o, float[] bias, float[] sbias, float[] resid, float scale) {
    int panels = (qTot + NR - 1) / NR;
    int mBlocks = (cout + MR - 1) / MR;
    int chunks = mChunks(n * panels, mBlocks);
    int per = (mBlocks + chunks - 1) / chunks;
    int lo = ho * wo;
    team.run(n * panels * chunks, (task, worker) -> {
      int chunk = task % chunks;
      int rest = task / chunks;
      int panel = rest % panels;
      int img = rest / panels;
      int q0 = panel * NR;
      int[] seg = segments[worker];
      int nseg = panelSegments(q0, qTot, rowWidth, wo, seg);
      float[] tile = tiles[worker];
      int bBase = img * imgStride + q0;
      int outBase = img * cout * lo;
      int mbEnd = Math.min(mBlocks, (chunk + 1) * per);
      for (int mb = chunk * per; mb < mbEnd; mb++) {
        Gemm.kernel(packed.panels, mb * k * MR, MR, src, bBase, koff, k, tile);
        int m0 = mb * MR;
        int rows = Math.min(MR, cout - m0);
        writeTile(tile, rows, m0, seg, nseg, o, outBase, lo, bias, sbias, img * cout, resid, scale);
      }
    });
  }

  private float[] convBuffer(int size) {
    if (convBuf.length < size + HeapTensor.SLACK) {
      convBuf = new float[size + HeapTensor.SLACK];
    }
    return convBuf;
  }

  private Packed packed(HeapTensor w, int rows, int k) {
    if (w.derived instanceof Packed p && p.rows == rows && p.k == k) {
      return p;
    }
    Packed p = new Packed(Gemm.packRows(w.data(), rows, k), rows, k);
    w.derived = p;
    return p;
  }

  /**
   * Splits the tile columns {@code [q0, q0 + NR)} of a grid with rows of {@code rowWidth} columns
   * (of which the first {@code wo} are real) into runs that are contiguous in the output. Writes
   * (tile column, output offset, length) triples into {@code seg}; returns their number.
   */
  private static int panelSegments(int q0, int qTot, int rowWidth, int wo, int[] seg) {
    int n = 0;
    int j = 0;
    int end = Math.min(NR, qTot - q0);
    while (j < end) {
      int q = q0 + j;
      int y = q / rowWidth, xx = q - y * rowWidth;
      if (xx >= wo) {
        j += rowWidth - xx;
        continue;
      }
      int len = Math.min(wo - xx, end - j);
      seg[n++] = j;
      seg[n++] = y * wo + xx;
      seg[n++] = len;
      j += len;
    }
    return n / 3;
  }

  private static void writeTile(float[] tile, int rows, int m0, int[] seg, int nseg, float[] o, int outBase,
      int lo, float[] bias, float[] sbias, int sbBase, float[] resid, float scale) {
    for (int r = 0; r < rows; r++) {
      int m = m0 + r;
      float rb = (bias == null ? 0f : bias[m]) + (sbias == null ? 0f : sbias[sbBase + m]);
      FloatVector rbv = FloatVector.broadcast(S, rb);
      int rowOut = outBase + m * lo;
      for (int s = 0; s < nseg; s++) {
        int tj = r * NR + seg[3 * s], ob = rowOut + seg[3 * s + 1], len = seg[3 * s + 2];
        int i = 0;
        for (; i < len; i += V) {
          VectorMask<Float> mask = S.indexInRange(i, len);
          FloatVector v = FloatVector.fromArray(S, tile, tj + i).add(rbv);
          if (resid != null) {
            v = v.add(FloatVector.fromArray(S, resid, ob + i, mask));
          }
          if (scale != 1f) {
            v = v.mul(scale);
          }
          v.intoArray(o, ob + i, mask);
        }
      }
    }
  }

  /** Copies {@code planes} planes of {@code h x w} into {@code dst} with a zero border of {@code p}. */
  private void padCopy(float[] x, int planes, int h, int w, int p, boolean up, float[] dst) {
    int hu = up ? 2 * h : h, wu = up ? 2 * w : w;
    int wp = wu + 2 * p, hp = hu + 2 * p, plane = hp * wp;
    team.run(planes, (pl, worker) -> {
      int d = pl * plane, s = pl * h * w;
      Arrays.fill(dst, d, d + p * wp + p, 0f);
      for (int y = 0; y < hu; y++) {
        int row = d + (y + p) * wp + p;
        if (up) {
          if ((y & 1) == 1) {
            // the odd upsampled row repeats the even one just written
            System.arraycopy(dst, row - wp, dst, row, wu);
          } else {
            int sr = s + (y >> 1) * w;
            for (int xx = 0; xx < w; xx++) {
              float v = x[sr + xx];
              dst[row + 2 * xx] = v;
              dst[row + 2 * xx + 1] = v;
            }
          }
        } else {
          System.arraycopy(x, s + y * w, dst, row, w);
        }
        if (p > 0) {
          Arrays.fill(dst, row + wu, row + wu + 2 * p, 0f);
        }
      }
      Arrays.fill(dst, d + (hu + p) * wp + p, d + plane, 0f);
    });
  }

  /**
   * For each horizontal tap {@code kx}, writes {@code planes} planes of {@code hp x wo}: row
   * {@code yy}, column {@code x} holds the zero-padded (and optionally 2x upsampled) input at
   * padded coordinates {@code (yy, x + kx)}. Copy {@code kx} starts at {@code kx * copyStride}.
   */
  private void shiftedCopies(float[] x, int planes, int h, int w, int p, boolean up, int kw, int hp, int wo,
      int copyStride, float[] dst) {
    int hu = up ? 2 * h : h, wu = up ? 2 * w : w;
    int plane = hp * wo;
    team.run(planes, (pl, worker) -> {
      int s = pl * h * w;
      for (int kx = 0; kx < kw; kx++) {
        int d = kx * copyStride + pl * plane;
        for (int yy = 0; yy < hp; yy++) {
          int row = d + yy * wo;
          int iy = yy - p;
          if (iy < 0 || iy >= hu) {
            Arrays.fill(dst, row, row + wo, 0f);
            continue;
          }
          int sr = s + (up ? iy >> 1 : iy) * w;
          if (up) {
            for (int xx = 0; xx < wo; xx++) {
              int ix = xx + kx - p;
              dst[row + xx] = ix < 0 || ix >= wu ? 0f : x[sr + (ix >> 1)];
            }
          } else {
            // columns xx with 0 <= xx + kx - p < w come from the input row, the rest are padding
            int lo = Math.max(0, p - kx), hi = Math.min(wo, w + p - kx);
            Arrays.fill(dst, row, row + lo, 0f);
            if (hi > lo) {
              System.arraycopy(x, sr + lo + kx - p, dst, row + lo, hi - lo);
            }
            Arrays.fill(dst, row + Math.max(lo, hi), row + wo, 0f);
          }
        }
      }
    });
  }

  private void im2col(float[] x, int n, int cin, int h, int w, int kh, int kw, Conv2dSpec s, int ho, int wo,
      float[] col) {
    boolean up = s.upsampleInput();
    int hu = up ? 2 * h : h, wu = up ? 2 * w : w;
    int lo = ho * wo, stride = s.stride(), pad = s.padLo();
    team.run(n * cin, (task, worker) -> {
      int img = task / cin, ci = task % cin;
      int sBase = (img * cin + ci) * h * w;
      int dBase = (img * cin * kh * kw + ci * kh * kw) * lo;
      for (int ky = 0; ky < kh; ky++) {
        for (int kx = 0; kx < kw; kx++) {
          int d = dBase + (ky * kw + kx) * lo;
          for (int oy = 0; oy < ho; oy++) {
            int iy = oy * stride + ky - pad;
            int row = d + oy * wo;
            if (iy < 0 || iy >= hu) {
              Arrays.fill(col, row, row + wo, 0f);
              continue;
            }
            int sr = sBase + (up ? iy >> 1 : iy) * w;
            for (int ox = 0; ox < wo; ox++) {
              int ix = ox * stride + kx - pad;
              col[row + ox] = ix < 0 || ix >= wu ? 0f : x[sr + (up ? ix >> 1 : ix)];
            }
          }
        }
      }
    });
  }

  /** Applies an epilogue after an external convolution engine filled {@code out} (bias included). */
  private void applyEpilogue(HeapTensor out, HeapTensor sb, HeapTensor res, float scale) {
    if (sb == null && res == null && scale == 1f) {
      return;
    }
    int n = out.dim(0), c = out.dim(1), l = out.inner(2);
    float[] o = out.writable();
    float[] sbd = sb == null ? null : sb.data(), rd = res == null ? null : res.data();
    team.run(n * c, (task, worker) -> {
      int base = task * l;
      FloatVector add = FloatVector.broadcast(S, sbd == null ? 0f : sbd[task]);
      for (int i = 0; i < l; i += V) {
        VectorMask<Float> m = S.indexInRange(i, l);
        FloatVector v = FloatVector.fromArray(S, o, base + i, m).add(add);
        if (rd != null) {
          v = v.add(FloatVector.fromArray(S, rd, base + i, m));
        }
        if (scale != 1f) {
          v = v.mul(scale);
        }
        v.intoArray(o, base + i, m);
      }
    });
  }

  // ------------------------------------------------------------------------------------------
  // small dense and element-wise ops

  @Override
  public synchronized void linear(Tensor xt, Tensor wt, Tensor bt, Tensor outt) {
    long t0 = start();
    HeapTensor x = t(xt), w = t(wt), out = t(outt), b = Shapes.opt(this, bt);
    Shapes.require(x.rank() == 2 && w.rank() == 2 && out.rank() == 2 && w.dim(1) == x.dim(1)
        && out.dim(0) == x.dim(0) && out.dim(1) == w.dim(0), "linear: x [N,K], weight [M,K], out [N,M]:", x, w, out);
    Shapes.require(b == null || (b.rank() == 1 && b.dim(0) == w.dim(0)), "linear: bias must be [M]:", b);
    Shapes.require(out != x, "linear: out may not alias x", out);
    int n = x.dim(0), k = x.dim(1), m = w.dim(0);
    float[] xd = x.data(), wd = w.data(), o = out.writable();
    float[] bd = b == null ? null : b.data();
    team.run(n, (i, worker) -> {
      float[] lanes = new float[V];
      for (int j = 0; j < m; j++) {
        FloatVector acc = FloatVector.zero(S);
        int p = 0;
        for (; p <= k - V; p += V) {
          acc = FloatVector.fromArray(S, xd, i * k + p).fma(FloatVector.fromArray(S, wd, j * k + p), acc);
        }
        float s = VectorMath.sumLanes(acc, lanes);
        for (; p < k; p++) {
          s += xd[i * k + p] * wd[j * k + p];
        }
        o[i * m + j] = s + (bd == null ? 0f : bd[j]);
      }
    });
    stop("linear", t0);
  }

  @Override
  public synchronized void groupNorm(Tensor xt, Tensor gt, Tensor bt, int groups, float eps, boolean silu, Tensor outt) {
    long t0 = start();
    HeapTensor x = t(xt), g = t(gt), b = t(bt), out = t(outt);
    Shapes.sameShape("groupNorm", x, out);
    int n = x.dim(0), c = x.dim(1), l = x.inner(2);
    Shapes.require(x.rank() >= 2 && groups > 0 && c % groups == 0 && g.n() == c && b.n() == c,
        "groupNorm: channels must divide into groups " + groups + "; gamma/beta [C]:", x, g, b);
    int cg = c / groups;
    float[] xd = x.data(), gd = g.data(), bd = b.data(), o = out.writable();
    team.run(n * groups, (task, worker) -> {
      int img = task / groups, gi = task % groups;
      int base = (img * c + gi * cg) * l, cnt = cg * l;
      double[] mv2 = new double[2];
      VectorMath.meanVar(xd, base, cnt, mv2);
      float fm = (float) mv2[0];
      float rstd = (float) (1.0 / Math.sqrt(mv2[1] + eps));
      FloatVector mv = FloatVector.broadcast(S, fm);
      for (int ch = 0; ch < cg; ch++) {
        int cc = gi * cg + ch;
        float a = rstd * gd[cc];
        FloatVector av = FloatVector.broadcast(S, a), bv = FloatVector.broadcast(S, bd[cc]);
        int off = base + ch * l;
        int i = 0;
        for (; i <= l - V; i += V) {
          FloatVector v = FloatVector.fromArray(S, xd, off + i).sub(mv).fma(av, bv);
          if (silu) {
            v = VectorMath.silu(v);
          }
          v.intoArray(o, off + i);
        }
        for (; i < l; i++) {
          float v = (xd[off + i] - fm) * a + bd[cc];
          o[off + i] = silu ? VectorMath.silu(v) : v;
        }
      }
    });
    stop(silu ? "groupNorm+silu" : "groupNorm", t0);
  }

  @Override
  public synchronized void silu(Tensor xt, Tensor outt) {
    long t0 = start();
    HeapTensor x = t(xt), out = t(outt);
    Shapes.sameShape("silu", x, out);
    float[] xd = x.data(), o = out.writable();
    int n = x.n();
    int chunk = 16384;
    team.run((n + chunk - 1) / chunk, (task, worker) -> {
      int off = task * chunk;
      VectorMath.silu(xd, off, o, off, Math.min(chunk, n - off));
    });
    stop("silu", t0);
  }

  @Override
  public synchronized void add(Tensor at, Tensor bt, Tensor outt) {
    long t0 = start();
    HeapTensor a = t(at), b = t(bt), out = t(outt);
    Shapes.sameShape("add", a, b);
    Shapes.sameShape("add", a, out);
    float[] ad = a.data(), bd = b.data(), o = out.writable();
    int n = a.n();
    int i = 0;
    for (; i <= n - V; i += V) {
      FloatVector.fromArray(S, ad, i).add(FloatVector.fromArray(S, bd, i)).intoArray(o, i);
    }
    for (; i < n; i++) {
      o[i] = ad[i] + bd[i];
    }
    stop("add", t0);
  }

  @Override
  public synchronized void concatChannels(Tensor at, Tensor bt, Tensor outt) {
    long t0 = start();
    HeapTensor a = t(at), b = t(bt), out = t(outt);
    int n = a.dim(0), ca = a.dim(1), cb = b.dim(1), l = a.inner(2);
    Shapes.require(a.rank() >= 2 && b.rank() == a.rank() && out.rank() == a.rank() && b.dim(0) == n
        && out.dim(0) == n && b.inner(2) == l && out.inner(2) == l && out.dim(1) == ca + cb,
        "concatChannels: a, b, out", a, b, out);
    Shapes.require(out != a && out != b, "concatChannels: out may not alias an input", out);
    float[] o = out.writable(), ad = a.data(), bd = b.data();
    team.run(2 * n, (task, worker) -> {
      int i = task >> 1;
      if ((task & 1) == 0) {
        System.arraycopy(ad, i * ca * l, o, i * (ca + cb) * l, ca * l);
      } else {
        System.arraycopy(bd, i * cb * l, o, (i * (ca + cb) + ca) * l, cb * l);
      }
    });
    stop("concat", t0);
  }

  @Override
  public synchronized void embedding(Tensor tablet, int[] rows, Tensor outt) {
    HeapTensor table = t(tablet), out = t(outt);
    int v = table.dim(0), dim = table.dim(1);
    Shapes.require(table.rank() == 2 && out.rank() == 2 && out.dim(0) == rows.length && out.dim(1) == dim,
        "embedding: table [V, D], out [rows, D]:", table, out);
    float[] o = out.writable();
    for (int i = 0; i < rows.length; i++) {
      if (rows[i] < 0 || rows[i] >= v) {
        throw new IllegalArgumentException("embedding: row " + rows[i] + " out of range [0, " + v + ")");
      }
      System.arraycopy(table.data(), rows[i] * dim, o, i * dim, dim);
    }
  }

  // ------------------------------------------------------------------------------------------
  // attention

  @Override
  public synchronized void attention(Tensor qkvt, int heads, int headDim, float scale, Tensor outt) {
    long t0 = start();
    HeapTensor qkv = t(qkvt), out = t(outt);
    int n = qkv.dim(0), inner = heads * headDim, l = qkv.inner(2);
    Shapes.require(qkv.rank() >= 3 && qkv.dim(1) == 3 * inner && out.dim(0) == n && out.dim(1) == inner
        && out.inner(2) == l, "attention: qkv [N, 3*heads*headDim, L], out [N, heads*headDim, L]:", qkv, out);
    float[] d = qkv.data(), o = out.writable();
    // scores^T live in a [rowBlocks * MR][lPad] scratch: rows past l and columns past l are
    // computed from neighbouring data and never read.
    int lPad = (l + NR - 1) / NR * NR;
    int rowBlocks = (l + MR - 1) / MR, colGroups = lPad / NR, dBlocks = (headDim + MR - 1) / MR;
    int[] koffQ = new int[headDim];
    for (int c = 0; c < headDim; c++) {
      koffQ[c] = c * l;
    }
    int[] koffP = new int[l];
    for (int j = 0; j < l; j++) {
      koffP[j] = j * lPad;
    }
    boolean directOut = l % V == 0;
    int lastChunk = l / V - 1;
    team.run(n * heads, (task, worker) -> {
      int img = task / heads, h = task % heads;
      int qb = (img * 3 * inner + h * headDim) * l, kb = qb + inner * l, vb = kb + inner * l;
      float[] sc = attnScores[worker];
      int scSize = rowBlocks * MR * lPad + HeapTensor.SLACK;
      if (sc.length < scSize) {
        sc = attnScores[worker] = new float[scSize];
      }
      // scores^T [j][i] = scale * k_j . q_i
      for (int jb = 0; jb < rowBlocks; jb++) {
        int j0 = jb * MR;
        for (int g = 0; g < colGroups; g++) {
          int i0 = g * NR, ob = j0 * lPad + i0;
          Gemm.direct(d, kb + j0, l, d, koffQ, 0, headDim, qb + i0, qb + i0 + V, qb + i0 + 2 * V, sc, ob, ob + V,
              ob + 2 * V, lPad, ZEROS, 0, 0, 0, null, scale, true, true);
        }
      }
      float[] colMax = attnMax[worker], colInv = attnInv[worker];
      if (colMax.length < lPad) {
        colMax = attnMax[worker] = new float[lPad];
        colInv = attnInv[worker] = new float[lPad];
      }
      softmaxColumns(sc, l, lPad, colMax, colInv);
      // pack v rows into MR-row panels [dBlocks][l][MR]
      float[] pv = attnPacked[worker];
      if (pv.length < dBlocks * l * MR + MR) {
        pv = attnPacked[worker] = new float[dBlocks * l * MR + MR];
      }
      for (int c = 0; c < dBlocks * MR; c++) {
        int blk = c / MR, r = c % MR, dst = blk * l * MR + r;
        if (c < headDim) {
          int src = vb + c * l;
          for (int j = 0; j < l; j++) {
            pv[dst + j * MR] = d[src + j];
          }
        } else {
          for (int j = 0; j < l; j++) {
            pv[dst + j * MR] = 0f;
          }
        }
      }
      // out[c][i] = sum_j v[c][j] p[j][i]
      int ob = (img * inner + h * headDim) * l;
      float[] tile = tiles[worker];
      for (int cb = 0; cb < dBlocks; cb++) {
        int c0 = cb * MR, rows = Math.min(MR, headDim - c0);
        for (int g = 0; g < colGroups; g++) {
          int i0 = g * NR;
          if (directOut && rows == MR) {
            // whole vectors only: slots past the last one repeat it (same values, same place)
            int i1 = Math.min(i0 / V + 1, lastChunk) * V, i2 = Math.min(i0 / V + 2, lastChunk) * V;
            int o0 = ob + c0 * l;
            Gemm.direct(pv, cb * l * MR, MR, sc, koffP, 0, l, i0, i1, i2, o, o0 + i0, o0 + i1, o0 + i2, l, ZEROS, 0,
                0, 0, null, 1f, true, true);
          } else {
            int cols = Math.min(NR, l - i0);
            Gemm.kernel(pv, cb * l * MR, MR, sc, i0, koffP, l, tile);
            for (int r = 0; r < rows; r++) {
              System.arraycopy(tile, r * NR, o, ob + (c0 + r) * l + i0, cols);
            }
          }
        }
      }
      // the softmax normalisation, per query column
      for (int c = 0; c < headDim; c++) {
        int row = ob + c * l;
        for (int i = 0; i < l; i += V) {
          VectorMask<Float> m = S.indexInRange(i, l);
          FloatVector.fromArray(S, o, row + i, m).mul(FloatVector.fromArray(S, colInv, i)).intoArray(o, row + i, m);
        }
      }
    });
    stop("attention", t0);
  }

  private static final float[] ZEROS = new float[MR];

  /**
   * In place, for every column i of {@code s} (rows of stride {@code ld}): {@code s[j][i] =
   * exp(s[j][i] - max_j s[j][i])}, and {@code inv[i] = 1 / sum_j s[j][i]} (the normalisation is
   * left to the caller, who applies it to the much smaller attention output). Row-wise sweeps, so
   * the matrix streams through the cache in order.
   */
  private static void softmaxColumns(float[] s, int l, int ld, float[] max, float[] inv) {
    int chunks = (l + V - 1) / V;
    Arrays.fill(max, 0, chunks * V, Float.NEGATIVE_INFINITY);
    for (int j = 0; j < l; j++) {
      int row = j * ld;
      for (int c = 0; c < chunks; c++) {
        FloatVector.fromArray(S, s, row + c * V).max(FloatVector.fromArray(S, max, c * V)).intoArray(max, c * V);
      }
    }
    Arrays.fill(inv, 0, chunks * V, 0f);
    for (int j = 0; j < l; j++) {
      int row = j * ld;
      for (int c = 0; c < chunks; c++) {
        FloatVector e = VectorMath.exp(FloatVector.fromArray(S, s, row + c * V).sub(FloatVector.fromArray(S, max, c * V)));
        e.intoArray(s, row + c * V);
        e.add(FloatVector.fromArray(S, inv, c * V)).intoArray(inv, c * V);
      }
    }
    for (int c = 0; c < chunks; c++) {
      FloatVector.broadcast(S, 1f).div(FloatVector.fromArray(S, inv, c * V)).intoArray(inv, c * V);
    }
  }

  @Override
  public synchronized void close() {
    team.close();
    if (convEngine != null) {
      convEngine.close();
    }
  }
}
