package dev.sampler.engine.backend;

/**
 * Geometry of a 2-D convolution: square stride, zero padding of {@code padLo} rows/columns before
 * (top, left) and {@code padHi} after (bottom, right) the input, and optionally a nearest-neighbour
 * 2x upsampling of the input first (so {@code conv(upsample(x))} runs as one operation).
 *
 * <p>The output extent is {@code (in * (upsample ? 2 : 1) + padLo + padHi - kernel) / stride + 1}.
 * PyTorch's symmetric {@code padding=p} is {@code padLo = padHi = p}; diffusers' Downsample2D with
 * {@code padding=0} pads only bottom/right by one: {@code padLo = 0, padHi = 1}.
 */
public record Conv2dSpec(int stride, int padLo, int padHi, boolean upsampleInput) {
  public Conv2dSpec {
    if (stride < 1 || padLo < 0 || padHi < 0) {
      throw new IllegalArgumentException(
          "bad convolution geometry: stride " + stride + ", padding " + padLo + "/" + padHi);
    }
  }

  /** Stride 1, symmetric padding {@code pad}, no upsampling. */
  public static Conv2dSpec same(int pad) {
    return new Conv2dSpec(1, pad, pad, false);
  }

  /** Output extent along one axis for input extent {@code in} and kernel extent {@code k}. */
  public int outExtent(int in, int k) {
    int eff = (upsampleInput ? 2 * in : in) + padLo + padHi - k;
    if (eff < 0) {
      throw new IllegalArgumentException("convolution kernel " + k + " larger than padded input " + (eff + k));
    }
    return eff / stride + 1;
  }
}
