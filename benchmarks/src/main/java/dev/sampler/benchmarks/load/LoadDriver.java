package dev.sampler.benchmarks.load;

import dev.sampler.api.v1.ClassCount;
import dev.sampler.api.v1.Completed;
import dev.sampler.api.v1.GenerateEvent;
import dev.sampler.api.v1.GenerateRequest;
import dev.sampler.api.v1.Image;
import dev.sampler.api.v1.SamplerServiceGrpc;
import io.grpc.CallCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * A bounded, loopback-only load driver for the sampler's gRPC service. It starts the packaged
 * server as a child process ({@code bin/sampler serve}) with gateway tokens enabled, then runs
 * closed-loop clients (each sends its next Generate as soon as the previous one ends) for several
 * tenants, and checks the stream contract on every call: the first event is Accepted for the
 * request's own id, queue positions never increase, exactly one Completed or Failed ends the
 * stream and the final status agrees with it, Completed carries the requested images with
 * matching SHA-256, and every request sent gets exactly one terminal outcome. RESOURCE_EXHAUSTED
 * rejections are the admission controller's answer under overload and are retried after the
 * server's hint; any other status is a violation.
 *
 * <p>Scenarios: {@code load} (N clients spread over T tenants for a duration) and {@code fairness}
 * (a quiet tenant alone, then the same quiet tenant next to a greedy tenant with many clients; the
 * quiet tenant's p99 is compared between the two phases). Every loop stops by itself at its
 * duration; the server is stopped with SIGTERM at the end. Run with {@code --help} for options.
 */
public final class LoadDriver {
  private static final String TOKEN_AUDIENCE = "sampler";

  private final LoadStats stats = new LoadStats();
  private final Options o;
  private final Es256Tokens tokens;

  record Options(String scenario, int clients, int tenants, long durationMs, int steps, String scheduler,
      double guidance, int quietClients, int greedyClients, String samplerHome, boolean batching, int maxRows) {
    static Options parse(String[] args) {
      Map<String, String> m = new java.util.HashMap<>();
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        if (a.equals("--help") || a.equals("-h")) {
          System.out.println("""
              usage: LoadDriver [--scenario load|fairness] [--clients 64] [--tenants 4] [--duration 120s]
                                [--steps 10] [--scheduler dpmpp-2m] [--guidance 3]
                                [--quiet-clients 1] [--greedy-clients 63] [--batching on|off] [--max-rows 32]
                                [--sampler-home DIR]
              Starts bin/sampler serve on 127.0.0.1 (ephemeral ports) and drives it; loopback only,
              every loop ends at --duration (fairness: two phases of --duration each).""");
          System.exit(0);
        }
        if (!a.startsWith("--") || i + 1 >= args.length) {
          throw new IllegalArgumentException("expected --option value, got " + a);
        }
        m.put(a.substring(2), args[++i]);
      }
      String d = m.getOrDefault("duration", "120s");
      long ms = d.endsWith("ms") ? Long.parseLong(d.substring(0, d.length() - 2))
          : d.endsWith("s") ? Long.parseLong(d.substring(0, d.length() - 1)) * 1000 : Long.parseLong(d) * 1000;
      String home = m.getOrDefault("sampler-home", System.getenv().getOrDefault("SAMPLER_HOME", "."));
      return new Options(m.getOrDefault("scenario", "load"), Integer.parseInt(m.getOrDefault("clients", "64")),
          Integer.parseInt(m.getOrDefault("tenants", "4")), ms, Integer.parseInt(m.getOrDefault("steps", "10")),
          m.getOrDefault("scheduler", "dpmpp-2m"), Double.parseDouble(m.getOrDefault("guidance", "3")),
          Integer.parseInt(m.getOrDefault("quiet-clients", "1")),
          Integer.parseInt(m.getOrDefault("greedy-clients", "63")), home,
          !"off".equals(m.getOrDefault("batching", "on")), Integer.parseInt(m.getOrDefault("max-rows", "32")));
    }
  }

  LoadDriver(Options o) throws Exception {
    this.o = o;
    this.tokens = new Es256Tokens(TOKEN_AUDIENCE);
  }

  public static void main(String[] args) throws Exception {
    Options o = Options.parse(args);
    LoadDriver d = new LoadDriver(o);
    int rc = d.run();
    System.exit(rc);
  }

  int run() throws Exception {
    try (ServerProcess server = ServerProcess.start(o, tokens.publicKeyPem(), TOKEN_AUDIENCE)) {
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext()
          .maxInboundMessageSize(16 << 20).build();
      try {
        HeapSampler heap = new HeapSampler(server.pid());
        heap.start();
        long t0 = System.nanoTime();
        if (o.scenario().equals("fairness")) {
          runPhase(channel, "solo", List.of(new Group("quiet", o.quietClients())));
          runPhase(channel, "greedy", List.of(new Group("quiet", o.quietClients()),
              new Group("greedy", o.greedyClients())));
        } else {
          List<Group> groups = new ArrayList<>();
          for (int t = 0; t < o.tenants(); t++) {
            int n = o.clients() / o.tenants() + (t < o.clients() % o.tenants() ? 1 : 0);
            groups.add(new Group("tenant-" + t, n));
          }
          runPhase(channel, "load", groups);
        }
        long wall = System.nanoTime() - t0;
        heap.stop();
        report(heap, wall, server);
      } finally {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      }
      return stats.violations.isEmpty() && stats.lost() == 0 ? 0 : 1;
    }
  }

  record Group(String tenant, int clients) {}

  private void runPhase(ManagedChannel channel, String phase, List<Group> groups) throws Exception {
    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(o.durationMs());
    List<Thread> threads = new ArrayList<>();
    int total = groups.stream().mapToInt(Group::clients).sum();
    System.err.printf(Locale.ROOT, "phase %s: %d clients (%s) for %d s%n", phase, total,
        groups.stream().map(g -> g.tenant() + " x" + g.clients()).toList(), o.durationMs() / 1000);
    for (Group g : groups) {
      String token = tokens.mint(g.tenant(), o.durationMs() / 1000 * 3 + 600);
      for (int c = 0; c < g.clients(); c++) {
        int client = c;
        threads.add(Thread.ofVirtual().start(() -> clientLoop(channel, phase, g.tenant(), client, token, end)));
      }
    }
    for (Thread t : threads) {
      t.join(o.durationMs() + 300_000);
      if (t.isAlive()) {
        stats.violation("client thread did not stop within 5 min after the phase ended");
        t.interrupt();
      }
    }
  }

  private void clientLoop(ManagedChannel channel, String phase, String tenant, int client, String token, long end) {
    SamplerServiceGrpc.SamplerServiceBlockingStub stub = SamplerServiceGrpc.newBlockingStub(channel)
        .withCallCredentials(bearer(token));
    long seq = 0;
    while (System.nanoTime() < end) {
      String id = phase + "." + tenant + "." + client + "." + (seq++);
      GenerateRequest req = GenerateRequest.newBuilder().setModel("demo")
          .setClassCount(ClassCount.newBuilder().setLabel((int) (seq % 9)).setCount(1))
          .setSteps(o.steps()).setScheduler(o.scheduler()).setGuidanceScale(o.guidance()).setRequestId(id).build();
      long retryMs = call(stub, phase, tenant, id, req);
      if (retryMs > 0) {
        try {
          Thread.sleep(Math.min(retryMs, Math.max(1, TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime()))));
        } catch (InterruptedException e) {
          return;
        }
      }
    }
  }

  /** One Generate call; returns the retry hint in ms after a RESOURCE_EXHAUSTED rejection, else 0. */
  private long call(SamplerServiceGrpc.SamplerServiceBlockingStub stub, String phase, String tenant, String id,
      GenerateRequest req) {
    stats.sent(id);
    long t0 = System.nanoTime();
    boolean accepted = false;
    int lastPosition = Integer.MAX_VALUE;
    String terminal = null;
    Completed completed = null;
    Status.Code failedCode = null;
    try {
      Iterator<GenerateEvent> it = stub.withDeadlineAfter(10, TimeUnit.MINUTES).generate(req);
      while (it.hasNext()) {
        GenerateEvent ev = it.next();
        if (terminal != null) {
          stats.violation(id + ": event after " + terminal);
        }
        switch (ev.getEventCase()) {
          case ACCEPTED -> {
            if (!ev.getAccepted().getRequestId().equals(id)) {
              stats.violation(id + ": Accepted for another request id");
            }
            if (ev.getAccepted().getQueuePosition() > lastPosition) {
              stats.violation(id + ": queue position increased");
            }
            lastPosition = ev.getAccepted().getQueuePosition();
            accepted = true;
          }
          case PROGRESS -> {
            if (!accepted) {
              stats.violation(id + ": Progress before Accepted");
            }
          }
          case COMPLETED -> {
            terminal = "Completed";
            completed = ev.getCompleted();
          }
          case FAILED -> {
            terminal = "Failed";
            failedCode = Status.fromCodeValue(ev.getFailed().getCode()).getCode();
          }
          default -> stats.violation(id + ": unknown event " + ev.getEventCase());
        }
      }
      if (completed == null) {
        stats.violation(id + ": stream ended OK without Completed");
        stats.terminal(id, new LoadStats.Call(tenant, phase, "NO_TERMINAL", 0, 0));
        return 0;
      }
      checkCompleted(id, req, completed);
      stats.terminal(id, new LoadStats.Call(tenant, phase, "OK", System.nanoTime() - t0,
          completed.getImagesCount()));
      return 0;
    } catch (StatusRuntimeException e) {
      Status.Code code = e.getStatus().getCode();
      if (failedCode != null && failedCode != code) {
        stats.violation(id + ": Failed event code " + failedCode + " but call status " + code);
      }
      if (code != Status.Code.RESOURCE_EXHAUSTED) {
        stats.violation(id + ": unexpected status " + code + ": " + e.getStatus().getDescription());
      }
      stats.terminal(id, new LoadStats.Call(tenant, phase, code.name(), System.nanoTime() - t0, 0));
      Metadata trailers = Status.trailersFromThrowable(e);
      String hint = trailers == null ? null
          : trailers.get(Metadata.Key.of("retry-after-ms", Metadata.ASCII_STRING_MARSHALLER));
      return hint == null ? 100 : Math.max(1, Long.parseLong(hint));
    }
  }

  private void checkCompleted(String id, GenerateRequest req, Completed c) {
    if (!c.getMetadata().getRequestId().equals(id)) {
      stats.violation(id + ": Completed carries request id of another request");
    }
    int want = req.getClassCount().getCount();
    if (c.getImagesCount() != want) {
      stats.violation(id + ": " + c.getImagesCount() + " images, asked for " + want);
    }
    for (Image im : c.getImagesList()) {
      byte[] png = im.getPng().toByteArray();
      if (png.length < 8 || png[1] != 'P' || png[2] != 'N' || png[3] != 'G') {
        stats.violation(id + ": image " + im.getIndex() + " is not a PNG");
      }
      try {
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(png));
        if (!sha.equals(im.getPngSha256())) {
          stats.violation(id + ": png_sha256 does not match the PNG");
        }
      } catch (java.security.NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  private static CallCredentials bearer(String token) {
    Metadata.Key<String> auth = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    return new CallCredentials() {
      @Override
      public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
        Metadata m = new Metadata();
        m.put(auth, "Bearer " + token);
        applier.apply(m);
      }
    };
  }

  private void report(HeapSampler heap, long wallNanos, ServerProcess server) {
    System.out.println();
    System.out.printf(Locale.ROOT, "scenario %s, %d steps %s guidance %.1f, batching %s (max %d rows), wall %.1f s%n",
        o.scenario(), o.steps(), o.scheduler(), o.guidance(), o.batching() ? "on" : "off", o.maxRows(),
        wallNanos / 1e9);
    List<String> phases = o.scenario().equals("fairness") ? List.of("solo", "greedy") : List.of("load");
    for (String phase : phases) {
      List<Long> all = stats.latencies(null, phase);
      System.out.printf(Locale.ROOT, "phase %-6s statuses %s; images %d (%.2f images/s over %d s); p50 %.0f ms, p99 %.0f ms%n",
          phase, stats.statusCounts(phase), stats.images(phase), stats.images(phase) / (o.durationMs() / 1000.0),
          o.durationMs() / 1000, LoadStats.percentileMs(all, 50), LoadStats.percentileMs(all, 99));
      java.util.TreeSet<String> tenants = new java.util.TreeSet<>();
      stats.calls.forEach(c -> {
        if (c.phase().equals(phase)) {
          tenants.add(c.tenant());
        }
      });
      for (String t : tenants) {
        List<Long> l = stats.latencies(t, phase);
        System.out.printf(Locale.ROOT, "  tenant %-8s completed %5d  p50 %7.0f ms  p99 %7.0f ms%n", t, l.size(),
            LoadStats.percentileMs(l, 50), LoadStats.percentileMs(l, 99));
      }
    }
    if (o.scenario().equals("fairness")) {
      double solo = LoadStats.percentileMs(stats.latencies("quiet", "solo"), 99);
      double greedy = LoadStats.percentileMs(stats.latencies("quiet", "greedy"), 99);
      System.out.printf(Locale.ROOT, "quiet tenant p99: solo %.0f ms, next to the greedy tenant %.0f ms: %.2fx (target <= 2x)%n",
          solo, greedy, greedy / solo);
    }
    System.out.printf(Locale.ROOT, "sent %d, terminal outcomes %d, lost %d, contract violations %d%n",
        stats.sent.get(), stats.calls.size(), stats.lost(), stats.violations.size());
    stats.violations.stream().limit(20).forEach(v -> System.out.println("  violation: " + v));
    System.out.println("server heap after full GC (MiB), sampled every " + HeapSampler.PERIOD_S + " s: "
        + heap.samplesMiB());
  }
}
