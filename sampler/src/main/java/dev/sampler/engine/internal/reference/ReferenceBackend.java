package dev.sampler.engine.internal.reference;

import dev.sampler.engine.backend.Conv2dSpec;
import dev.sampler.engine.backend.Epilogue;
import dev.sampler.engine.backend.Tensor;
import dev.sampler.engine.backend.TensorBackend;
import dev.sampler.engine.internal.HeapTensor;
import dev.sampler.engine.internal.Shapes;

/**
 * The reference backend: every primitive written as the plainest loop nest over the definition,
 * accumulating in double, single-threaded. Slow (a demo UNet forward takes seconds) and meant as
 * the oracle that the fast backends are differentially tested against.
 */
public final class ReferenceBackend implements TensorBackend {
  public static final String NAME = "reference";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "reference (naive loops, double accumulation, 1 thread)";
  }

  private HeapTensor t(Tensor x) {
    return HeapTensor.of(this, x);
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

  @Override
  public void conv2d(Tensor xt, Tensor wt, Tensor bt, Conv2dSpec s, Epilogue e, Tensor outt) {
    HeapTensor x = t(xt), w = t(wt), out = t(outt);
    HeapTensor b = Shapes.opt(this, bt);
    Shapes.epilogue(this, e);
    HeapTensor sb = Shapes.opt(this, e.sampleBias()), res = Shapes.opt(this, e.residual());
    Shapes.conv2d(x, w, b, s, sb, res, out);
    int n = x.dim(0), cin = x.dim(1), h = x.dim(2), wd = x.dim(3);
    int cout = w.dim(0), kh = w.dim(2), kw = w.dim(3);
    int ho = out.dim(2), wo = out.dim(3);
    int hu = s.upsampleInput() ? 2 * h : h, wu = s.upsampleInput() ? 2 * wd : wd;
    float[] xd = x.data(), wdd = w.data(), o = out.writable();
    for (int in = 0; in < n; in++) {
      for (int co = 0; co < cout; co++) {
        for (int oy = 0; oy < ho; oy++) {
          for (int ox = 0; ox < wo; ox++) {
            double acc = b == null ? 0 : b.data()[co];
            for (int ci = 0; ci < cin; ci++) {
              for (int ky = 0; ky < kh; ky++) {
                int iy = oy * s.stride() + ky - s.padLo();
                if (iy < 0 || iy >= hu) {
                  continue;
                }
                for (int kx = 0; kx < kw; kx++) {
                  int ix = ox * s.stride() + kx - s.padLo();
                  if (ix < 0 || ix >= wu) {
                    continue;
                  }
                  int sy = s.upsampleInput() ? iy / 2 : iy, sx = s.upsampleInput() ? ix / 2 : ix;
                  acc += (double) wdd[((co * cin + ci) * kh + ky) * kw + kx]
                      * xd[((in * cin + ci) * h + sy) * wd + sx];
                }
              }
            }
            int oi = ((in * cout + co) * ho + oy) * wo + ox;
            if (sb != null) {
              acc += sb.data()[in * cout + co];
            }
            if (res != null) {
              acc += res.data()[oi];
            }
            o[oi] = (float) (acc * e.scale());
          }
        }
      }
    }
  }

  @Override
  public void linear(Tensor xt, Tensor wt, Tensor bt, Tensor outt) {
    HeapTensor x = t(xt), w = t(wt), out = t(outt), b = Shapes.opt(this, bt);
    Shapes.require(x.rank() == 2 && w.rank() == 2 && out.rank() == 2 && w.dim(1) == x.dim(1)
        && out.dim(0) == x.dim(0) && out.dim(1) == w.dim(0), "linear: x [N,K], weight [M,K], out [N,M]:", x, w, out);
    Shapes.require(b == null || (b.rank() == 1 && b.dim(0) == w.dim(0)), "linear: bias must be [M]:", b);
    Shapes.require(out != x, "linear: out may not alias x", out);
    int n = x.dim(0), k = x.dim(1), m = w.dim(0);
    float[] o = out.writable();
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < m; j++) {
        double acc = b == null ? 0 : b.data()[j];
        for (int p = 0; p < k; p++) {
          acc += (double) x.data()[i * k + p] * w.data()[j * k + p];
        }
        o[i * m + j] = (float) acc;
      }
    }
  }

  @Override
  public void groupNorm(Tensor xt, Tensor gt, Tensor bt, int groups, float eps, boolean silu, Tensor outt) {
    HeapTensor x = t(xt), g = t(gt), b = t(bt), out = t(outt);
    Shapes.sameShape("groupNorm", x, out);
    int n = x.dim(0), c = x.dim(1), l = x.inner(2);
    Shapes.require(x.rank() >= 2 && groups > 0 && c % groups == 0 && g.n() == c && b.n() == c,
        "groupNorm: channels must divide into groups " + groups + "; gamma/beta [C]:", x, g, b);
    int cg = c / groups;
    float[] xd = x.data(), o = out.writable();
    for (int in = 0; in < n; in++) {
      for (int gi = 0; gi < groups; gi++) {
        int base = (in * c + gi * cg) * l;
        double sum = 0;
        for (int i = 0; i < cg * l; i++) {
          sum += xd[base + i];
        }
        double mean = sum / (cg * l);
        double sq = 0;
        for (int i = 0; i < cg * l; i++) {
          double d = xd[base + i] - mean;
          sq += d * d;
        }
        double rstd = 1.0 / Math.sqrt(sq / (cg * l) + eps);
        for (int ch = 0; ch < cg; ch++) {
          int cc = gi * cg + ch;
          for (int i = 0; i < l; i++) {
            int idx = base + ch * l + i;
            double v = (xd[idx] - mean) * rstd * g.data()[cc] + b.data()[cc];
            o[idx] = (float) (silu ? silu(v) : v);
          }
        }
      }
    }
  }

  private static double silu(double v) {
    return v / (1 + Math.exp(-v));
  }

  @Override
  public void silu(Tensor xt, Tensor outt) {
    HeapTensor x = t(xt), out = t(outt);
    Shapes.sameShape("silu", x, out);
    float[] xd = x.data(), o = out.writable();
    for (int i = 0; i < x.n(); i++) {
      o[i] = (float) silu(xd[i]);
    }
  }

  @Override
  public void add(Tensor at, Tensor bt, Tensor outt) {
    HeapTensor a = t(at), b = t(bt), out = t(outt);
    Shapes.sameShape("add", a, b);
    Shapes.sameShape("add", a, out);
    float[] ad = a.data(), bd = b.data(), o = out.writable();
    for (int i = 0; i < a.n(); i++) {
      o[i] = ad[i] + bd[i];
    }
  }

  @Override
  public void concatChannels(Tensor at, Tensor bt, Tensor outt) {
    HeapTensor a = t(at), b = t(bt), out = t(outt);
    int n = a.dim(0), ca = a.dim(1), cb = b.dim(1), l = a.inner(2);
    Shapes.require(a.rank() >= 2 && b.rank() == a.rank() && out.rank() == a.rank() && b.dim(0) == n
        && out.dim(0) == n && b.inner(2) == l && out.inner(2) == l && out.dim(1) == ca + cb,
        "concatChannels: a, b, out", a, b, out);
    Shapes.require(out != a && out != b, "concatChannels: out may not alias an input", out);
    float[] o = out.writable();
    for (int i = 0; i < n; i++) {
      System.arraycopy(a.data(), i * ca * l, o, i * (ca + cb) * l, ca * l);
      System.arraycopy(b.data(), i * cb * l, o, (i * (ca + cb) + ca) * l, cb * l);
    }
  }

  @Override
  public void attention(Tensor qkvt, int heads, int headDim, float scale, Tensor outt) {
    HeapTensor qkv = t(qkvt), out = t(outt);
    int n = qkv.dim(0), inner = heads * headDim, l = qkv.inner(2);
    Shapes.require(qkv.rank() >= 3 && qkv.dim(1) == 3 * inner && out.dim(0) == n && out.dim(1) == inner
        && out.inner(2) == l, "attention: qkv [N, 3*heads*headDim, L], out [N, heads*headDim, L]:", qkv, out);
    float[] d = qkv.data(), o = out.writable();
    double[] p = new double[l];
    for (int in = 0; in < n; in++) {
      int qb = in * 3 * inner * l, kb = qb + inner * l, vb = kb + inner * l;
      for (int h = 0; h < heads; h++) {
        for (int i = 0; i < l; i++) {
          double max = Double.NEGATIVE_INFINITY;
          for (int j = 0; j < l; j++) {
            double s = 0;
            for (int c = 0; c < headDim; c++) {
              int ch = h * headDim + c;
              s += (double) d[qb + ch * l + i] * d[kb + ch * l + j];
            }
            p[j] = s * scale;
            max = Math.max(max, p[j]);
          }
          double sum = 0;
          for (int j = 0; j < l; j++) {
            p[j] = Math.exp(p[j] - max);
            sum += p[j];
          }
          for (int c = 0; c < headDim; c++) {
            int ch = h * headDim + c;
            double acc = 0;
            for (int j = 0; j < l; j++) {
              acc += p[j] * d[vb + ch * l + j];
            }
            o[(in * inner + ch) * l + i] = (float) (acc / sum);
          }
        }
      }
    }
  }

  @Override
  public void embedding(Tensor tablet, int[] rows, Tensor outt) {
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

  @Override
  public void close() {}
}
