package dev.sampler.engine.backend;

/**
 * The primitives a model needs from a device, on dense float32 tensors. Kept deliberately small:
 * composite layers (ResNet block, attention block, UNet) are built on top once, in
 * {@code dev.sampler.engine.unet}, for every backend.
 *
 * <p>Every operation writes into a caller-provided output tensor, so a model can allocate its
 * activations once and run allocation-free. Unless stated otherwise an output must not alias an
 * input. Shape mismatches are programming errors and throw {@link IllegalArgumentException}.
 *
 * <p>A backend may run an operation on several threads internally. Several models may share one
 * backend and call it from different threads; implementations serialise operations as they need
 * to (the {@code cpu} backend runs one operation at a time).
 *
 * <p>Implementations are found through {@link TensorBackendProvider} and created with {@link
 * Backends#create(String, BackendOptions)}.
 */
public interface TensorBackend extends AutoCloseable {
  /** The name this backend was selected by, e.g. {@code "cpu"}. */
  String name();

  /** A human-readable description of the implementation and its settings, for logs. */
  String description();

  /** A new zero-filled tensor. */
  Tensor allocate(int... shape);

  /** A new tensor holding a copy of {@code data} (row-major) with the given shape. */
  Tensor upload(float[] data, int... shape);

  /** Copies the tensor's elements (row-major) into {@code dst}, whose length must be its size. */
  void download(Tensor t, float[] dst);

  /**
   * 2-D convolution, NCHW: {@code x [N, Cin, H, W]}, {@code weight [Cout, Cin, kh, kw]}, optional
   * {@code bias [Cout]}, {@code out [N, Cout, Ho, Wo]} as given by {@link Conv2dSpec#outExtent}.
   * The epilogue's element-wise work is fused in (see {@link Epilogue}).
   */
  void conv2d(Tensor x, Tensor weight, Tensor bias, Conv2dSpec spec, Epilogue epilogue, Tensor out);

  /** {@code out [N, M] = x [N, K] * weight[M, K]^T + bias [M]} (a PyTorch {@code nn.Linear}). */
  void linear(Tensor x, Tensor weight, Tensor bias, Tensor out);

  /**
   * Group normalisation over {@code x [N, C, ...]} with {@code groups} groups of consecutive
   * channels, per-channel affine {@code gamma}, {@code beta [C]}, optionally followed by SiLU:
   * {@code out = act((x - mean_g) / sqrt(var_g + eps) * gamma + beta)}, biased variance. {@code
   * out} may be {@code x}.
   */
  void groupNorm(Tensor x, Tensor gamma, Tensor beta, int groups, float eps, boolean silu, Tensor out);

  /** {@code out = x * sigmoid(x)}, element-wise; {@code out} may be {@code x}. */
  void silu(Tensor x, Tensor out);

  /** {@code out = a + b} for tensors of one shape; {@code out} may be {@code a} or {@code b}. */
  void add(Tensor a, Tensor b, Tensor out);

  /** {@code out [N, Ca + Cb, ...] = cat([a [N, Ca, ...], b [N, Cb, ...]], dim=1)}. */
  void concatChannels(Tensor a, Tensor b, Tensor out);

  /**
   * Multi-head self-attention on channel-major projections. {@code qkv [N, 3 * heads * headDim,
   * L...]} holds the queries, keys and values stacked along dimension 1, each head's
   * {@code headDim} channels consecutive; every spatial position is a token. Writes {@code out [N,
   * heads * headDim, L...]} with {@code out[:, h, :, i] = sum_j softmax_j(scale * q_i . k_j)
   * v_j}.
   */
  void attention(Tensor qkv, int heads, int headDim, float scale, Tensor out);

  /** {@code out [rows.length, D] = table [V, D] [rows]}; every row index must be in range. */
  void embedding(Tensor table, int[] rows, Tensor out);

  /**
   * A per-operation timing table (operation, calls, total and mean time) when the backend was
   * created with profiling on ({@code profile=true}); otherwise empty. For benchmarks, not for
   * production decisions.
   */
  default String profile() {
    return "";
  }

  /** Clears the timing table of {@link #profile()}. */
  default void resetProfile() {}

  /** Releases the backend's threads and memory; tensors it made must not be used afterwards. */
  @Override
  void close();
}
