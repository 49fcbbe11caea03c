package dev.sampler.server.cli;

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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code sampler fidelity}: class fidelity of the demo model per scheduler, by the checker. */
@Command(
    name = "fidelity",
    mixinStandardHelpOptions = true,
    description = {
      "Measure class fidelity per scheduler with the colour/shape checker.",
      "Generates PER-CLASS images of every class with each scheduler, reads each image's class "
          + "with the deterministic checker and prints the share that matches. Writes a labelled "
          + "contact sheet per scheduler to OUT/<scheduler>.png. Default steps: ddim and ddpm 50; "
          + "euler-ancestral, euler, heun and lms 30; dpmpp-2m* and unipc 20."
    })
final class FidelityCommand implements Callable<Integer> {
  /** The step count each scheduler is measured at unless --steps says otherwise. */
  static final Map<String, Integer> DEFAULT_STEPS = new LinkedHashMap<>();

  static {
    DEFAULT_STEPS.put("ddpm", 50);
    DEFAULT_STEPS.put("ddim", 50);
    DEFAULT_STEPS.put("euler", 30);
    DEFAULT_STEPS.put("euler-ancestral", 30);
    DEFAULT_STEPS.put("heun", 30);
    DEFAULT_STEPS.put("lms", 30);
    DEFAULT_STEPS.put("dpmpp-2m", 20);
    DEFAULT_STEPS.put("dpmpp-2m-karras", 20);
    DEFAULT_STEPS.put("dpmpp-2m-sde", 20);
    DEFAULT_STEPS.put("unipc", 20);
  }

  @Spec CommandSpec spec;

  @Option(names = "--model", paramLabel = "DIR", description = "model directory (default: models/demo of this checkout)")
  Path model;

  @Option(names = "--scheduler", defaultValue = "all", paramLabel = "NAMES",
      description = "comma-separated scheduler names, or 'all' (default: ${DEFAULT-VALUE})")
  String schedulers;

  @Option(names = "--per-class", defaultValue = "10", paramLabel = "N", description = "images per class (default: ${DEFAULT-VALUE})")
  int perClass;

  @Option(names = "--steps", paramLabel = "S", description = "inference steps for every scheduler (default: per scheduler, see above)")
  Integer steps;

  @Option(names = "--guidance", defaultValue = "3.0", paramLabel = "G", description = "guidance scale (default: ${DEFAULT-VALUE})")
  double guidance;

  @Option(names = "--out", defaultValue = "fidelity-out", paramLabel = "DIR", description = "output directory (default: ${DEFAULT-VALUE})")
  Path out;

  @Mixin NoiseOptions noise;

  @Mixin BackendMixin backendOptions;

  @Override
  public Integer call() throws Exception {
    List<String> names = schedulers.equals("all") ? Schedulers.names() : List.of(schedulers.split(","));
    for (String n : names) {
      if (!Schedulers.names().contains(n)) {
        throw new ParameterException(spec.commandLine(), "unknown scheduler \"" + n + "\" (supported: "
            + String.join(", ", Schedulers.names()) + ")");
      }
    }
    PrintWriter o = spec.commandLine().getOut();
    Path dir = model != null ? model : DemoCommand.defaultModelDir();
    Files.createDirectories(out);
    CommitmentKey key = noise.commitmentKey();
    String baseId = noise.requestId();
    try (SecretSeed seed = noise.seed();
        TensorBackend backend = backendOptions.create();
        DiffusionPipeline pipeline = DiffusionPipeline.load(dir, backend)) {
      int[] labels = Generation.parseClasses("all", pipeline, perClass);
      o.printf(Locale.ROOT, "%-16s %5s %9s %10s  %s%n", "scheduler", "steps", "fidelity", "seconds", "per class (of " + perClass + ")");
      for (String name : names) {
        int s = steps != null ? steps : DEFAULT_STEPS.get(name);
        noise.requestId = baseId + "/" + name; // one stream per scheduler run, never shared
        SamplingRequest request = new SamplingRequest(labels, s, guidance, 0.0);
        Generation.Output result = Generation.run(pipeline, request, name, noise, seed, key, null);
        int ok = result.correct(labels);
        int[] perCls = new int[pipeline.classes().labels().size()];
        for (int k = 0; k < labels.length; k++) {
          if (result.checked()[k] == labels[k]) {
            perCls[labels[k]]++;
          }
        }
        String title = String.format(Locale.ROOT, "%s  %d steps  guidance %s  fidelity %d/%d", name, s,
            GenerateCommand.fmt(guidance), ok, labels.length);
        Files.write(out.resolve(name + ".png"), Images.png(Generation.sheet(result, pipeline, labels, title, perClass)));
        String row = String.format(Locale.ROOT, "%-16s %5d %8.1f%% %10.1f  %s", name, s, 100.0 * ok / labels.length,
            result.wallNanos() / 1e9, java.util.Arrays.toString(perCls));
        o.println(row);
        o.flush();
      }
      o.println("contact sheets in " + out + " (rows are classes; red captions are images the checker reads as another class)");
      return 0;
    }
  }
}
