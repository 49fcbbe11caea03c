package dev.sampler.engine.backend;

/**
 * Element-wise work fused into the end of a convolution:
 * {@code out = (conv(x) + bias[c] + sampleBias[n, c] + residual[n, c, y, x]) * scale}.
 *
 * @param sampleBias {@code [N, Cout]} added per sample and channel (a ResNet block's projected
 *     time embedding), or null
 * @param residual a tensor of the output's shape added before scaling (a skip connection), or
 *     null; it may not be the output tensor itself
 * @param scale multiplies the sum; 1 for none (diffusers divides by {@code output_scale_factor})
 */
public record Epilogue(Tensor sampleBias, Tensor residual, float scale) {
  /** No fused work. */
  public static final Epilogue NONE = new Epilogue(null, null, 1f);

  public Epilogue {
    if (!(scale == scale) || Float.isInfinite(scale)) {
      throw new IllegalArgumentException("epilogue scale must be finite: " + scale);
    }
  }
}
