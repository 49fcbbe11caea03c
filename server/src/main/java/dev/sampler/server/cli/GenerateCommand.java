package dev.sampler.server.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.api.v1.ClassCount;
import dev.sampler.api.v1.ClassLabels;
import dev.sampler.api.v1.GenerateRequest;
import dev.sampler.api.v1.GetModelRequest;
import dev.sampler.api.v1.ModelInfo;
import dev.sampler.api.v1.PreviewOptions;
import dev.sampler.api.v1.SamplerServiceGrpc;
import dev.sampler.engine.backend.TensorBackend;
import dev.sampler.engine.sampling.DiffusionPipeline;
import dev.sampler.engine.sampling.Images;
import dev.sampler.engine.sampling.SamplingRequest;
import dev.sampler.engine.schedule.Schedulers;
import dev.sampler.rng.SecretSeed;
import dev.sampler.server.engine.CommitmentKey;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code sampler generate}: images as PNGs, either from a sampler server over gRPC
 * ({@code --target}) or from the model run in this process ({@code --local}). Both print the same
 * JSON line per image on stdout and draw the same contact sheet; neither prints the seed.
 */
@Command(
    name = "generate",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Generate images and write them as PNGs, through a server or in this process.",
      "--target HOST:PORT calls a sampler server over gRPC (TLS unless --plaintext; mTLS with --cert/--key; "
          + "a gateway token with --token-file): a progress bar on stderr follows the queue position and the "
          + "steps, Ctrl-C cancels the call. --local runs the model in this process instead.",
      "Writes OUT/img-NNN-<label>.png (and OUT/sheet.png for more than one image, labelled with the checker's "
          + "verdicts); prints one JSON line of metadata per image on stdout (scheduler, steps, guidance, model "
          + "and scheduler-config digests, request id, seed commitment, PNG digest, checker verdict); never the seed.",
      "Schedulers: ddpm, ddim, euler, euler-ancestral, heun, lms, dpmpp-2m, dpmpp-2m-karras, "
          + "dpmpp-2m-sde, unipc. The noise schedule itself (betas, prediction type, spacing) comes "
          + "from the model's scheduler_config.json."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:success",
      "1:the command failed here (a file, the model, the engine)",
      "2:bad command line",
      "3:the server rejected the request (INVALID_ARGUMENT, NOT_FOUND, OUT_OF_RANGE, FAILED_PRECONDITION)",
      "4:not authenticated or not allowed (UNAUTHENTICATED, PERMISSION_DENIED)",
      "5:quota or queue full, retry later (RESOURCE_EXHAUSTED)",
      "6:server unreachable, not ready or draining (UNAVAILABLE)",
      "7:deadline exceeded (DEADLINE_EXCEEDED)",
      "8:server failure or a reply that does not check out (INTERNAL, UNKNOWN, UNIMPLEMENTED, ...)",
      "130:cancelled (Ctrl-C, or CANCELLED)",
    })
final class GenerateCommand implements Callable<Integer> {
  /** Options that only make sense in one mode; giving them in the other is a usage error. */
  private static final List<String> LOCAL_ONLY = List.of("--tenant", "--commitment-key-file", "--backend", "--threads");
  private static final List<String> REMOTE_ONLY =
      List.of("--plaintext", "--ca", "--cert", "--key", "--token-file", "--deadline", "--preview-every");

  @Spec CommandSpec spec;

  @Option(names = "--local", description = "run the model in this process instead of calling a server")
  boolean local;

  @ArgGroup(validate = false, heading = "%nServer connection (with --target):%n", order = 1)
  TargetOptions target;

  @Option(names = "--model", paramLabel = "NAME|DIR",
      description = "with --target the model's name on the server (default: demo); with --local a model directory "
          + "(default: models/demo of this checkout)")
  String model;

  @Option(names = "--class", paramLabel = "K", defaultValue = "all",
      description = "class label, comma-separated labels, or 'all' (default: ${DEFAULT-VALUE})")
  String classes;

  @Option(names = "--count", defaultValue = "1", paramLabel = "N", description = "images per class (default: ${DEFAULT-VALUE})")
  int count;

  @Option(names = "--steps", defaultValue = "20", paramLabel = "S",
      description = "inference steps: 1..1000 locally, a server's limit is its ModelInfo.max_steps (default: ${DEFAULT-VALUE})")
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

  @Option(names = "--preview-every", defaultValue = "0", paramLabel = "N",
      description = "with --target: ask for a low-resolution preview every N steps, written to OUT/previews/ (default: none)")
  int previewEvery;

  @Mixin NoiseOptions noise;

  @Mixin BackendMixin backendOptions;

  @Override
  public Integer call() throws Exception {
    boolean remote = target != null && target.target != null;
    if (local == remote) {
      throw new ParameterException(spec.commandLine(),
          "give exactly one of --target HOST:PORT (call a server) or --local (run the model here)");
    }
    for (String name : remote ? LOCAL_ONLY : REMOTE_ONLY) {
      if (spec.commandLine().getParseResult().hasMatchedOption(name)) {
        throw new ParameterException(spec.commandLine(), name + " applies to " + (remote ? "--local" : "--target") + " only"
            + (name.equals("--tenant") ? ": a server takes the tenant from the client certificate or the token" : ""));
      }
    }
    if (count < 1) {
      throw new ParameterException(spec.commandLine(), "--count must be at least 1, got " + count);
    }
    return remote ? callRemote() : callLocal();
  }

  private int callLocal() throws Exception {
    if (!Schedulers.names().contains(scheduler)) {
      throw new ParameterException(spec.commandLine(), "unknown scheduler \"" + scheduler + "\" (supported: "
          + String.join(", ", Schedulers.names()) + ")");
    }
    PrintWriter o = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Path dir = model != null ? Path.of(model) : DemoCommand.defaultModelDir();
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
        Files.write(sheet, Images.png(Generation.sheet(result, pipeline, labels, sheetTitle(), Math.min(labels.length, 10))));
        err.println("wrote " + sheet);
      }
      for (ObjectNode m : result.metadata()) {
        o.println(Generation.json(m));
      }
      err.println(Generation.timing(result));
      return 0;
    }
  }

  private int callRemote() throws Exception {
    PrintWriter o = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (previewEvery < 0) {
      throw new ParameterException(spec.commandLine(), "--preview-every must be 0 (none) or more, got " + previewEvery);
    }
    TargetOptions.Connection c;
    try {
      c = target.connect();
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    try (c; SecretSeed seed = noise.seed()) {
      if (seed != null && !c.secure() && !c.target().isLoopback()) {
        throw new ParameterException(spec.commandLine(),
            "a replay seed is sent only over TLS or to a loopback target (drop --plaintext)");
      }
      String modelName = model != null ? model : "demo";
      GenerateRequest.Builder b = GenerateRequest.newBuilder()
          .setModel(modelName)
          .setSteps(steps)
          .setScheduler(scheduler)
          .setGuidanceScale(guidance)
          .setGuidanceRescale(guidanceRescale)
          .setRequestId(noise.requestId());
      setImages(b, c, modelName);
      if (previewEvery > 0) {
        b.setPreview(PreviewOptions.newBuilder().setEveryNSteps(previewEvery));
      }
      RemoteGeneration.setSeed(b, seed);
      RemoteGeneration.PreviewSink previews = previewEvery > 0 ? RemoteGeneration.previewWriter(out.resolve("previews")) : null;
      RemoteGeneration.Output result = RemoteGeneration.call(c, b.build(),
          new ProgressBar(err, ProgressBar.stderrIsTerminal()), previews, true);
      List<Path> files = RemoteGeneration.writeImages(result, out, "img");
      if (result.images().size() > 1) {
        Path sheet = out.resolve("sheet.png");
        Files.write(sheet, Images.png(RemoteGeneration.sheet(result, sheetTitle(), Math.min(result.images().size(), 10))));
        err.println("wrote " + sheet);
      }
      for (ObjectNode m : RemoteGeneration.metadata(result, files)) {
        o.println(RemoteGeneration.json(m));
      }
      err.println(RemoteGeneration.timing(result));
      return 0;
    }
  }

  /**
   * Sets the request's images from --class and --count: one class and a count as ClassCount,
   * otherwise one label per image (each class --count times, in order), as --local orders them.
   * 'all' asks the server for the model's classes first.
   */
  private void setImages(GenerateRequest.Builder b, TargetOptions.Connection c, String modelName) throws RemoteCallException {
    int classLabels = classes.equals("all") ? getModel(c, modelName).getClassLabelsCount() : 0;
    List<Integer> base = Generation.baseClasses(classes, classLabels);
    if (base.size() == 1) {
      b.setClassCount(ClassCount.newBuilder().setLabel(base.get(0)).setCount(count));
      return;
    }
    ClassLabels.Builder labels = ClassLabels.newBuilder();
    for (int label : Generation.repeat(base, count)) {
      labels.addLabels(label);
    }
    b.setClassLabels(labels);
  }

  private static ModelInfo getModel(TargetOptions.Connection c, String name) throws RemoteCallException {
    SamplerServiceGrpc.SamplerServiceBlockingStub stub = SamplerServiceGrpc.newBlockingStub(c.channel())
        .withDeadlineAfter(c.deadline().toMillis(), TimeUnit.MILLISECONDS);
    if (c.credentials() != null) {
      stub = stub.withCallCredentials(c.credentials());
    }
    try {
      return stub.getModel(GetModelRequest.newBuilder().setName(name).build());
    } catch (StatusRuntimeException e) {
      throw new RemoteCallException(e.getStatus());
    }
  }

  private String sheetTitle() {
    return String.format(Locale.ROOT, "%s  %d steps  guidance %s", scheduler, steps, fmt(guidance));
  }

  static String fmt(double d) {
    return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
  }
}
