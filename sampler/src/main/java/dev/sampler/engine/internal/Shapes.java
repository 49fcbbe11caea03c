package dev.sampler.engine.internal;

import dev.sampler.engine.backend.Conv2dSpec;
import dev.sampler.engine.backend.Epilogue;
import java.util.Arrays;

/** Shape checks shared by the backends; each failure is an {@link IllegalArgumentException}. */
public final class Shapes {
  private Shapes() {}

  public static void require(boolean ok, String what, HeapTensor... ts) {
    if (!ok) {
      StringBuilder sb = new StringBuilder(what);
      for (HeapTensor t : ts) {
        sb.append(' ').append(t == null ? "null" : Arrays.toString(t.shape()));
      }
      throw new IllegalArgumentException(sb.toString());
    }
  }

  public static void conv2d(HeapTensor x, HeapTensor w, HeapTensor b, Conv2dSpec s, HeapTensor sampleBias,
      HeapTensor residual, HeapTensor out) {
    require(x.rank() == 4 && w.rank() == 4 && out.rank() == 4, "conv2d: x, weight and out must be 4-D:", x, w, out);
    require(w.dim(1) == x.dim(1), "conv2d: weight in-channels != input channels:", w, x);
    int ho = s.outExtent(x.dim(2), w.dim(2));
    int wo = s.outExtent(x.dim(3), w.dim(3));
    require(out.dim(0) == x.dim(0) && out.dim(1) == w.dim(0) && out.dim(2) == ho && out.dim(3) == wo,
        "conv2d: output shape wrong for " + s + ": x, weight, out", x, w, out);
    require(b == null || (b.rank() == 1 && b.dim(0) == w.dim(0)), "conv2d: bias must be [Cout]:", b, w);
    require(sampleBias == null || (sampleBias.rank() == 2 && sampleBias.dim(0) == x.dim(0)
        && sampleBias.dim(1) == w.dim(0)), "conv2d: sample bias must be [N, Cout]:", sampleBias, out);
    require(residual == null || Arrays.equals(residual.shape(), out.shape()), "conv2d: residual must match out:",
        residual, out);
    require(residual != out && x != out, "conv2d: out may not alias x or residual", out);
  }

  public static void sameShape(String op, HeapTensor a, HeapTensor b) {
    require(Arrays.equals(a.shape(), b.shape()), op + ": shapes differ:", a, b);
  }

  public static HeapTensor opt(Object owner, dev.sampler.engine.backend.Tensor t) {
    return t == null ? null : HeapTensor.of(owner, t);
  }

  public static void epilogue(Object owner, Epilogue e) {
    if (e == null) {
      throw new IllegalArgumentException("epilogue may not be null (use Epilogue.NONE)");
    }
  }
}
