package dev.sampler.e2e;

import dev.sampler.engine.quality.ColourShapeChecker;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import javax.imageio.stream.MemoryCacheImageInputStream;

/** Shared pieces of the e2e tests: server configurations and image checks. */
final class E2e {
  /** A public test seed (32 hex digits); the tests also look for it in everything emitted. */
  static final String SEED = "e2ee2ee2ee2ee2ee0123456789abcdef";

  private E2e() {}

  /** {@link #config(Path, Path, String, String, String)} without extra gRPC or model keys. */
  static Path config(Path dir, Path modelDir, String extra) throws IOException {
    return config(dir, modelDir, "", "", extra);
  }

  /**
   * Writes DIR/sampler.yaml, a server configuration for tests: plaintext gRPC on a free loopback
   * port, the observability port on a free loopback port, the demo model from {@code modelDir}
   * with 2 threads, no warm-up (these tests measure no latency), the runtime directory DIR/run;
   * {@code grpcExtra} adds keys to the grpc section and {@code modelExtra} to the model's entry
   * (indented lines), {@code extra} appends top-level sections. The model's signature is checked
   * against {@code modelDir/signer.pub.pem}; every sandbox check is relaxed unless {@code extra}
   * has a {@code sandbox:} section.
   */
  static Path config(Path dir, Path modelDir, String grpcExtra, String modelExtra, String extra) throws IOException {
    Files.createDirectories(dir);
    String yaml = "grpc:\n  host: 127.0.0.1\n  port: 0\n  insecure-plaintext: true\n" + grpcExtra
        + "observe:\n  host: 127.0.0.1\n  port: 0\n"
        + "models:\n  - name: demo\n    dir: " + modelDir.toAbsolutePath() + "\n    threads: 2\n"
        + "    signer-public-key: " + modelDir.toAbsolutePath().resolve("signer.pub.pem") + "\n" + modelExtra
        + "warmup:\n  enabled: false\n"
        + "runtime:\n  dir: " + dir.resolve("run").toAbsolutePath() + "\n"
        // these tests run as root on a writable root filesystem; the bubblewrap test passes its own
        + (extra.contains("sandbox:") ? "" : "sandbox:\n  relax: [all]\n")
        + extra;
    Path file = dir.resolve("sampler.yaml");
    Files.writeString(file, yaml, StandardCharsets.UTF_8);
    return file;
  }

  /** The checkout's demo model. */
  static Path demoModel() {
    return Proc.home().resolve("models").resolve("demo");
  }

  /** Decodes a PNG in memory; fails the test when the bytes are not one. */
  static BufferedImage decode(byte[] png) throws IOException {
    BufferedImage img = ImageIO.read(new MemoryCacheImageInputStream(new ByteArrayInputStream(png))); // closes the stream
    if (img == null) {
      throw new AssertionError("not a PNG (" + png.length + " bytes)");
    }
    return img;
  }

  /**
   * The demo checker's verdict on a decoded 8-bit RGB image, mapped back to the model's range
   * ({@code v / 255 * 2 - 1}, the inverse of the engine's quantisation up to rounding).
   */
  static int checkerClass(BufferedImage img) {
    int h = img.getHeight();
    int w = img.getWidth();
    float[] planes = new float[3 * h * w];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int rgb = img.getRGB(x, y);
        int p = y * w + x;
        planes[p] = ((rgb >> 16) & 0xff) / 255f * 2f - 1f;
        planes[h * w + p] = ((rgb >> 8) & 0xff) / 255f * 2f - 1f;
        planes[2 * h * w + p] = (rgb & 0xff) / 255f * 2f - 1f;
      }
    }
    return ColourShapeChecker.classify(planes, 0, h, w);
  }
}
