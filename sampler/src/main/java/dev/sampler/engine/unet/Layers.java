package dev.sampler.engine.unet;

import dev.sampler.engine.ModelException;
import dev.sampler.engine.backend.Conv2dSpec;
import dev.sampler.engine.backend.Epilogue;
import dev.sampler.engine.backend.Tensor;
import dev.sampler.engine.backend.TensorBackend;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The diffusers layers a UNet2DModel is made of, built once on top of the backend primitives. */
final class Layers {
  private Layers() {}

  /**
   * Hands out a forward pass's activation tensors. The first pass for an input shape allocates
   * them in request order; later passes get the same tensors back in the same order (the control
   * flow does not depend on the data), so steady-state forwards allocate nothing.
   */
  static final class Workspace implements AutoCloseable {
    private final TensorBackend backend;
    private final List<Tensor> tensors = new ArrayList<>();
    private final List<int[]> shapes = new ArrayList<>();
    private int next;

    Workspace(TensorBackend backend) {
      this.backend = backend;
    }

    void rewind() {
      next = 0;
    }

    Tensor get(int... shape) {
      if (next < tensors.size()) {
        if (!Arrays.equals(shapes.get(next), shape)) {
          throw new IllegalStateException("workspace request " + next + " changed shape: "
              + Arrays.toString(shapes.get(next)) + " -> " + Arrays.toString(shape));
        }
        return tensors.get(next++);
      }
      Tensor t = backend.allocate(shape);
      tensors.add(t);
      shapes.add(shape.clone());
      next++;
      return t;
    }

    @Override
    public void close() {
      for (Tensor t : tensors) {
        t.close();
      }
      tensors.clear();
    }
  }

  /** A 2-D convolution with bias. */
  record Conv(Tensor weight, Tensor bias, int in, int out, int kernel, Conv2dSpec spec) {
    static Conv load(Weights w, String name, int in, int out, int kernel, Conv2dSpec spec) throws ModelException {
      return new Conv(w.tensor(name + ".weight", out, in, kernel, kernel), w.tensor(name + ".bias", out), in, out,
          kernel, spec);
    }

    Tensor apply(TensorBackend b, Workspace ws, Tensor x, Epilogue e) {
      int n = x.dim(0);
      Tensor y = ws.get(n, out, spec.outExtent(x.dim(2), kernel), spec.outExtent(x.dim(3), kernel));
      b.conv2d(x, weight, bias, spec, e, y);
      return y;
    }
  }

  /** {@code nn.GroupNorm} with affine parameters. */
  record Norm(Tensor gamma, Tensor beta, int groups, float eps) {
    static Norm load(Weights w, String name, int channels, int groups, double eps) throws ModelException {
      if (channels % groups != 0) {
        throw new ModelException("config.json: norm groups " + groups + " do not divide the " + channels
            + " channels of " + name);
      }
      return new Norm(w.tensor(name + ".weight", channels), w.tensor(name + ".bias", channels), groups, (float) eps);
    }

    Tensor apply(TensorBackend b, Workspace ws, Tensor x, boolean silu) {
      Tensor y = ws.get(x.shape());
      b.groupNorm(x, gamma, beta, groups, eps, silu, y);
      return y;
    }
  }

  /** {@code nn.Linear}. */
  record Linear(Tensor weight, Tensor bias, int in, int out) {
    static Linear load(Weights w, String name, int in, int out) throws ModelException {
      return new Linear(w.tensor(name + ".weight", out, in), w.tensor(name + ".bias", out), in, out);
    }

    Tensor apply(TensorBackend b, Workspace ws, Tensor x) {
      Tensor y = ws.get(x.dim(0), out);
      b.linear(x, weight, bias, y);
      return y;
    }
  }

  /**
   * diffusers {@code ResnetBlock2D} with {@code time_embedding_norm="default"}: {@code out =
   * (shortcut(x) + conv2(silu(norm2(conv1(silu(norm1(x))) + time_emb_proj(silu(temb))))) /
   * output_scale_factor}; dropout is the identity at inference.
   */
  record Resnet(Norm norm1, Conv conv1, Linear timeProj, Norm norm2, Conv conv2, Conv shortcut, float invScale,
      int in, int out) {
    static Resnet load(Weights w, String name, int in, int out, int temb, int groups, double eps, double scale)
        throws ModelException {
      return new Resnet(
          Norm.load(w, name + ".norm1", in, groups, eps),
          Conv.load(w, name + ".conv1", in, out, 3, Conv2dSpec.same(1)),
          Linear.load(w, name + ".time_emb_proj", temb, out),
          Norm.load(w, name + ".norm2", out, groups, eps),
          Conv.load(w, name + ".conv2", out, out, 3, Conv2dSpec.same(1)),
          in == out ? null : Conv.load(w, name + ".conv_shortcut", in, out, 1, Conv2dSpec.same(0)),
          (float) (1.0 / scale), in, out);
    }

    /** {@code tembAct} is {@code silu(temb)}, shared by all blocks. */
    Tensor apply(TensorBackend b, Workspace ws, Tensor x, Tensor tembAct) {
      Tensor h = norm1.apply(b, ws, x, true);
      Tensor t = timeProj.apply(b, ws, tembAct);
      h = conv1.apply(b, ws, h, new Epilogue(t, null, 1f));
      b.groupNorm(h, norm2.gamma(), norm2.beta(), norm2.groups(), norm2.eps(), true, h);
      Tensor skip = shortcut == null ? x : shortcut.apply(b, ws, x, Epilogue.NONE);
      return conv2.apply(b, ws, h, new Epilogue(null, skip, invScale));
    }

    long flopsPerPixel() {
      return 2L * (9L * in * out + 9L * out * out + (shortcut == null ? 0 : (long) in * out));
    }
  }

  /**
   * diffusers {@code Attention} as built by the UNet blocks (spatial self-attention with
   * {@code residual_connection=True}): {@code out = (to_out(attn(to_q(n), to_k(n), to_v(n))) + x) /
   * rescale_output_factor} with {@code n = group_norm(x)} (or x without a group norm), heads of
   * {@code headDim} channels and scale {@code headDim^-0.5}. The three projections run as one 1x1
   * convolution over stacked weights.
   */
  record Attention(Norm norm, Tensor qkvWeight, Tensor qkvBias, Tensor outWeight, Tensor outBias, int channels,
      int heads, int headDim, float invScale) {
    static Attention load(Weights w, String name, int channels, int headDim, Integer groups, double eps,
        double rescale) throws ModelException {
      int heads = channels / headDim;
      if (heads < 1) {
        throw new ModelException("config.json: attention_head_dim " + headDim + " exceeds the " + channels
            + " channels of " + name);
      }
      int inner = heads * headDim;
      Norm norm = groups == null ? null : Norm.load(w, name + ".group_norm", channels, groups, eps);
      float[] qkv = new float[3 * inner * channels];
      float[] qkvB = new float[3 * inner];
      String[] parts = {"to_q", "to_k", "to_v"};
      for (int i = 0; i < 3; i++) {
        float[] wi = w.read(name + "." + parts[i] + ".weight", inner, channels);
        float[] bi = w.read(name + "." + parts[i] + ".bias", inner);
        System.arraycopy(wi, 0, qkv, i * inner * channels, wi.length);
        System.arraycopy(bi, 0, qkvB, i * inner, bi.length);
        Arrays.fill(wi, 0f);
        Arrays.fill(bi, 0f);
      }
      Tensor qkvT = w.upload(qkv, 3 * inner, channels, 1, 1);
      Tensor qkvBT = w.upload(qkvB, 3 * inner);
      Tensor outW = w.upload(w.read(name + ".to_out.0.weight", channels, inner), channels, inner, 1, 1);
      Tensor outB = w.tensor(name + ".to_out.0.bias", channels);
      return new Attention(norm, qkvT, qkvBT, outW, outB, channels, heads, headDim, (float) (1.0 / rescale));
    }

    Tensor apply(TensorBackend b, Workspace ws, Tensor x) {
      int n = x.dim(0), h = x.dim(2), wd = x.dim(3), inner = heads * headDim;
      Tensor normed = norm == null ? x : norm.apply(b, ws, x, false);
      Tensor qkv = ws.get(n, 3 * inner, h, wd);
      b.conv2d(normed, qkvWeight, qkvBias, Conv2dSpec.same(0), Epilogue.NONE, qkv);
      Tensor a = ws.get(n, inner, h, wd);
      b.attention(qkv, heads, headDim, (float) (1.0 / Math.sqrt(headDim)), a);
      Tensor y = ws.get(n, channels, h, wd);
      b.conv2d(a, outWeight, outBias, Conv2dSpec.same(0), new Epilogue(null, x, invScale), y);
      return y;
    }
  }
}
