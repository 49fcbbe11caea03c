package dev.sampler.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sampler.api.v1.ClassLabels;
import dev.sampler.api.v1.GenerateEvent;
import dev.sampler.api.v1.GenerateRequest;
import dev.sampler.api.v1.ListModelsRequest;
import dev.sampler.api.v1.SamplerServiceGrpc;
import dev.sampler.server.testing.Clients;
import dev.sampler.server.testing.Servers;
import inference.GRPCInferenceServiceGrpc;
import inference.GrpcPredictV2.ServerReadyRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Start-up, readiness, observability, reflection and graceful shutdown of a real server.
 */
class LifecycleIT {
  static final HttpClient HTTP = HttpClient.newHttpClient();

  static HttpResponse<String> get(SamplerServer s, String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.observePort() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static ServingStatus health(ManagedChannel ch, String service) {
    return HealthGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
        .check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus();
  }

  static GenerateRequest request(int steps) {
    return GenerateRequest.newBuilder().setModel("demo").setClassLabels(ClassLabels.newBuilder().addLabels(6))
        .setSteps(steps).setScheduler("euler").setGuidanceScale(2).build();
  }

  @Test
  void startAsync_untilReady_healthNotServingAndWorkRefusedThenServing() throws Exception {
    CompletableFuture<Void> gate = new CompletableFuture<>();
    SamplerServer server = SamplerServer.builder().config(Servers.config("")).readinessGate(gate).build()
        .startAsync();
    ManagedChannel ch = Clients.plaintext(server.grpcPort());
    try {
      assertEquals(ServingStatus.NOT_SERVING, health(ch, ""));
      assertEquals(ServingStatus.NOT_SERVING, health(ch, "sampler.v1.SamplerService"));
      assertEquals(200, get(server, "/health/live").statusCode());
      HttpResponse<String> notReady = get(server, "/health/ready");
      assertEquals(503, notReady.statusCode());
      assertEquals("{\"status\":\"DOWN\",\"state\":\"starting\"}", notReady.body());
      assertTrue(get(server, "/metrics").body().contains("\nsampler_ready 0\n"));
      Clients.Outcome early = Clients.generate(ch, request(1));
      assertEquals(Status.Code.UNAVAILABLE, early.code());
      assertEquals("the server is starting (loading and warming up its models); retry shortly",
          early.status().getDescription());
      assertTrue(!GRPCInferenceServiceGrpc.newBlockingStub(ch).serverReady(ServerReadyRequest.getDefaultInstance())
          .getReady());

      gate.complete(null);
      server.awaitReady(java.time.Duration.ofMinutes(2));
      for (String service : List.of("", "sampler.v1.SamplerService", "inference.GRPCInferenceService")) {
        assertEquals(ServingStatus.SERVING, health(ch, service), service);
      }
      HttpResponse<String> ready = get(server, "/health/ready");
      assertEquals(200, ready.statusCode());
      assertEquals("application/json", ready.headers().firstValue("content-type").orElse(""));
      assertEquals("{\"status\":\"UP\",\"state\":\"ready\"}", ready.body());
      assertEquals(Status.Code.OK, Clients.generate(ch, request(1)).code());

      HttpResponse<String> metrics = get(server, "/metrics");
      assertEquals(200, metrics.statusCode());
      assertTrue(metrics.headers().firstValue("content-type").orElse("").startsWith("text/plain; version=0.0.4"));
      for (String family : List.of("sampler_admission_events_total", "sampler_grpc_requests_total",
          "sampler_queue_depth", "sampler_running_jobs", "sampler_batcher_forwards_total",
          "sampler_batcher_rows_total", "sampler_ready")) {
        assertTrue(metrics.body().contains("# TYPE " + family + " "), family);
      }
      assertTrue(metrics.body().contains(
          "sampler_grpc_requests_total{method=\"sampler.v1.SamplerService/Generate\",code=\"OK\"} 1"),
          metrics.body());
      assertTrue(metrics.body().contains("sampler_batcher_forwards_total{model=\"demo\"} 1"), metrics.body());
      assertTrue(metrics.body().contains("sampler_batcher_rows_total{model=\"demo\"} 2"), metrics.body());
      assertEquals(404, get(server, "/").statusCode());
    } finally {
      ch.shutdownNow();
      server.close();
    }
  }

  @Test
  void reflectionAndObservePort_readyServer_listServicesAndKeepGrpcOffTheObservePort() throws Exception {
    try (SamplerServer server = Servers.start()) {
      ManagedChannel ch = Clients.plaintext(server.grpcPort());
      ManagedChannel observe = Clients.plaintext(server.observePort());
      try {
        CompletableFuture<List<ServiceResponse>> services = new CompletableFuture<>();
        StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(ch).serverReflectionInfo(
            new StreamObserver<>() {
              @Override
              public void onNext(ServerReflectionResponse r) {
                services.complete(r.getListServicesResponse().getServiceList());
              }

              @Override
              public void onError(Throwable t) {
                services.completeExceptionally(t);
              }

              @Override
              public void onCompleted() {}
            });
        requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
        requests.onCompleted();
        Set<String> names = new TreeSet<>();
        services.get(30, TimeUnit.SECONDS).forEach(s -> names.add(s.getName()));
        assertTrue(names.containsAll(Set.of("sampler.v1.SamplerService", "inference.GRPCInferenceService",
            "grpc.health.v1.Health")), names.toString());

        Status onObserve = Clients.statusOf(() -> SamplerServiceGrpc.newBlockingStub(observe)
            .withDeadlineAfter(10, TimeUnit.SECONDS).listModels(ListModelsRequest.getDefaultInstance()));
        assertNotEquals(Status.Code.OK, onObserve.getCode(), "the observability port must not serve gRPC");
      } finally {
        ch.shutdownNow();
        observe.shutdownNow();
      }
    }
  }

  @Test
  void close_withARequestInFlight_refusesNewWorkAndLetsItFinish() throws Exception {
    SamplerServer server = Servers.start();
    ManagedChannel ch = Clients.plaintext(server.grpcPort());
    try {
      CompletableFuture<Clients.Outcome> inFlight = CompletableFuture.supplyAsync(
          () -> Clients.generate(ch, request(12)));
      awaitProgress(server);
      Thread closer = Thread.ofPlatform().start(server::close);
      for (int i = 0; i < 600 && health(ch, "") != ServingStatus.NOT_SERVING; i++) {
        Thread.sleep(50);
      }
      assertEquals(ServingStatus.NOT_SERVING, health(ch, ""));
      Clients.Outcome refused = Clients.generate(ch, request(1));
      assertEquals(Status.Code.UNAVAILABLE, refused.code());
      assertEquals("the server is shutting down; retry elsewhere", refused.status().getDescription());
      Clients.Outcome drained = inFlight.get(2, TimeUnit.MINUTES);
      assertEquals(Status.Code.OK, drained.code(), drained.status().toString());
      assertEquals(GenerateEvent.EventCase.COMPLETED, drained.events().getLast().getEventCase());
      closer.join(TimeUnit.MINUTES.toMillis(2));
      assertEquals(dev.sampler.server.engine.Engine.State.STOPPED, server.state());
    } finally {
      ch.shutdownNow();
      server.close();
    }
  }

  @Test
  void close_drainTimeoutPassing_failsTheRequestWithUnavailable() throws Exception {
    SamplerServer server = Servers.start(Servers.config("drain-timeout: PT0.5S\n"));
    ManagedChannel ch = Clients.plaintext(server.grpcPort());
    try {
      CompletableFuture<Clients.Outcome> inFlight = CompletableFuture.supplyAsync(
          () -> Clients.generate(ch, request(200)));
      awaitProgress(server);
      server.close();
      Clients.Outcome cut = inFlight.get(2, TimeUnit.MINUTES);
      assertEquals(Status.Code.UNAVAILABLE, cut.code(), cut.status().toString());
      GenerateEvent last = cut.events().getLast();
      assertEquals(GenerateEvent.EventCase.FAILED, last.getEventCase());
      assertEquals(Status.Code.UNAVAILABLE.value(), last.getFailed().getCode());
      assertEquals(cut.status().getDescription(), last.getFailed().getMessage());
    } finally {
      ch.shutdownNow();
      server.close();
    }
  }

  /** Waits (at most 60 s) until the server has run a forward. */
  static void awaitProgress(SamplerServer server) throws InterruptedException {
    for (int i = 0; i < 1200; i++) {
      if (!server.metrics().scrape().contains("sampler_batcher_forwards_total{model=\"demo\"} 0")
          && server.metrics().scrape().contains("sampler_batcher_forwards_total{model=\"demo\"}")) {
        return;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("no forward within 60 s");
  }
}
