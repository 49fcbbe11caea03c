package dev.sampler.server;

import dev.sampler.api.v1.SamplerProto;
import dev.sampler.api.v1.SamplerServiceGrpc;
import dev.sampler.engine.EngineException;
import dev.sampler.engine.sampling.SamplingResult;
import dev.sampler.engine.schedule.Schedulers;
import dev.sampler.rng.NoiseStream;
import dev.sampler.scheduler.Code;
import dev.sampler.scheduler.GenerationSpec;
import dev.sampler.scheduler.JobListener;
import dev.sampler.scheduler.RejectedException;
import dev.sampler.scheduler.Tenant;
import dev.sampler.scheduler.admission.AdmissionController;
import dev.sampler.scheduler.batch.StepBatcher;
import dev.sampler.server.auth.AuthInterceptor;
import dev.sampler.server.auth.CertificateIdentity;
import dev.sampler.server.auth.GatewayTokenVerifier;
import dev.sampler.server.auth.Pem;
import dev.sampler.server.auth.TenantResolver;
import dev.sampler.server.config.ConfigException;
import dev.sampler.server.config.GatewayTokenSettings;
import dev.sampler.server.config.ModelSettings;
import dev.sampler.server.config.ServerConfig;
import dev.sampler.server.config.TlsSettings;
import dev.sampler.server.engine.CommitmentKey;
import dev.sampler.server.engine.Engine;
import dev.sampler.server.engine.ModelHost;
import dev.sampler.server.grpc.AdminGrpcService;
import dev.sampler.server.startup.Reverifier;
import dev.sampler.server.startup.SandboxCheck;
import dev.sampler.server.startup.StartupException;
import dev.sampler.server.startup.StartupStep;
import dev.sampler.server.startup.StartupTimings;
import dev.sampler.server.startup.TrustedModelLoader;
import dev.sampler.server.grpc.ActiveCalls;
import dev.sampler.server.grpc.CallContext;
import dev.sampler.server.grpc.InboundGuard;
import dev.sampler.server.grpc.KServeGrpcService;
import dev.sampler.server.grpc.SamplerGrpcService;
import dev.sampler.server.observe.Metrics;
import dev.sampler.server.observe.ObserveRoutes;
import inference.GRPCInferenceServiceGrpc;
import inference.GrpcPredictV2;
import io.grpc.BindableService;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthProto;
import io.grpc.protobuf.services.HealthStatusManager;
import io.helidon.common.tls.Tls;
import io.helidon.common.tls.TlsClientAuth;
import io.helidon.common.tls.TlsConfig;
import io.helidon.webserver.ListenerConfig;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.grpc.GrpcConfig;
import io.helidon.webserver.grpc.GrpcReflectionFeature;
import io.helidon.webserver.grpc.GrpcRouting;
import io.helidon.webserver.http1.Http1Config;
import io.helidon.webserver.http2.Http2Config;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import javax.imageio.ImageIO;

/**
 * The composition root: builds and runs the whole server from a {@link ServerConfig}, with
 * builders and constructors only (no DI container, no static state).
 *
 * <p>Start-up ({@link #startAsync()}, then {@link #awaitReady}; {@link #start()} does both): apply
 * the runtime directory (java.io.tmpdir, JavaCPP's cache), read the TLS material, gateway key and
 * commitment key, create the admission controller, bind the gRPC socket and the observability
 * socket (health NOT_SERVING), then in the background load every model on its backend, start one
 * {@link StepBatcher} per model, warm up (short generations through the real admission and batcher
 * path, and noise-stream use until it is compiled), and only then report SERVING.
 *
 * <p>Shutdown ({@link #close()}, also run by the {@code serve} command's shutdown hook on SIGTERM):
 * health NOT_SERVING, admission refuses new work (UNAVAILABLE), in-flight work drains for up to the
 * drain timeout, then the batchers close (failing what is left with UNAVAILABLE), the remaining
 * responses are written and the sockets close.
 *
 * <p>In-process use (tests, the demo): {@code SamplerServer.builder().config(cfg).build().start()}
 * with {@code grpc.port} 0, then {@link #grpcPort()}.
 */
public final class SamplerServer implements AutoCloseable {
  private static final Logger LOG = System.getLogger("dev.sampler.server");
  private static final Tenant WARMUP_TENANT = new Tenant("sampler.warmup");
  private static final String HELIDON_GRPC_LOGGER = "io.helidon.webserver.grpc.GrpcProtocolHandler";

  private final ServerConfig config;
  private final LongSupplier nanoClock;
  private final Metrics metrics = new Metrics();
  private final HealthStatusManager health = new HealthStatusManager();
  private final ActiveCalls active = new ActiveCalls();
  private final AtomicReference<Engine.State> state = new AtomicReference<>(Engine.State.STARTING);
  private final CompletableFuture<Void> ready = new CompletableFuture<>();
  private final CompletableFuture<Void> stopped = new CompletableFuture<>();
  private final List<ModelHost> hosts = new ArrayList<>();
  private final List<StepBatcher> batchers = new ArrayList<>();
  private final StartupTimings timings;
  private final java.util.function.IntConsumer exit;
  private volatile Reverifier reverifier;
  private AdmissionController admission;
  private Engine engine;
  private WebServer web;
  private Thread loader;
  /** Held so the logger (and its filter) stays configured while the server runs (JUL holds loggers weakly). */
  private java.util.logging.Logger helidonGrpcLog;
  private boolean started;
  private boolean closed;

  private final CompletableFuture<?> readinessGate;

  private SamplerServer(Builder b) {
    this.timings = new StartupTimings(b.nanoClock.getAsLong());
    this.exit = b.exit;
    this.config = b.config;
    this.nanoClock = b.nanoClock;
    this.readinessGate = b.readinessGate;
  }

  /** A builder; {@link Builder#config} is required. */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds a {@link SamplerServer}. */
  public static final class Builder {
    private ServerConfig config;
    private LongSupplier nanoClock = System::nanoTime;
    private CompletableFuture<?> readinessGate = CompletableFuture.completedFuture(null);
    private java.util.function.IntConsumer exit = code -> {};

    private Builder() {}

    /**
     * Readiness also waits for {@code gate} (after loading and warm-up): an external start-up
     * check, or a test holding the server in its not-ready state. A gate that completes
     * exceptionally fails the start-up.
     */
    public Builder readinessGate(CompletableFuture<?> gate) {
      this.readinessGate = Objects.requireNonNull(gate, "gate");
      return this;
    }

    /** The configuration to run. */
    public Builder config(ServerConfig config) {
      this.config = Objects.requireNonNull(config, "config");
      return this;
    }

    /** The clock for deadlines and admission ({@link System#nanoTime()} unless replaced in tests). */
    public Builder nanoClock(LongSupplier nanoClock) {
      this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
      return this;
    }

    /**
     * What runtime re-verification calls when it finds drift and {@code integrity.exit-on-drift} is
     * set (the CLI passes {@code System::exit}; the default does nothing, so embedding code and
     * tests keep their JVM).
     */
    public Builder onFatalDrift(java.util.function.IntConsumer exit) {
      this.exit = Objects.requireNonNull(exit, "exit");
      return this;
    }

    /** A server ready to {@link SamplerServer#start()}. */
    public SamplerServer build() {
      if (config == null) {
        throw new IllegalStateException("SamplerServer.builder().config(...) is required");
      }
      return new SamplerServer(this);
    }
  }

  /** Starts and waits until the server is ready ({@link #startAsync()} then {@link #awaitReady}). */
  public SamplerServer start() throws SamplerServerException, InterruptedException {
    startAsync();
    try {
      return awaitReady(Duration.ofDays(1));
    } catch (TimeoutException e) {
      throw new SamplerServerException("start-up did not finish", e);
    }
  }

  /**
   * Binds both sockets (health NOT_SERVING) and loads and warms up the models in the background.
   *
   * @throws SamplerServerException if the configuration, the TLS or key material, or binding a
   *     socket fails
   */
  public synchronized SamplerServer startAsync() throws SamplerServerException {
    if (started) {
      throw new IllegalStateException("already started");
    }
    started = true;
    try {
      long t0 = nanoClock.getAsLong();
      try {
        config.validate();
      } catch (ConfigException e) {
        fail();
        throw new StartupException(StartupStep.CONFIG, e.getMessage(), e);
      }
      timings.add(StartupStep.CONFIG, nanoClock.getAsLong() - t0);
      t0 = nanoClock.getAsLong();
      checkSandbox();
      timings.add(StartupStep.SANDBOX, nanoClock.getAsLong() - t0);
      applyRuntimeDirectory();
      ImageIO.setUseCache(false); // encode PNGs in memory, never through temporary files
      CommitmentKey commitmentKey = CommitmentKey.load(config.commitmentKeyFile());
      Optional<Tls> tls = tls();
      TenantResolver resolver = tenantResolver();
      admission = new AdmissionController(config.admission(), metrics, nanoClock);
      engine = new Engine(admission, commitmentKey, state::get, nanoClock);
      registerGauges();
      for (String service : List.of("", SamplerServiceGrpc.SERVICE_NAME, GRPCInferenceServiceGrpc.SERVICE_NAME)) {
        health.setStatus(service, ServingStatus.NOT_SERVING);
      }
      quietHelidonTransportLog();
      web = webServer(tls, resolver).start();
      if (tls.isEmpty()) {
        LOG.log(Level.WARNING, "INSECURE: gRPC is served in PLAINTEXT on " + config.grpc().host() + ":" + grpcPort()
            + " (grpc.insecure-plaintext: true). Every caller without a gateway token is the tenant \""
            + config.identity().devTenant() + "\". Development only: configure tls.* for anything else.");
      }
      LOG.log(Level.INFO, "gRPC listening on " + config.grpc().host() + ":" + grpcPort()
          + (config.observe().enabled() ? ", observability on http://" + config.observe().host() + ":"
              + observePort() : "") + "; loading " + config.models().size() + " model(s)");
    } catch (IOException e) {
      fail();
      throw new SamplerServerException(e.getMessage(), e);
    } catch (RuntimeException e) {
      fail();
      throw new SamplerServerException("start-up failed: " + e.getMessage(), e);
    }
    loader = Thread.ofPlatform().name("sampler-startup").daemon().start(this::loadAndWarmUp);
    return this;
  }

  /**
   * Waits until the server is ready.
   *
   * @throws SamplerServerException if loading or warm-up failed (the server then stays NOT_SERVING)
   * @throws TimeoutException if it is not ready within {@code timeout}
   */
  public SamplerServer awaitReady(Duration timeout) throws SamplerServerException, InterruptedException,
      TimeoutException {
    try {
      ready.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return this;
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      throw c instanceof SamplerServerException s ? s : new SamplerServerException("start-up failed: " + c, c);
    }
  }

  /**
   * The engine the gRPC services call: for in-process callers (the gRPC overhead benchmark compares
   * a call through it with the same call over loopback gRPC). Null before {@link #startAsync}.
   */
  public Engine engine() {
    return engine;
  }

  /** The gRPC socket's port (the bound one when configured as 0). */
  public int grpcPort() {
    return web.port();
  }

  /** The observability socket's port, or -1 when it is disabled. */
  public int observePort() {
    return config.observe().enabled() ? web.port("observe") : -1;
  }

  /** {@code host:port} of the gRPC socket, as a client's target. */
  public String grpcTarget() {
    String host = config.grpc().host();
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + grpcPort();
  }

  /** The server's state. */
  public Engine.State state() {
    return state.get();
  }

  /** The metrics registry (what {@code /metrics} renders). */
  public Metrics metrics() {
    return metrics;
  }

  /** The configuration the server runs. */
  public ServerConfig config() {
    return config;
  }

  // --- start-up steps ---

  /** Step 2: the sandbox self-check; relaxed failures are logged, others stop start-up. */
  private void checkSandbox() throws StartupException {
    List<SandboxCheck.Finding> findings;
    try {
      findings = SandboxCheck.inspect();
    } catch (IOException e) {
      fail();
      throw new StartupException(StartupStep.SANDBOX, "cannot read /proc/self/status: " + e.getMessage(), e);
    }
    for (SandboxCheck.Finding f : findings) {
      if (!f.passed() && config.trust().relaxed(f.check())) {
        LOG.log(Level.WARNING, "INSECURE: sandbox check " + f.check() + " failed and is relaxed (sandbox.relax): "
            + f.detail() + ". Development only.");
      }
    }
    String problem = SandboxCheck.enforce(findings, config.trust()::relaxed);
    if (problem != null) {
      fail();
      throw new StartupException(StartupStep.SANDBOX, problem);
    }
  }

  /** The start-up step times so far (complete once ready). */
  public StartupTimings startupTimings() {
    return timings;
  }

  /** The runtime re-verifier, or null before the models are loaded. */
  public Reverifier reverifier() {
    return reverifier;
  }

  /** Drift found by re-verification: out of service for good (until restart), optionally exit. */
  private void drifted(Reverifier.Result r) {
    Engine.State before = state.getAndUpdate(s -> s == Engine.State.READY || s == Engine.State.STARTING
        ? Engine.State.DRIFTED : s);
    if (before == Engine.State.READY || before == Engine.State.STARTING) {
      for (String service : List.of("", SamplerServiceGrpc.SERVICE_NAME, GRPCInferenceServiceGrpc.SERVICE_NAME)) {
        health.setStatus(service, ServingStatus.NOT_SERVING);
      }
    }
    metrics.increment("sampler_integrity_drift_total");
    if (config.trust().reverify().exitOnDrift()) {
      LOG.log(Level.ERROR, "integrity.exit-on-drift: exiting with code 20");
      exit.accept(20);
    }
  }

  private void applyRuntimeDirectory() throws IOException {
    if (config.runtime().dir().isEmpty()) {
      return;
    }
    Path dir = config.runtime().dir().get().toAbsolutePath();
    Path tmp = Files.createDirectories(dir.resolve("tmp"));
    Path javacpp = Files.createDirectories(dir.resolve("javacpp"));
    if (!Files.isWritable(tmp) || !Files.isWritable(javacpp)) {
      throw new IOException("runtime.dir: " + dir + " is not writable");
    }
    // Read by the JDK, JavaCPP (ND4J's native loader) and JNA when they first need a file; set
    // before any model (and with it ND4J) loads, so nothing is written to $HOME or next to the jar.
    System.setProperty("java.io.tmpdir", tmp.toString());
    System.setProperty("org.bytedeco.javacpp.cachedir", javacpp.toString());
    System.setProperty("jna.tmpdir", tmp.toString());
    LOG.log(Level.INFO, "runtime directory " + dir + " (tmp, javacpp cache)");
  }

  private Optional<Tls> tls() throws IOException {
    if (config.tls().isEmpty()) {
      return Optional.empty();
    }
    TlsSettings t = config.tls().get();
    TlsConfig.Builder b = Tls.builder()
        .privateKey(Pem.privateKey(t.privateKey()))
        .privateKeyCertChain(Pem.certificates(t.certChain()))
        .enabledProtocols(List.of("TLSv1.3", "TLSv1.2"))
        // Client certificates are checked against client-ca and their SANs, never against the
        // client's address (JSSE would otherwise apply HTTPS host checks to clients).
        .endpointIdentificationAlgorithm(Tls.ENDPOINT_IDENTIFICATION_NONE)
        .clientAuth(switch (t.clientAuth()) {
          case REQUIRED -> TlsClientAuth.REQUIRED;
          case OPTIONAL -> TlsClientAuth.OPTIONAL;
          case NONE -> TlsClientAuth.NONE;
        });
    if (t.clientCa().isPresent()) {
      List<X509Certificate> cas = Pem.certificates(t.clientCa().get());
      b.trust(cas);
    }
    return Optional.of(b.build());
  }

  private TenantResolver tenantResolver() throws IOException {
    var id = config.identity();
    GatewayTokenSettings gt = id.gatewayToken();
    Optional<GatewayTokenVerifier> tokens = Optional.empty();
    if (gt.enabled()) {
      tokens = Optional.of(new GatewayTokenVerifier(Pem.ecP256PublicKey(gt.publicKey().orElseThrow()), gt.audience(),
          gt.issuer(), gt.clockSkew(), Instant::now));
    }
    Optional<Tenant> dev = config.tls().isEmpty() ? Optional.of(new Tenant(id.devTenant())) : Optional.empty();
    return new TenantResolver(new CertificateIdentity(id.spiffeTrustDomain(), id.dnsSanSuffix()), tokens,
        gt.enabled() ? gt.gatewayPeer() : Optional.empty(), dev);
  }

  private WebServer webServer(Optional<Tls> tls, TenantResolver resolver) {
    int max = config.grpc().maxMessageSize();
    SamplerGrpcService sampler = new SamplerGrpcService(engine, active);
    KServeGrpcService kserve = new KServeGrpcService(engine, version());
    GrpcRouting.Builder grpc = GrpcRouting.builder()
        .config(io.helidon.config.Config.empty()) // no global configuration lookup
        // Outermost first: count every call, turn transport failures into statuses, record the
        // deadline, then establish the tenant.
        .intercept(400, metrics.requestCounter())
        .intercept(300, InboundGuard.transportFailures(max, metrics::oversized))
        .intercept(200, CallContext.deadlines(nanoClock))
        .intercept(100, new AuthInterceptor(resolver))
        .service(SamplerProto.getDescriptor(), bounded(sampler, max))
        .service(GrpcPredictV2.getDescriptor(), bounded(kserve, max))
        .service(HealthProto.getDescriptor(), bounded(health.getHealthService(), max))
        .service(SamplerProto.getDescriptor(), bounded(new AdminGrpcService(config.trust().adminTenants(),
            () -> reverifier), max));
    WebServerConfig.Builder b = WebServer.builder()
        .shutdownHook(false) // SamplerServer.close() drains first; Helidon's hook would cut calls off
        .featuresDiscoverServices(false)
        .host(config.grpc().host())
        .port(config.grpc().port())
        .maxTcpConnections(config.grpc().maxConnections())
        // Slow loris: connections without open streams and without traffic are closed. (Helidon
        // 4.5 only watches connections whose protocol it has identified: one that never sends a
        // byte is held until grpc.max-connections; see e2e AbuseE2eTest.)
        .idleConnectionTimeout(config.grpc().idleTimeout())
        .idleConnectionPeriod(config.grpc().idleCheckPeriod())
        // Nagle off: a Generate answer is several small HTTP/2 writes (headers, events, trailers);
        // with Nagle on, the last one waits for the client's delayed ACK (about 40 ms on Linux),
        // which the gRPC overhead benchmark showed as +33 ms at p50.
        .connectionOptions(o -> o.tcpNoDelay(true))
        .protocolsDiscoverServices(false)
        // HTTP/1.1 is listed too (it only answers 404 here) because Helidon 4.5 takes a listener with a
        // single protocol "by chance" and writes the HTTP/2 SETTINGS frame before reading anything; over
        // TLS (NIO sockets, the default) that first write starts the handshake and its data is lost, so
        // clients fail with "First received frame was not SETTINGS". With two candidates Helidon reads
        // the client's preface first, which completes the handshake.
        .addProtocol(Http1Config.create())
        .addProtocol(Http2Config.builder()
            .maxConcurrentStreams(config.grpc().maxConcurrentStreams())
            // HTTP/2 rapid reset (CVE-2023-44487): GOAWAY ENHANCE_YOUR_CALM past this many resets
            .maxRapidResets(config.grpc().maxRapidResets())
            .rapidResetCheckPeriod(config.grpc().rapidResetPeriod())
            .build())
        // Helidon's own limit stops it from allocating buffers for oversized messages; the
        // InboundGuard turns violations into RESOURCE_EXHAUSTED for the client.
        .addProtocol(GrpcConfig.builder().name("grpc").maxReadBufferSize(max).enableMetrics(false).build())
        .addRouting(grpc);
    tls.ifPresent(b::tls);
    if (config.grpc().reflection()) {
      b.addFeature(GrpcReflectionFeature.builder().enabled(true).sockets(Set.of(WebServer.DEFAULT_SOCKET_NAME))
          .build());
    }
    if (config.observe().enabled()) {
      b.putSocket("observe", ListenerConfig.builder()
          .name("observe")
          .host(config.observe().host())
          .port(config.observe().port())
          .protocolsDiscoverServices(false)
          .addProtocol(Http1Config.create()) // HTTP/1.1 only: no gRPC (no HTTP/2) on this socket
          .routing(ObserveRoutes.routing(metrics, () -> new ObserveRoutes.Health(
              state.get() == Engine.State.READY, state.get().name().toLowerCase(java.util.Locale.ROOT))))
          .build());
    }
    return b.build();
  }

  private static BindableService bounded(BindableService service, int max) {
    return () -> InboundGuard.bounded(service.bindService(), max, () -> {});
  }

  private void registerGauges() {
    metrics.gauge("sampler_ready", "1 when the server is ready (health SERVING), else 0",
        () -> state.get() == Engine.State.READY ? 1.0 : 0.0);
    metrics.gauge("sampler_integrity_ok", "0 once runtime re-verification found drift, else 1",
        () -> state.get() == Engine.State.DRIFTED ? 0.0 : 1.0);
    metrics.sampled("sampler_startup_step_seconds", "gauge", "Time spent in each start-up step (docs/DESIGN.md)",
        () -> {
          Map<String, Double> m = new HashMap<>();
          timings.snapshot().forEach((k, v) -> m.put(Metrics.labels("step", k.number() + "-" + k.label()), v / 1e9));
          return m;
        });
    metrics.gauge("sampler_queue_depth", "Jobs waiting in the admission queue", () -> (double) admission.queued());
    metrics.gauge("sampler_running_jobs", "Jobs running in the batchers", () -> (double) admission.running());
    metrics.gauge("sampler_active_streams", "gRPC Generate streams still writing", () -> (double) active.active());
    metrics.sampled("sampler_batcher_forwards_total", "counter", "UNet forwards run by each model's batcher",
        () -> perModel(s -> (double) s.forwards()));
    metrics.sampled("sampler_batcher_rows_total", "counter",
        "Model rows evaluated by each model's batcher (rows per forward = rows_total / forwards_total)",
        () -> perModel(s -> (double) s.rows()));
  }

  private Map<String, Double> perModel(java.util.function.Function<dev.sampler.scheduler.batch.BatcherStats, Double> f) {
    Map<String, Double> out = new HashMap<>();
    synchronized (batchers) {
      for (int i = 0; i < batchers.size(); i++) {
        out.put(Metrics.labels("model", hosts.get(i).name()), f.apply(batchers.get(i).stats()));
      }
    }
    return out;
  }

  /**
   * Helidon logs an error with a stack trace for every DATA frame of a message over its size
   * limit; the InboundGuard already answers those calls and counts them, so those records are
   * dropped (a client must not be able to flood the log). Other records pass.
   */
  private void quietHelidonTransportLog() {
    helidonGrpcLog = java.util.logging.Logger.getLogger(HELIDON_GRPC_LOGGER);
    synchronized (helidonGrpcLog) {
      // Installed once per logger and never removed: several servers in one JVM (tests) share it.
      if (!(helidonGrpcLog.getFilter() instanceof TransportNoiseFilter)) {
        helidonGrpcLog.setFilter(new TransportNoiseFilter(helidonGrpcLog.getFilter()));
      }
    }
  }

  /** Drops Helidon's per-frame "Failed to process grpc request" records; passes the rest on. */
  private record TransportNoiseFilter(java.util.logging.Filter next) implements java.util.logging.Filter {
    @Override
    public boolean isLoggable(java.util.logging.LogRecord r) {
      boolean noise = r.getMessage() != null && r.getMessage().startsWith("Failed to process grpc request");
      return !noise && (next == null || next.isLoggable(r));
    }
  }

  private void loadAndWarmUp() {
    try {
      Reverifier rv = new Reverifier(config.trust().reverify().period(), config.trust().reverify().jitter(),
          this::drifted);
      for (ModelSettings m : config.models()) {
        long t0 = System.nanoTime();
        TrustedModelLoader.Loaded loaded = TrustedModelLoader.load(m, config.trust(), timings, nanoClock);
        ModelHost host = loaded.host();
        loaded.checks().forEach(rv::add);
        synchronized (batchers) {
          hosts.add(host);
          engine.add(host);
          StepBatcher batcher = new StepBatcher(host.name(), host.pipeline(), admission.source(host.name()),
              config.batching());
          batchers.add(batcher);
          batcher.start();
        }
        LOG.log(Level.INFO, "model " + m.name() + " verified and loaded from " + m.dir() + " on " + m.backend()
            + " in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
      }
      reverifier = rv;
      long t7 = nanoClock.getAsLong();
      if (config.warmup().enabled()) {
        try {
          warmUp();
        } catch (SamplerServerException e) {
          throw new StartupException(StartupStep.READINESS, e.getMessage(), e);
        }
      }
      try {
        readinessGate.get();
      } catch (ExecutionException e) {
        throw new StartupException(StartupStep.READINESS, "the readiness gate failed: " + e.getCause().getMessage(),
            e.getCause());
      }
      if (!state.compareAndSet(Engine.State.STARTING, Engine.State.READY)) {
        throw new SamplerServerException("shut down during start-up");
      }
      for (String service : List.of("", SamplerServiceGrpc.SERVICE_NAME, GRPCInferenceServiceGrpc.SERVICE_NAME)) {
        health.setStatus(service, ServingStatus.SERVING);
      }
      timings.add(StartupStep.READINESS, nanoClock.getAsLong() - t7);
      timings.ready(nanoClock.getAsLong());
      LOG.log(Level.INFO, "SERVING; start-up steps: " + timings);
      rv.start();
      ready.complete(null);
    } catch (SamplerServerException e) {
      state.compareAndSet(Engine.State.STARTING, Engine.State.FAILED);
      LOG.log(Level.ERROR, e instanceof StartupException ? e.getMessage() : "start-up failed: " + e.getMessage());
      ready.completeExceptionally(e);
    } catch (InterruptedException e) {
      state.compareAndSet(Engine.State.STARTING, Engine.State.FAILED);
      ready.completeExceptionally(new SamplerServerException("start-up interrupted", e));
    } catch (RuntimeException | Error e) {
      state.compareAndSet(Engine.State.STARTING, Engine.State.FAILED);
      LOG.log(Level.ERROR, "start-up failed", e);
      ready.completeExceptionally(new SamplerServerException("start-up failed: " + e, e));
    }
  }

  /**
   * Short generations through admission and the batchers (loading classes and compiling the
   * sampling path), then noise-stream use for the configured time so its conversion code reaches
   * C2 before the first client request.
   */
  private void warmUp() throws SamplerServerException, InterruptedException {
    long t0 = System.nanoTime();
    List<String> schedulers = Schedulers.names();
    for (ModelHost host : hosts) {
      for (int i = 0; i < config.warmup().generations(); i++) {
        int label = host.limits().classLabels() == 0 ? -1 : i % host.limits().classLabels();
        double guidance = host.limits().nullClass() != null ? 3.0 : 0.0;
        CompletableFuture<SamplingResult> done = new CompletableFuture<>();
        try {
          GenerationSpec spec = GenerationSpec.create(host.limits(), host.name(), "warmup-" + i, new int[] {label},
              config.warmup().steps(), schedulers.get(i % schedulers.size()), guidance, 0, 0, 0, 0);
          engine.submit(WARMUP_TENANT, spec, null, Long.MAX_VALUE, new JobListener() {
            @Override
            public void onCompleted(SamplingResult result) {
              done.complete(result);
            }

            @Override
            public void onFailed(Code code, String message) {
              done.completeExceptionally(new SamplerServerException("warm-up generation failed: " + code + " "
                  + message));
            }
          });
          done.get(10, TimeUnit.MINUTES);
        } catch (RejectedException e) {
          throw new SamplerServerException("warm-up generation refused: " + e.code() + " " + e.getMessage(), e);
        } catch (ExecutionException e) {
          throw e.getCause() instanceof SamplerServerException s ? s
              : new SamplerServerException("warm-up failed: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
          throw new SamplerServerException("warm-up generation did not finish in 10 minutes", e);
        }
      }
    }
    long noiseNanos = config.warmup().noise().toNanos();
    if (noiseNanos > 0) {
      float[] buffer = new float[1 << 16];
      long end = System.nanoTime() + noiseNanos;
      try (NoiseStream s = NoiseStream.fromOsEntropy(new NoiseStream.Personalization(WARMUP_TENANT.id(), "noise"))) {
        while (System.nanoTime() < end) {
          s.fill(buffer);
        }
      } catch (dev.sampler.rng.RngException e) {
        throw new SamplerServerException("warm-up: the noise stream failed: " + e.getMessage(), e);
      }
    }
    LOG.log(Level.INFO, "warm-up done in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
  }

  private static String version() {
    String v = SamplerServer.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  // --- shutdown ---

  /**
   * Graceful shutdown: health NOT_SERVING and new work refused (UNAVAILABLE) at once, in-flight
   * work drains for up to the configured drain timeout, then what is left fails with UNAVAILABLE,
   * the final responses are written and the sockets close. Idempotent; safe from a shutdown hook.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    Engine.State before = state.getAndSet(Engine.State.DRAINING);
    health.enterTerminalState();
    LOG.log(Level.INFO, "shutting down (was " + before + "): refusing new work, draining for up to "
        + config.drainTimeout().toMillis() + " ms");
    if (loader != null && loader.isAlive()) {
      loader.interrupt();
      try {
        loader.join(TimeUnit.SECONDS.toMillis(30));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    Reverifier rv = reverifier;
    if (rv != null) {
      rv.close();
    }
    if (admission != null) {
      admission.shutdown();
      try {
        if (!admission.awaitIdle(config.drainTimeout())) {
          LOG.log(Level.WARNING, "drain timeout reached with " + admission.running() + " running and "
              + admission.queued() + " queued job(s); failing them with UNAVAILABLE");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    synchronized (batchers) {
      for (StepBatcher b : batchers) {
        b.close();
      }
    }
    if (admission != null) {
      admission.close();
    }
    try {
      active.awaitNone(Duration.ofSeconds(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (web != null) {
      web.stop();
    }
    synchronized (batchers) {
      for (ModelHost h : hosts) {
        h.close();
      }
    }
    state.set(Engine.State.STOPPED);
    ready.completeExceptionally(new SamplerServerException("the server was closed"));
    LOG.log(Level.INFO, "stopped");
    stopped.complete(null);
  }

  /** Blocks until {@link #close()} has finished (from another thread, e.g. a shutdown hook). */
  public void awaitStopped() throws InterruptedException {
    try {
      stopped.get();
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    }
  }

  private void fail() {
    state.set(Engine.State.FAILED);
    if (web != null) {
      web.stop();
    }
    if (admission != null) {
      admission.close();
    }
  }
}
