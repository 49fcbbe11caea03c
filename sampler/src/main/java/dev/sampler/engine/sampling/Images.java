package dev.sampler.engine.sampling;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/** Model-range images to 8-bit pixels and PNG, exactly as diffusers' image processor rounds them. */
public final class Images {
  private Images() {}

  /**
   * Image {@code k} of an NCHW float array as interleaved 8-bit values (RGB for 3 channels, gray
   * for 1): {@code round_half_even(clamp(x / 2 + 0.5, 0, 1) * 255)} in float32, as diffusers'
   * {@code VaeImageProcessor.denormalize} followed by {@code numpy_to_pil}.
   */
  public static byte[] toRgb8(float[] images, int k, int channels, int height, int width) {
    if (channels != 1 && channels != 3) {
      throw new IllegalArgumentException("only 1- or 3-channel images can be written, got " + channels);
    }
    int plane = height * width;
    byte[] out = new byte[plane * channels];
    int base = k * channels * plane;
    for (int p = 0; p < plane; p++) {
      for (int c = 0; c < channels; c++) {
        out[p * channels + c] = (byte) quantize(images[base + c * plane + p]);
      }
    }
    return out;
  }

  /** One value in the model's range to 0..255. */
  public static int quantize(float x) {
    float v = x / 2f + 0.5f;
    v = v < 0f ? 0f : (v > 1f ? 1f : v); // NaN stays NaN and becomes 0 below
    float s = v * 255f;
    return Float.isNaN(s) ? 0 : (int) Math.rint(s);
  }

  /** Interleaved 8-bit pixels (see {@link #toRgb8}) as a BufferedImage. */
  public static BufferedImage toBufferedImage(byte[] pixels, int channels, int height, int width) {
    BufferedImage img = new BufferedImage(width, height,
        channels == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        int p = (y * width + x) * channels;
        if (channels == 1) {
          int g = pixels[p] & 0xff;
          img.getRaster().setSample(x, y, 0, g);
        } else {
          img.setRGB(x, y, ((pixels[p] & 0xff) << 16) | ((pixels[p + 1] & 0xff) << 8) | (pixels[p + 2] & 0xff));
        }
      }
    }
    return img;
  }

  /**
   * PNG bytes of an image (the JDK's encoder: the same pixels give the same bytes). Encodes
   * through an in-memory stream: {@code ImageIO.write(image, "png", OutputStream)} would buffer
   * through a cache file in {@code java.io.tmpdir}, which fails on a read-only root filesystem.
   */
  public static byte[] png(BufferedImage image) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("png");
    if (!writers.hasNext()) {
      throw new IllegalStateException("the JDK has no PNG writer");
    }
    ImageWriter writer = writers.next();
    try (ImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
      writer.setOutput(out);
      writer.write(image);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      writer.dispose();
    }
    return bytes.toByteArray();
  }

  /** PNG bytes of image {@code k} of a result. */
  public static byte[] png(SamplingResult result, int k) {
    return png(toBufferedImage(result.rgb8(k), result.channels(), result.height(), result.width()));
  }
}
