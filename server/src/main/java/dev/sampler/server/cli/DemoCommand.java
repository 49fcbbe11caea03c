package dev.sampler.server.cli;

import dev.sampler.api.v1.ClassLabels;
import dev.sampler.api.v1.GenerateRequest;
import dev.sampler.api.v1.GetModelRequest;
import dev.sampler.api.v1.ModelInfo;
import dev.sampler.api.v1.SamplerServiceGrpc;
import dev.sampler.engine.backend.TensorBackend;
import dev.sampler.engine.sampling.DiffusionPipeline;
import dev.sampler.engine.sampling.Images;
import dev.sampler.engine.unet.UNet2DModel;
import dev.sampler.integrity.safetensors.SafetensorsFile;
import dev.sampler.rng.SecretSeed;
import dev.sampler.server.SamplerServer;
import dev.sampler.server.config.ConfigLoader;
import dev.sampler.server.config.IdentitySettings;
import dev.sampler.server.config.ModelSettings;
import dev.sampler.server.config.ModelTrust;
import dev.sampler.server.config.TrustSettings;
import dev.sampler.server.startup.StartupStep;
import dev.sampler.server.startup.StartupTimings;
import dev.sampler.server.config.ObserveSettings;
import dev.sampler.server.config.ServerConfig;
import dev.sampler.server.config.WarmupSettings;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sampler demo}: the embedded default job, end to end through the service. Loads the demo
 * model and checks one UNet forward against the PyTorch output shipped beside it, then starts the
 * gRPC server in this process on a free loopback port with the embedded demo configuration, samples
 * one image of every class THROUGH gRPC with the same client code as {@code generate --target}, and
 * writes a labelled contact sheet with the server's checker verdicts.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Serve the demo model in-process and make a labelled contact sheet through gRPC.",
      "First checks one UNet forward pass against PyTorch's output shipped with the model "
          + "(relative L2 error <= 1e-5). Then runs the zero-trust start-up with development stand-ins: "
          + "seals the weights with a fresh data key into a temporary directory, starts the reference key "
          + "broker as a child process with that key in its INSECURE in-memory store and a policy for the "
          + "insecure sample TEE, and starts the gRPC server in this process on a free loopback port "
          + "(plaintext, loopback only, no warm-up), which verifies models/demo/model.sig against the pinned "
          + "models/demo/signer.pub.pem, attests, unseals in memory, and prints each start-up step's time. "
          + "It then asks the server, as "
          + "`generate --target` would, for one image of each of the 9 classes with fresh per-request DRBG "
          + "noise (OS entropy; --seed-hex or --seed-file replays, with --request-id and --tenant). Writes "
          + "OUT/sheet.png and OUT/img-NNN-<label>.png; the line under each image is the server's "
          + "colour/shape checker verdict. Exit code 1 if parity fails; 3 to 8 if the call fails (see "
          + "`generate --help`)."
    })
final class DemoCommand implements Callable<Integer> {

  /** Relative L2 tolerance against the PyTorch output (float32 arithmetic in both). */
  static final double TOLERANCE = 1e-5;

  /** The demo's whole gRPC call: generous for 2 slow cores, but bounded. */
  private static final Duration DEADLINE = Duration.ofMinutes(10);

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
    PrintWriter err = spec.commandLine().getErr();
    Path dir = (model != null ? model : defaultModelDir()).toAbsolutePath().normalize();
    Files.createDirectories(out);

    long t0 = System.nanoTime();
    int status;
    String weightsSha256;
    try (TensorBackend backend = backendOptions.create();
        DiffusionPipeline pipeline = DiffusionPipeline.load(dir, backend)) {
      UNet2DModel unet = pipeline.model();
      o.printf(Locale.ROOT, "loaded %s (%,d parameters) on backend %s in %.0f ms%n", dir, unet.parameterCount(),
          backend.name(), (System.nanoTime() - t0) / 1e6);
      o.printf("model sha256 %s, scheduler config sha256 %s%n", pipeline.weightsSha256(), pipeline.schedulerConfigSha256());
      status = parity(o, dir, unet);
      weightsSha256 = pipeline.weightsSha256();
    }

    if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
      // one line per log record, as `serve` prints them (read when JUL first formats a record)
      System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tFT%1$tT.%1$tL %4$s %3$s: %5$s%6$s%n");
    }
    Quiet quiet = Quiet.serverLogs();
    try (DemoTrustChain chain = DemoTrustChain.start(dir);
        SamplerServer server = SamplerServer.builder().config(demoConfig(dir, chain)).build();
        SecretSeed seed = noise.seed()) {
      o.printf(Locale.ROOT, "sealed the weights with a fresh data key into %s (%.0f ms); started the reference key"
          + " broker at %s with that key in its INSECURE development key store (%.0f ms)%n", chain.modelDir(),
          chain.sealNanos() / 1e6, chain.kbsUrl(), chain.brokerStartNanos() / 1e6);
      o.flush();
      server.start();
      o.println(startupReport(server.startupTimings()));
      o.printf(Locale.ROOT, "serving the demo model in-process on %s (plaintext gRPC, loopback only);"
          + " generating through it%n", server.grpcTarget());
      o.flush();
      GenerateRequest.Builder request = GenerateRequest.newBuilder()
          .setModel("demo")
          .setScheduler(scheduler)
          .setSteps(steps)
          .setGuidanceScale(guidance)
          .setRequestId(noise.requestId());
      ClassLabels.Builder labels = ClassLabels.newBuilder();
      try (TargetOptions.Connection c = TargetOptions.loopback(server.grpcPort(), DEADLINE)) {
        ModelInfo info = SamplerServiceGrpc.newBlockingStub(c.channel()).withDeadlineAfter(30, TimeUnit.SECONDS)
            .getModel(GetModelRequest.newBuilder().setName("demo").build());
        for (int label : Generation.repeat(Generation.baseClasses("all", info.getClassLabelsCount()), 1)) {
          labels.addLabels(label);
        }
        request.setClassLabels(labels);
        RemoteGeneration.setSeed(request, seed);
        RemoteGeneration.Output result = RemoteGeneration.call(c, request.build(),
            new ProgressBar(err, ProgressBar.stderrIsTerminal()), null, true);
        List<Path> files = RemoteGeneration.writeImages(result, out, "img");
        String title = String.format(Locale.ROOT, "%s  %d steps  guidance %s  (%s)", scheduler, steps,
            GenerateCommand.fmt(guidance), seed == null ? "fresh os-entropy noise" : "replayed seed");
        Path sheet = out.resolve("sheet.png");
        Files.write(sheet, Images.png(RemoteGeneration.sheet(result, title, 9)));
        boolean sameModel = result.metadata().getModelSha256().equals(weightsSha256);
        o.println(RemoteGeneration.timing(result));
        o.printf("served model sha256 %s the one checked above%n", sameModel ? "matches" : "DIFFERS FROM");
        o.printf("checker: %d/%d images show their class%n", result.matches(), result.images().size());
        o.println("wrote " + sheet + " (one image per class, labelled; the line under each image is the checker's verdict)");
        o.println("wrote " + files.size() + " images: " + out.resolve("img-NNN-<label>.png"));
        if (!sameModel) {
          status = 1;
        }
      } catch (StatusRuntimeException e) {
        throw new RemoteCallException(e.getStatus());
      }
    } finally {
      quiet.restore();
    }
    return status;
  }

  /**
   * The embedded demo configuration for an in-process run: a free loopback port, no
   * observability socket, the model from {@code dir} on the chosen backend, no warm-up (one
   * request does not pay back 15 s of warm-up), the tenant and commitment key of --tenant and
   * --commitment-key-file (so a replay matches {@code generate --local} with the same options).
   */
  private ServerConfig demoConfig(Path dir, DemoTrustChain chain) throws Exception {
    Map<String, String> env = new java.util.HashMap<>(System.getenv());
    // the embedded configuration checks its model directory when read: point it at --model first
    env.put(ConfigLoader.envName("models.0.dir"), dir.toString());
    env.put(ConfigLoader.envName("models.0.signer-public-key"), signerKey(dir).toString());
    ServerConfig base = ServerConfig.embeddedDemo(env);
    IdentitySettings id = base.identity();
    return base
        .withGrpc(base.grpc().withPort(0))
        .withObserve(new ObserveSettings(false, base.observe().host(), 0))
        .withModels(List.of(new ModelSettings("demo", chain.modelDir(), backendOptions.name,
            backendOptions.threadCount(), Map.of(), new ModelTrust(Optional.of(signerKey(dir)),
                chain.modelDir().resolve("model.sig"), List.of(), false, Optional.of(chain.resourceUri())))))
        .withTrust(new TrustSettings(base.trust().sandboxRelax(), new TrustSettings.Attestation(
            Optional.of(chain.kbsUrl()), "insecure-sample", base.trust().attestation().tsmDir(), Duration.ofSeconds(30)),
            base.trust().reverify(), java.util.Set.of()))
        .withWarmup(WarmupSettings.off())
        .withIdentity(new IdentitySettings(id.spiffeTrustDomain(), id.dnsSanSuffix(), id.gatewayToken(), noise.tenant))
        .withCommitmentKeyFile(Optional.ofNullable(noise.commitmentKeyFile));
  }

  /**
   * Holds the server's log output back to warnings while the demo runs (its start-up lines would
   * bury the demo's own), and restores the levels afterwards (tests run commands in one JVM).
   */
  private record Quiet(Map<java.util.logging.Logger, java.util.logging.Level> previous) {
    static Quiet serverLogs() {
      Map<java.util.logging.Logger, java.util.logging.Level> prev = new java.util.HashMap<>();
      for (String name : List.of("io.helidon", "dev.sampler.server")) {
        java.util.logging.Logger l = java.util.logging.Logger.getLogger(name);
        prev.put(l, l.getLevel());
        l.setLevel(java.util.logging.Level.WARNING);
      }
      return new Quiet(prev);
    }

    void restore() {
      previous.forEach(java.util.logging.Logger::setLevel);
    }
  }

  /**
   * The pinned signer key: the demo model's {@code models/demo/signer.pub.pem} of this checkout (or
   * {@code signer.pub.pem} in a --model directory).
   */
  private static Path signerKey(Path dir) throws java.io.IOException {
    Path key = dir.resolve("signer.pub.pem");
    if (!Files.isRegularFile(key)) {
      throw new java.io.FileNotFoundException(dir + " has no signer.pub.pem: the demo pins the public key the model's model.sig must"
          + " verify against (bin/sampler keygen and sign make both)");
    }
    return key;
  }

  /** The start-up steps as a small table, and process start to SERVING. */
  static String startupReport(StartupTimings t) {
    StringBuilder sb = new StringBuilder("start-up (docs/DESIGN.md steps), this process:\n");
    for (StartupStep s : StartupStep.values()) {
      sb.append(String.format(Locale.ROOT, "  %d %-12s %8.1f ms%n", s.number(), s.label(), t.nanos(s) / 1e6));
    }
    long steps = 0;
    for (StartupStep s : StartupStep.values()) {
      steps += t.nanos(s);
    }
    sb.append(String.format(Locale.ROOT, "  (listening sockets, Helidon start: %.1f ms)%n", (t.totalNanos() - steps) / 1e6));
    sb.append(String.format(Locale.ROOT, "  server start to SERVING %.0f ms", t.totalNanos() / 1e6));
    java.util.Optional<java.time.Instant> jvm = ProcessHandle.current().info().startInstant();
    if (jvm.isPresent()) {
      sb.append(String.format(Locale.ROOT, "; process start to SERVING %.0f ms",
          Duration.between(jvm.get(), java.time.Instant.now()).toNanos() / 1e6));
    }
    return sb.toString();
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
