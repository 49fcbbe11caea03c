package dev.sampler.server.cli;

import dev.sampler.engine.backend.TensorBackend;
import dev.sampler.engine.sampling.DiffusionPipeline;
import dev.sampler.engine.sampling.Images;
import dev.sampler.engine.sampling.SamplingRequest;
import dev.sampler.engine.unet.UNet2DModel;
import dev.sampler.integrity.safetensors.SafetensorsFile;
import dev.sampler.server.engine.CommitmentKey;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sampler demo}: the embedded default job. Loads the demo model, checks one UNet forward
 * against the PyTorch output shipped beside it, then samples one image of every class with the
 * default scheduler and writes a labelled contact sheet, checking each image's class with the
 * deterministic colour/shape checker.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Sample one image of each demo class into a labelled contact sheet.",
      "First checks one UNet forward pass against PyTorch's output shipped with the model "
          + "(relative L2 error <= 1e-5), then samples the 9 classes with fresh per-request DRBG noise "
          + "(OS entropy; --seed-hex or --seed-file replays) and writes OUT/sheet.png plus one PNG "
          + "per image; the line under each image is the colour/shape checker's verdict. Exit code 1 "
          + "if parity fails."
    })
final class DemoCommand implements Callable<Integer> {

  /** Relative L2 tolerance against the PyTorch output (float32 arithmetic in both). */
  static final double TOLERANCE = 1e-5;

  @Spec CommandSpec spec;

  @Option(names = "--model", paramLabel = "DIR", description = "model directory (default: models/demo of this checkout)")
  Path model;

  @Option(names = "--out", defaultValue = "demo-out", paramLabel = "DIR", description = "output directory (default: ${DEFAULT-VALUE})")
  Path out;

  @Option(names = "--scheduler", defaultValue = "dpmpp-2m-karras", paramLabel = "NAME", description = "scheduler (default: ${DEFAULT-VALUE})")
  String scheduler;

  @Option(names = "--steps", defaultValue = "20", paramLabel = "S", description = "inference steps (default: ${DEFAULT-VALUE})")
  int steps;

  @Option(names = "--guidance", defaultValue = "3.0", paramLabel = "G", description = "guidance scale (default: ${DEFAULT-VALUE})")
  double guidance;

  @Mixin NoiseOptions noise;

  @Mixin BackendMixin backendOptions;

  @Override
  public Integer call() throws Exception {
    PrintWriter o = spec.commandLine().getOut();
    Path dir = model != null ? model : defaultModelDir();
    Files.createDirectories(out);
    CommitmentKey key = noise.commitmentKey();

    long t0 = System.nanoTime();
    try (var seed = noise.seed();
        TensorBackend backend = backendOptions.create();
        DiffusionPipeline pipeline = DiffusionPipeline.load(dir, backend)) {
      UNet2DModel unet = pipeline.model();
      o.printf(Locale.ROOT, "loaded %s (%,d parameters) on backend %s in %.0f ms%n", dir, unet.parameterCount(),
          backend.name(), (System.nanoTime() - t0) / 1e6);
      o.printf("model sha256 %s, scheduler config sha256 %s%n", pipeline.weightsSha256(), pipeline.schedulerConfigSha256());
      int status = parity(o, dir, unet);

      int[] labels = Generation.parseClasses("all", pipeline, 1);
      SamplingRequest request = new SamplingRequest(labels, steps, guidance, 0.0);
      Generation.Output result = Generation.run(pipeline, request, scheduler, noise, seed, key,
          spec.commandLine().getErr());
      Generation.writeImages(result, pipeline, labels, out, "img");
      String title = String.format(Locale.ROOT, "%s  %d steps  guidance %s  (%s)", scheduler, steps,
          GenerateCommand.fmt(guidance), seed == null ? "fresh os-entropy noise" : "replayed seed");
      Path sheet = out.resolve("sheet.png");
      Files.write(sheet, Images.png(Generation.sheet(result, pipeline, labels, title, 9)));
      int ok = result.correct(labels);
      o.println(Generation.timing(result));
      o.printf("checker: %d/%d images show their class%n", ok, labels.length);
      o.println("wrote " + sheet + " (one image per class, labelled; the line under each image is the checker's verdict)");
      return status;
    }
  }

  /** Checks one forward on the shipped example input against PyTorch's output, if both are there. */
  private static int parity(PrintWriter o, Path dir, UNet2DModel unet) throws Exception {
    Path input = dir.resolve("example-input.safetensors");
    Path expectedFile = dir.resolve("example-expected.safetensors");
    if (!Files.exists(input) || !Files.exists(expectedFile)) {
      o.println("no example-input/example-expected beside the model: parity not checked");
      return 0;
    }
    ForwardInput in = ForwardInput.read(input, unet.config());
    long s = System.nanoTime();
    float[] y = unet.forward(in.sample(), in.batch(), in.height(), in.width(), in.timesteps(), in.classLabels());
    long first = System.nanoTime() - s;
    float[] expected;
    try (SafetensorsFile ef = SafetensorsFile.open(expectedFile)) {
      expected = ef.readFloats("sample");
    }
    double err = relativeL2(y, expected);
    boolean ok = err <= TOLERANCE;
    o.printf(Locale.ROOT, "parity with PyTorch (%s, batch %d, first call %.0f ms): relative L2 error %.3g, tolerance %.0e: %s%n",
        expectedFile.getFileName(), in.batch(), first / 1e6, err, TOLERANCE, ok ? "OK" : "FAILED");
    return ok ? 0 : 1;
  }

  static Path defaultModelDir() {
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
}
