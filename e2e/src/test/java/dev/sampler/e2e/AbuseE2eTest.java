package dev.sampler.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sampler.api.v1.ClassCount;
import dev.sampler.api.v1.ClassLabels;
import dev.sampler.api.v1.GenerateEvent;
import dev.sampler.api.v1.GenerateRequest;
import dev.sampler.api.v1.ListModelsRequest;
import dev.sampler.api.v1.SamplerServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Abusive clients against the packaged server on loopback, with raw HTTP/2 frames where a gRPC
 * library would not misbehave on purpose ({@link H2Wire}): rapid reset, slow loris, a cancel storm,
 * oversized messages. Each test checks the abuser's outcome and that a well-behaved client is still
 * served. One server process serves the whole class; every loop and wait is bounded.
 */
class AbuseE2eTest {
  /** Short, so the slow-loris test can watch the server close idle connections. */
  private static final Duration IDLE_TIMEOUT = Duration.ofSeconds(2);

  /**
   * Every blocking task of these tests (socket readers, the trickler, bystander calls) gets its own
   * thread: on a 2-core machine the common ForkJoin pool has one worker, and a blocked reader there
   * would starve the rest.
   */
  private static final ExecutorService THREADS = Executors.newVirtualThreadPerTaskExecutor();

  private static Path dir;
  private static ServerProcess server;

  @BeforeAll
  static void start() throws Exception {
    dir = Files.createTempDirectory("sampler-abuse-");
    Path config = E2e.config(dir.resolve("server"), E2e.demoModel(),
        "  idle-timeout: PT2S\n", "", // rapid-reset limits: the defaults (200 per 10 s)
        """
        admission:
          defaults:
            rate-per-second: 1000
            burst: 1000
            max-concurrent: 64
            max-queued: 64
        """);
    server = ServerProcess.serve(config, dir, "server");
  }

  @AfterAll
  static void stop() throws IOException {
    if (server != null) {
      server.close();
    }
    if (dir != null) {
      try (var files = Files.walk(dir)) {
        for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  /**
   * A well-behaved client's channel. Each use opens its own: with the 2 s idle timeout here, a
   * connection that sat idle between tests may be closed by the server just as it is reused (a
   * race every idle timeout has; such a call fails UNAVAILABLE and a client retries it).
   */
  private static ManagedChannel good() {
    return server.channel();
  }

  /** A well-behaved client: health SERVING and a ListModels answer, within bounded deadlines. */
  private static void assertServesOthers() {
    ManagedChannel good = good();
    try {
      HealthCheckResponse h = HealthGrpc.newBlockingStub(good).withDeadlineAfter(10, TimeUnit.SECONDS)
          .check(HealthCheckRequest.getDefaultInstance());
      assertEquals(HealthCheckResponse.ServingStatus.SERVING, h.getStatus());
      assertEquals("demo", SamplerServiceGrpc.newBlockingStub(good).withDeadlineAfter(10, TimeUnit.SECONDS)
          .listModels(ListModelsRequest.getDefaultInstance()).getModels(0).getName());
    } finally {
      ServerProcess.shutdown(good);
    }
  }

  /** A small generation that must complete. */
  private static GenerateEvent generateSmall(String id) {
    ManagedChannel good = good();
    try {
      Iterator<GenerateEvent> it = SamplerServiceGrpc.newBlockingStub(good).withDeadlineAfter(2, TimeUnit.MINUTES)
          .generate(GenerateRequest.newBuilder().setModel("demo").setScheduler("euler").setSteps(3)
              .setClassLabels(ClassLabels.newBuilder().addLabels(4)).setRequestId(id).build());
      GenerateEvent last = null;
      for (int i = 0; i < 1000 && it.hasNext(); i++) {
        last = it.next();
      }
      assertTrue(last != null && last.hasCompleted(), "the well-behaved request did not complete: " + last);
      return last;
    } finally {
      ServerProcess.shutdown(good);
    }
  }

  private String authority() {
    return "127.0.0.1:" + server.grpcPort;
  }

  /**
   * CVE-2023-44487: one connection opens 10,000 streams and resets each at once. The server
   * answers with GOAWAY ENHANCE_YOUR_CALM and closes the connection long before the 10,000th
   * stream; a generation on another connection, started before the attack, completes, and the
   * server serves new calls afterwards.
   */
  @Test
  void rapidReset_tenThousandStreamsResetAtOnce_goAwayEnhanceYourCalmAndOthersServed() throws Exception {
    CompletableFuture<GenerateEvent> bystander = CompletableFuture.supplyAsync(() -> generateSmall("bystander-rr"), THREADS);
    AtomicReference<H2Wire.Frame> goAway = new AtomicReference<>();
    AtomicInteger responses = new AtomicInteger();
    int sent = 0;
    boolean closedByServer = false;
    try (H2Wire w = H2Wire.connect("127.0.0.1", server.grpcPort, 20_000)) {
      w.startConnection();
      CompletableFuture<String> reader = CompletableFuture.supplyAsync(() -> {
        try {
          for (int i = 0; i < 100_000; i++) {
            H2Wire.Frame f = w.read();
            if (f.type() == H2Wire.GOAWAY) {
              goAway.set(f);
            } else if (f.type() == H2Wire.HEADERS) {
              responses.incrementAndGet();
            }
          }
          return "too many frames";
        } catch (EOFException | SocketException e) {
          return "closed";
        } catch (IOException e) {
          return e.toString();
        }
      }, THREADS);
      Map<String, String> headers = H2Wire.grpcRequest(authority(), "/sampler.v1.SamplerService/ListModels");
      try {
        for (int i = 0; i < 10_000; i++) {
          int stream = 1 + 2 * i;
          synchronized (w.writeLock()) {
            w.headers(stream, headers, false);
            w.rstStream(stream, H2Wire.CANCEL);
            if (i % 100 == 99) {
              w.flush();
            }
          }
          sent++;
        }
        synchronized (w.writeLock()) {
          w.flush();
        }
      } catch (IOException e) {
        closedByServer = true; // the server closed the connection under us
      }
      assertEquals("closed", reader.get(30, TimeUnit.SECONDS), "the server did not close the abusive connection");
    }
    System.out.println("rapid reset: " + sent + " streams written, " + responses.get() + " answered, GOAWAY error "
        + (goAway.get() == null ? "none" : goAway.get().goAwayError()));
    H2Wire.Frame f = goAway.get();
    assertTrue(f != null, "no GOAWAY before the close (sent " + sent + " streams, server closed it: " + closedByServer + ")");
    assertEquals(H2Wire.ENHANCE_YOUR_CALM, f.goAwayError(), "GOAWAY error code; debug: " + f.goAwayDebug());
    assertTrue(responses.get() < 1000, responses.get() + " streams were answered: the server kept processing");
    assertTrue(bystander.get(2, TimeUnit.MINUTES).hasCompleted());
    assertServesOthers();
  }

  /**
   * Slow loris: a client that trickles the connection preface a byte at a time and stops short,
   * and one that sends the preface and then nothing, are both closed once idle for the configured
   * timeout (2 s here), while a generation on another connection completes. A connection that
   * never sends a byte is held (Helidon 4.5 watches only connections whose protocol it has
   * identified): that case is bounded by grpc.max-connections, and the test shows other clients
   * are served while 20 of them are open.
   */
  @Test
  void slowLoris_tricklingAndIdleConnections_closedAfterIdleTimeoutOthersServed() throws Exception {
    List<H2Wire> silent = new ArrayList<>();
    long t0 = System.nanoTime(); // before the connections exist: the figures are upper bounds of their idle time
    try (H2Wire trickle = H2Wire.connect("127.0.0.1", server.grpcPort, 30_000);
        H2Wire idle = H2Wire.connect("127.0.0.1", server.grpcPort, 30_000)) {
      for (int i = 0; i < 20; i++) {
        silent.add(H2Wire.connect("127.0.0.1", server.grpcPort, 1_000));
      }
      idle.startConnection();
      CompletableFuture<Double> trickleClosed = closedAt(trickle, t0);
      CompletableFuture<Double> idleClosed = closedAt(idle, t0);
      CompletableFuture<Void> trickler = CompletableFuture.runAsync(() -> {
        try {
          // 20 of the preface's 24 bytes, one every 300 ms: never a complete preface
          for (int i = 0; i < 20 && !trickleClosed.isDone(); i++) {
            trickle.rawOut().write(H2Wire.PREFACE[i]);
            trickle.rawOut().flush();
            Thread.sleep(300);
          }
        } catch (IOException | InterruptedException e) {
          // closed by the server: what the test expects
        }
      }, THREADS);
      assertTrue(generateSmall("bystander-loris").hasCompleted());
      assertServesOthers();
      double limit = 3 * (IDLE_TIMEOUT.toMillis() / 1000.0) + 10; // timeout + check period + slack for 2 busy cores
      double idleAt = idleClosed.get(30, TimeUnit.SECONDS);
      double trickleAt = trickleClosed.get(30, TimeUnit.SECONDS);
      System.out.println("slow loris: idle connection closed after " + idleAt + " s, trickling one after " + trickleAt + " s");
      assertTrue(idleAt < limit, "idle connection closed after " + idleAt + " s");
      assertTrue(trickleAt < limit, "trickling connection closed after " + trickleAt + " s");
      trickler.get(30, TimeUnit.SECONDS);
      assertServesOthers();
    } finally {
      for (H2Wire w : silent) {
        w.close();
      }
    }
  }

  /** Seconds from {@code t0} until the server closes {@code w} (EOF or reset), read in the background. */
  private static CompletableFuture<Double> closedAt(H2Wire w, long t0) {
    return CompletableFuture.supplyAsync(() -> {
      byte[] buf = new byte[4096];
      try {
        for (int i = 0; i < 10_000; i++) {
          if (w.rawIn().read(buf) < 0) {
            break;
          }
        }
      } catch (SocketTimeoutException e) {
        return Double.POSITIVE_INFINITY; // not closed within the socket's read timeout
      } catch (IOException e) {
        // reset by the server: closed
      }
      return (System.nanoTime() - t0) / 1e9;
    }, THREADS);
  }

  /**
   * A cancel storm: 48 Generate calls on one connection, each cancelled by the client as soon as
   * its Accepted event arrives. Every call ends CANCELLED: the connection survives (Helidon counts
   * each client reset of a gRPC stream towards the rapid-reset limit, so the server must stop
   * writing to cancelled streams and the limit must leave room for cancellations; see
   * GrpcSettings.DEFAULT_MAX_RAPID_RESETS). Afterwards the server's running and queued counts
   * return to 0 (nothing leaked), and new requests are served.
   */
  @Test
  void cancelStorm_cancelledRightAfterAccepted_countsReturnToZeroAndSlotsFree() throws Exception {
    int calls = 48;
    Map<Integer, Status.Code> outcomes = new ConcurrentHashMap<>();
    List<CompletableFuture<Void>> ends = new ArrayList<>();
    ManagedChannel storm = good(); // all 48 calls on one connection, as a gateway multiplexes them
    SamplerServiceGrpc.SamplerServiceStub stub = SamplerServiceGrpc.newStub(storm);
    for (int i = 0; i < calls; i++) {
      int n = i;
      CompletableFuture<Void> end = new CompletableFuture<>();
      ends.add(end);
      GenerateRequest r = GenerateRequest.newBuilder().setModel("demo").setScheduler("euler").setSteps(50)
          .setGuidanceScale(3).setClassCount(ClassCount.newBuilder().setLabel(n % 9).setCount(2))
          .setRequestId("storm-" + n).build();
      stub.withDeadlineAfter(2, TimeUnit.MINUTES).generate(r, new ClientResponseObserver<GenerateRequest, GenerateEvent>() {
        private ClientCallStreamObserver<GenerateRequest> call;

        @Override
        public void beforeStart(ClientCallStreamObserver<GenerateRequest> requestStream) {
          call = requestStream;
        }

        @Override
        public void onNext(GenerateEvent e) {
          if (e.hasAccepted()) {
            call.cancel("cancel storm", null);
          }
        }

        @Override
        public void onError(Throwable t) {
          outcomes.put(n, Status.fromThrowable(t).getCode());
          end.complete(null);
        }

        @Override
        public void onCompleted() {
          outcomes.put(n, Status.Code.OK);
          end.complete(null);
        }
      });
    }
    try {
      CompletableFuture.allOf(ends.toArray(CompletableFuture[]::new)).get(2, TimeUnit.MINUTES);
    } finally {
      ServerProcess.shutdown(storm);
    }
    assertEquals(calls, outcomes.size());
    assertTrue(outcomes.values().stream().allMatch(c -> c == Status.Code.CANCELLED), "outcomes: " + outcomes);

    Map<String, Double> gauges = Map.of();
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < until) {
      gauges = gauges("sampler_running_jobs", "sampler_queue_depth", "sampler_active_streams");
      if (gauges.values().stream().allMatch(v -> v == 0.0) && gauges.size() == 3) {
        break;
      }
      Thread.sleep(200);
    }
    assertEquals(Map.of("sampler_running_jobs", 0.0, "sampler_queue_depth", 0.0, "sampler_active_streams", 0.0), gauges,
        "counts after the storm");

    List<CompletableFuture<GenerateEvent>> after = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      int n = i;
      after.add(CompletableFuture.supplyAsync(() -> generateSmall("after-storm-" + n), THREADS));
    }
    for (CompletableFuture<GenerateEvent> f : after) {
      assertTrue(f.get(3, TimeUnit.MINUTES).hasCompleted());
    }
  }

  /**
   * Ctrl-C on the real CLI ({@code bin/sampler generate --target}, a separate process, SIGINT)
   * cancels its call: the CLI exits 130 and the server's running and queued counts return to 0.
   */
  @Test
  void ctrlC_cliGenerateInterrupted_exits130AndServerFreesTheSlot() throws Exception {
    Path out = Files.createDirectories(dir.resolve("ctrl-c"));
    try (Proc.Running cli = Proc.start(Proc.sampler("generate", "--target", authority(), "--plaintext", "--class", "all",
        "--count", "4", "--steps", "200", "--out", out.toString()), Map.of(), dir, "ctrl-c")) {
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!cli.err().contains("step ") && cli.process.isAlive() && System.nanoTime() < until) {
        Thread.sleep(100);
      }
      assertTrue(cli.err().contains("step "), "the call never started running:\n" + cli.err());
      Process kill = new ProcessBuilder("kill", "-INT", String.valueOf(cli.process.pid())).start();
      assertTrue(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0, "kill -INT failed");
      Proc.Result r = cli.await(Duration.ofSeconds(30));
      assertEquals(130, r.code(), r.toString());
    }
    Map<String, Double> gauges = Map.of();
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < until) {
      gauges = gauges("sampler_running_jobs", "sampler_queue_depth");
      if (gauges.size() == 2 && gauges.values().stream().allMatch(v -> v == 0.0)) {
        break;
      }
      Thread.sleep(200);
    }
    assertEquals(Map.of("sampler_running_jobs", 0.0, "sampler_queue_depth", 0.0), gauges, "counts after Ctrl-C");
  }

  /** Reads gauges (unlabelled samples) from the observability port's /metrics. */
  private static Map<String, Double> gauges(String... names) throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.observePort
        + "/metrics")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode());
    Map<String, Double> out = new java.util.TreeMap<>();
    for (String name : names) {
      Matcher m = Pattern.compile("(?m)^" + name + " (\\S+)$").matcher(r.body());
      if (m.find()) {
        out.put(name, Double.parseDouble(m.group(1)));
      }
    }
    return out;
  }

  /**
   * Oversized messages: a 5 MiB request (over the 4 MiB limit) ends with RESOURCE_EXHAUSTED naming
   * the limit; a raw request whose gRPC length prefix claims 4 GiB is never answered with data and
   * costs the server no memory beyond what flow control admits; the server keeps serving.
   */
  @Test
  void oversizedMessage_fiveMiBRequest_resourceExhaustedAndServerHealthy() throws Exception {
    ClassLabels.Builder labels = ClassLabels.newBuilder();
    for (int i = 0; i < 5 << 20; i++) {
      labels.addLabels(1); // one byte each, packed
    }
    GenerateRequest huge = GenerateRequest.newBuilder().setModel("demo").setScheduler("euler").setSteps(2)
        .setClassLabels(labels).build();
    StatusRuntimeException e = null;
    ManagedChannel good = good();
    try {
      Iterator<GenerateEvent> it = SamplerServiceGrpc.newBlockingStub(good).withDeadlineAfter(60, TimeUnit.SECONDS)
          .generate(huge);
      for (int i = 0; i < 1000 && it.hasNext(); i++) {
        it.next();
      }
    } catch (StatusRuntimeException ex) {
      e = ex;
    } finally {
      ServerProcess.shutdown(good);
    }
    assertTrue(e != null, "a 5 MiB request was accepted");
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), e.getStatus().toString());
    assertTrue(e.getStatus().getDescription() != null && e.getStatus().getDescription().contains(String.valueOf(4 << 20)),
        "the message does not name the limit: " + e.getStatus());

    try (H2Wire w = H2Wire.connect("127.0.0.1", server.grpcPort, 5_000)) {
      w.startConnection();
      w.headers(1, H2Wire.grpcRequest(authority(), "/sampler.v1.SamplerService/Generate"), false);
      byte[] claim = {0, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 1, 2, 3, 4};
      w.data(1, claim, false);
      for (int i = 0; i < 64; i++) { // 1 MiB of body after the claim, as fast as flow control lets it in
        w.data(1, new byte[16384], false);
      }
      w.flush();
      int dataFrames = 0;
      try {
        for (int i = 0; i < 1000; i++) {
          H2Wire.Frame f = w.read();
          if (f.type() == H2Wire.DATA && f.streamId() == 1) {
            dataFrames++;
          }
        }
      } catch (SocketTimeoutException | EOFException | SocketException end) {
        // quiet (the server waits for the rest, or ended the stream) or closed: both fine
      }
      assertEquals(0, dataFrames, "the server answered a 4 GiB claim with response messages");
    }
    assertServesOthers();
  }
}
