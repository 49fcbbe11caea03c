package dev.sampler.server.engine;

import dev.sampler.api.v1.CheckerVerdict;
import dev.sampler.api.v1.Image;
import dev.sampler.api.v1.Preview;
import dev.sampler.engine.quality.ColourShapeChecker;
import dev.sampler.engine.sampling.Images;
import dev.sampler.engine.sampling.SamplingResult;
import com.google.protobuf.ByteString;
import java.awt.image.BufferedImage;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/** Turns sampled arrays into the images, previews and checker verdicts of the gRPC contract. */
public final class Renderer {
  /** Name and version of the demo model's checker, as reported in verdicts. */
  public static final String CHECKER = "colour-shape/v1";

  private Renderer() {}

  /** One image of a result as the PNG bytes the client receives. */
  public static byte[] png(SamplingResult result, int k) {
    return Images.png(result, k);
  }

  /** Lower-case hex SHA-256. */
  public static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  /** Every image of {@code result}, with its label, digest and checker verdict. */
  public static List<Image> images(ModelHost host, SamplingResult result, int[] labels) {
    List<Image> out = new ArrayList<>(result.count());
    for (int k = 0; k < result.count(); k++) {
      byte[] png = png(result, k);
      out.add(Image.newBuilder()
          .setIndex(k)
          .setPng(ByteString.copyFrom(png))
          .setClassLabel(labels[k])
          .setLabel(host.label(labels[k]))
          .setPngSha256(sha256(png))
          .setChecker(verdict(host, result, k, labels[k]))
          .setWidth(result.width())
          .setHeight(result.height())
          .setChannels(result.channels())
          .build());
    }
    return out;
  }

  /** The checker's verdict on image {@code k}: NOT_APPLICABLE unless the model is the demo's kind. */
  public static CheckerVerdict verdict(ModelHost host, SamplingResult result, int k, int label) {
    if (!host.checkable() || result.channels() != 3) {
      return CheckerVerdict.newBuilder().setResult(CheckerVerdict.Result.NOT_APPLICABLE).build();
    }
    int seen = ColourShapeChecker.classify(result.images(), k, result.height(), result.width());
    return CheckerVerdict.newBuilder()
        .setResult(seen == label ? CheckerVerdict.Result.MATCH : CheckerVerdict.Result.MISMATCH)
        .setChecker(CHECKER)
        .setSeen(seen == ColourShapeChecker.NONE ? "unrecognised" : ColourShapeChecker.name(seen))
        .build();
  }

  /**
   * Previews of {@code count} images in {@code values} ({@code [count, channels, height, width]},
   * model range), each downscaled (never upscaled) so its longer side is at most {@code maxSide}.
   */
  public static List<Preview> previews(float[] values, int count, int channels, int height, int width, int maxSide) {
    List<Preview> out = new ArrayList<>(count);
    for (int k = 0; k < count; k++) {
      byte[] px = Images.toRgb8(values, k, channels, height, width);
      int side = Math.max(height, width);
      int h = height;
      int w = width;
      if (side > maxSide) {
        h = Math.max(1, Math.round((float) height * maxSide / side));
        w = Math.max(1, Math.round((float) width * maxSide / side));
        px = boxDownscale(px, channels, height, width, h, w);
      }
      BufferedImage img = Images.toBufferedImage(px, channels, h, w);
      out.add(Preview.newBuilder().setIndex(k).setPng(ByteString.copyFrom(Images.png(img))).setWidth(w).setHeight(h)
          .build());
    }
    return out;
  }

  /** Area averaging: each target pixel is the mean of the source pixels its box covers. */
  static byte[] boxDownscale(byte[] src, int channels, int sh, int sw, int th, int tw) {
    byte[] dst = new byte[th * tw * channels];
    for (int y = 0; y < th; y++) {
      int y0 = y * sh / th;
      int y1 = Math.max(y0 + 1, (y + 1) * sh / th);
      for (int x = 0; x < tw; x++) {
        int x0 = x * sw / tw;
        int x1 = Math.max(x0 + 1, (x + 1) * sw / tw);
        for (int c = 0; c < channels; c++) {
          int sum = 0;
          for (int yy = y0; yy < y1; yy++) {
            for (int xx = x0; xx < x1; xx++) {
              sum += src[(yy * sw + xx) * channels + c] & 0xff;
            }
          }
          int n = (y1 - y0) * (x1 - x0);
          dst[(y * tw + x) * channels + c] = (byte) ((sum + n / 2) / n);
        }
      }
    }
    return dst;
  }
}
