package dev.sampler.server.cli;

import dev.sampler.engine.backend.TensorBackend;
import dev.sampler.engine.schedule.BetaSchedule;
import dev.sampler.engine.unet.UNet2DModel;
import dev.sampler.integrity.safetensors.SafetensorsFile;
import dev.sampler.integrity.safetensors.SafetensorsWriter;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code sampler demo}: the embedded default job. Until the sampling loop lands it runs the demo
 * model's forward pass on the example input shipped beside it, checks the result against the
 * PyTorch output shipped with it, and draws the noisy inputs above the model's estimate of the
 * clean images.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Run the demo model on its shipped example and check it against PyTorch.",
      "Nine noisy images (one per class) go through one UNet forward pass; the output is compared",
      "with PyTorch's and drawn as OUT/denoise.png (top row: noisy input, bottom row: the model's",
      "one-step estimate of the clean image)."
    })
final class DemoCommand implements Callable<Integer> {

  /** Relative L2 tolerance against the PyTorch output (float32 arithmetic in both). */
  static final double TOLERANCE = 1e-5;

  @Spec CommandSpec spec;

  @Option(names = "--model", paramLabel = "DIR", description = "model directory (default: models/demo of this checkout)")
  Path model;

  @Option(names = "--out", defaultValue = "demo-out", paramLabel = "DIR", description = "output directory (default: ${DEFAULT-VALUE})")
  Path out;

  @picocli.CommandLine.Mixin BackendMixin backendOptions;

  @Override
  public Integer call() throws Exception {
    PrintWriter o = spec.commandLine().getOut();
    Path dir = model != null ? model : defaultModelDir();
    Path input = dir.resolve("example-input.safetensors");
    Path expectedFile = dir.resolve("example-expected.safetensors");
    Files.createDirectories(out);

    long t0 = System.nanoTime();
    try (TensorBackend backend = backendOptions.create();
        UNet2DModel unet = UNet2DModel.load(dir, backend)) {
      long t1 = System.nanoTime();
      o.printf("loaded %s (%,d parameters) on backend %s in %.0f ms%n", dir, unet.parameterCount(), backend.name(), (t1 - t0) / 1e6);
      ForwardInput in = ForwardInput.read(input, unet.config());
      // The first calls run interpreted and in the C1 tier; report the median of the calls after them.
      float[] y = null;
      long[] times = new long[7];
      for (int i = 0; i < times.length; i++) {
        long s = System.nanoTime();
        y = unet.forward(in.sample(), in.batch(), in.height(), in.width(), in.timesteps(), in.classLabels());
        times[i] = System.nanoTime() - s;
      }
      long[] warm = java.util.Arrays.copyOfRange(times, 2, times.length);
      java.util.Arrays.sort(warm);
      o.printf("forward: batch %d, %dx%d: first call %.1f ms, median of the next %d calls %.1f ms%n",
          in.batch(), in.height(), in.width(), times[0] / 1e6, warm.length, warm[warm.length / 2] / 1e6);

      Path outTensors = out.resolve("forward.safetensors");
      SafetensorsWriter.create().metadata("producer", "sampler demo")
          .addF32("sample", new long[] {in.batch(), unet.config().outChannels(), in.height(), in.width()}, y)
          .write(outTensors);
      o.println("wrote " + outTensors);

      int status = 0;
      if (Files.exists(expectedFile)) {
        float[] expected;
        try (SafetensorsFile ef = SafetensorsFile.open(expectedFile)) {
          expected = ef.readFloats("sample");
        }
        double err = relativeL2(y, expected);
        boolean ok = err <= TOLERANCE;
        o.printf("parity with PyTorch (%s): relative L2 error %.3g, tolerance %.0e: %s%n",
            expectedFile.getFileName(), err, TOLERANCE, ok ? "OK" : "FAILED");
        status = ok ? 0 : 1;
      } else {
        o.println("no " + expectedFile.getFileName() + " beside the model: parity not checked");
      }

      Path schedulerConfig = dir.resolve("scheduler_config.json");
      if (Files.exists(schedulerConfig) && unet.config().inChannels() == 3 && unet.config().outChannels() == 3) {
        BetaSchedule schedule = BetaSchedule.read(schedulerConfig);
        int per = 3 * in.height() * in.width();
        float[] x0 = new float[y.length];
        for (int n = 0; n < in.batch(); n++) {
          int t = Math.min(Math.round(in.timesteps()[n]), schedule.numTrainTimesteps() - 1);
          schedule.predictOriginal(in.sample(), y, n * per, per, t, x0);
        }
        Path png = out.resolve("denoise.png");
        ImageIO.write(grid(in.sample(), x0, in.batch(), in.height(), in.width(), 4), "png", png.toFile());
        o.println("wrote " + png + " (top: noisy input at t=" + Math.round(in.timesteps()[0])
            + ", bottom: the model's one-step estimate of the clean image; columns are class labels "
            + java.util.Arrays.toString(in.classLabels()) + ")");
      }
      return status;
    }
  }

  private static Path defaultModelDir() {
    String home = System.getenv("SAMPLER_HOME");
    return home != null ? Path.of(home, "models", "demo") : Path.of("models", "demo");
  }

  static double relativeL2(float[] a, float[] b) {
    if (a.length != b.length) {
      return Double.POSITIVE_INFINITY;
    }
    double num = 0;
    double den = 0;
    for (int i = 0; i < a.length; i++) {
      double d = (double) a[i] - b[i];
      num += d * d;
      den += (double) b[i] * b[i];
    }
    return Math.sqrt(num / Math.max(den, Double.MIN_NORMAL));
  }

  /** Two rows of RGB images in [-1, 1] (NCHW), each pixel drawn as a scale x scale block. */
  static BufferedImage grid(float[] top, float[] bottom, int n, int h, int w, int scale) {
    int gap = 2;
    int cw = w * scale + gap;
    int ch = h * scale + gap;
    BufferedImage img = new BufferedImage(n * cw + gap, 2 * ch + gap, BufferedImage.TYPE_INT_RGB);
    for (int row = 0; row < 2; row++) {
      float[] src = row == 0 ? top : bottom;
      for (int k = 0; k < n; k++) {
        for (int y = 0; y < h; y++) {
          for (int x = 0; x < w; x++) {
            int rgb = 0;
            for (int c = 0; c < 3; c++) {
              float v = src[((k * 3 + c) * h + y) * w + x];
              int b = Math.round(Math.clamp((v + 1f) * 127.5f, 0f, 255f));
              rgb = (rgb << 8) | b;
            }
            for (int dy = 0; dy < scale; dy++) {
              for (int dx = 0; dx < scale; dx++) {
                img.setRGB(gap + k * cw + x * scale + dx, gap + row * ch + y * scale + dy, rgb);
              }
            }
          }
        }
      }
    }
    return img;
  }
}
