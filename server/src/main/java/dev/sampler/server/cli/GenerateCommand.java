package dev.sampler.server.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.engine.backend.TensorBackend;
import dev.sampler.engine.sampling.DiffusionPipeline;
import dev.sampler.engine.sampling.Images;
import dev.sampler.engine.sampling.SamplingRequest;
import dev.sampler.engine.schedule.Schedulers;
import dev.sampler.rng.SecretSeed;
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
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code sampler generate --local}: sample images in this process and write PNGs. */
@Command(
    name = "generate",
    mixinStandardHelpOptions = true,
    description = {
      "Generate images and write them as PNGs.",
      "--local runs the model in this process (the only mode until the gRPC service lands). "
          + "Prints one JSON line of metadata per image on stdout (scheduler, steps, guidance, model "
          + "and scheduler-config digests, request id, seed commitment, PNG digest, checker verdict); "
          + "never the seed. Progress goes to stderr.",
      "Schedulers: ddpm, ddim, euler, euler-ancestral, heun, lms, dpmpp-2m, dpmpp-2m-karras, "
          + "dpmpp-2m-sde, unipc. The noise schedule itself (betas, prediction type, spacing) comes "
          + "from the model's scheduler_config.json."
    })
final class GenerateCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--local", description = "run the model in this process")
  boolean local;

  @Option(names = "--model", paramLabel = "DIR", description = "model directory (default: models/demo of this checkout)")
  Path model;

  @Option(names = "--class", paramLabel = "K", defaultValue = "all",
      description = "class label, comma-separated labels, or 'all' (default: ${DEFAULT-VALUE})")
  String classes;

  @Option(names = "--count", defaultValue = "1", paramLabel = "N", description = "images per class (default: ${DEFAULT-VALUE})")
  int count;

  @Option(names = "--steps", defaultValue = "20", paramLabel = "S", description = "inference steps, 1..1000 (default: ${DEFAULT-VALUE})")
  int steps;

  @Option(names = "--scheduler", defaultValue = "dpmpp-2m-karras", paramLabel = "NAME", description = "scheduler (default: ${DEFAULT-VALUE})")
  String scheduler;

  @Option(names = "--guidance", defaultValue = "3.0", paramLabel = "G",
      description = "classifier-free guidance scale, 0..30; above 1 runs class and null-class rows (default: ${DEFAULT-VALUE})")
  double guidance;

  @Option(names = "--guidance-rescale", defaultValue = "0.0", paramLabel = "PHI", description = "guidance rescale, 0..1 (default: ${DEFAULT-VALUE})")
  double guidanceRescale;

  @Option(names = "--out", defaultValue = "out", paramLabel = "DIR", description = "output directory (default: ${DEFAULT-VALUE})")
  Path out;

  @Mixin NoiseOptions noise;

  @Mixin BackendMixin backendOptions;

  @Override
  public Integer call() throws Exception {
    if (!local) {
      throw new ParameterException(spec.commandLine(), "give --local: generation runs in this process until the gRPC service exists");
    }
    if (!Schedulers.names().contains(scheduler)) {
      throw new ParameterException(spec.commandLine(), "unknown scheduler \"" + scheduler + "\" (supported: "
          + String.join(", ", Schedulers.names()) + ")");
    }
    PrintWriter o = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Path dir = model != null ? model : DemoCommand.defaultModelDir();
    CommitmentKey key = noise.commitmentKey();
    try (SecretSeed seed = noise.seed();
        TensorBackend backend = backendOptions.create();
        DiffusionPipeline pipeline = DiffusionPipeline.load(dir, backend)) {
      int[] labels = Generation.parseClasses(classes, pipeline, count);
      SamplingRequest request = new SamplingRequest(labels, steps, guidance, guidanceRescale);
      pipeline.validate(request);
      Generation.Output result = Generation.run(pipeline, request, scheduler, noise, seed, key, err);
      Generation.writeImages(result, pipeline, labels, out, "img");
      if (labels.length > 1) {
        Path sheet = out.resolve("sheet.png");
        String title = String.format(Locale.ROOT, "%s  %d steps  guidance %s", scheduler, steps, fmt(guidance));
        Files.write(sheet, Images.png(Generation.sheet(result, pipeline, labels, title, Math.min(labels.length, 10))));
        err.println("wrote " + sheet);
      }
      for (ObjectNode m : result.metadata()) {
        o.println(Generation.json(m));
      }
      err.println(Generation.timing(result));
      return 0;
    }
  }

  static String fmt(double d) {
    return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
  }
}
