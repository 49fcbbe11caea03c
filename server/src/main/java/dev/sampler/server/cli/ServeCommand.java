package dev.sampler.server.cli;

import dev.sampler.server.SamplerServer;
import dev.sampler.server.config.ServerConfig;
import dev.sampler.server.config.TlsSettings;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sampler serve}: runs the gRPC server until SIGTERM or SIGINT, then shuts down gracefully. */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Run the gRPC server (sampler.v1, KServe v2, health, reflection) and its observability endpoints.",
      "",
      "Start-up runs in order, fail-closed: 1 config, 2 sandbox self-check, 3 integrity (each model's"
          + " model.sig against its pinned signer-public-key), 4 attestation (key release from the key broker,"
          + " for a sealed model), 5 unseal (in memory), 6 upload, 7 readiness (warm-up). Prints the bound"
          + " addresses, then SERVING once every step passed. SIGTERM or SIGINT: stop accepting work, drain"
          + " in-flight requests (drain-timeout), exit 0.",
      "",
      "Exit codes: 10 + N when start-up step N fails (11 config ... 17 readiness; the message names the step"
          + " and what failed); 20 when runtime re-verification finds drift and integrity.exit-on-drift is set.",
      "",
      "Without --config it serves the embedded demo: models/demo (signature checked against"
          + " models/demo/signer.pub.pem, every sandbox check relaxed), plaintext gRPC on 127.0.0.1:50051"
          + " (development only), observability on 127.0.0.1:9464. Environment variables SAMPLER_<KEY>"
          + " override config keys (e.g. SAMPLER_GRPC_PORT); see server/README.md."
    })
final class ServeCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--config", paramLabel = "FILE",
      description = "server configuration (YAML; schema: config/sampler-example.yaml)")
  Path config;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    // One line per log record (JUL's default takes two); read when JUL first formats, so set it
    // before the server logs anything.
    if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
      System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tFT%1$tT.%1$tL %4$s %3$s: %5$s%6$s%n");
    }
    ServerConfig cfg;
    try {
      cfg = config == null ? ServerConfig.embeddedDemo(System.getenv()) : ServerConfig.load(config, System.getenv());
    } catch (dev.sampler.server.config.ConfigException e) {
      throw new dev.sampler.server.startup.StartupException(dev.sampler.server.startup.StartupStep.CONFIG,
          e.getMessage(), e);
    }
    SamplerServer server = SamplerServer.builder().config(cfg).onFatalDrift(System::exit).build();
    // JUL resets its handlers in its own shutdown hook, so log lines written during shutdown may be
    // lost: the hook reports on stderr directly.
    AtomicBoolean failed = new AtomicBoolean();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      err.println("sampler: shutting down: refusing new work, draining in-flight requests (up to "
          + cfg.drainTimeout().toSeconds() + " s)");
      err.flush();
      server.close();
      err.println("sampler: stopped");
      err.flush();
      if (!failed.get()) {
        // A stop by SIGTERM/SIGINT that drained cleanly is a success: exit 0, not the JVM's 128 +
        // signal (143/130), which orchestrators and scripts read as a crash. After a start-up
        // failure the exit code the command chose stands.
        Runtime.getRuntime().halt(0);
      }
    }, "sampler-shutdown"));
    try {
      return serve(server, cfg, out);
    } catch (Exception | Error e) {
      failed.set(true);
      throw e;
    }
  }

  private static int serve(SamplerServer server, ServerConfig cfg, PrintWriter out) throws Exception {
    server.startAsync();
    String transport = cfg.tls().map(t -> t.clientAuth() == TlsSettings.ClientAuth.NONE ? "TLS"
        : "TLS, client certificate " + t.clientAuth().name().toLowerCase(Locale.ROOT))
        .orElse("PLAINTEXT, development only");
    out.println("gRPC " + server.grpcTarget() + " (" + transport + ")");
    if (server.observePort() > 0) {
      out.println("observe http://" + cfg.observe().host() + ":" + server.observePort()
          + " (/health/live, /health/ready, /metrics)");
    }
    out.flush();
    server.awaitReady(Duration.ofDays(365));
    out.println("SERVING");
    out.flush();
    server.awaitStopped();
    return 0;
  }
}
