package dev.sampler.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sampler.api.v1.ClassCount;
import dev.sampler.api.v1.ClassLabels;
import dev.sampler.api.v1.GenerateEvent;
import dev.sampler.api.v1.GenerateRequest;
import dev.sampler.server.SamplerServer;
import dev.sampler.server.testing.Clients;
import dev.sampler.server.testing.Servers;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Generate through the real admission controller and batcher: tenant limits answer
 * RESOURCE_EXHAUSTED with a retry hint, a cancelled queued request leaves the queue at once, a
 * cancelled or expired running request stops and frees its slot. Tenant "dev" may have 2 requests
 * in flight; a forward holds at most 16 rows, so a second 16-row request waits in the queue.
 */
class AdmissionPathIT {
  static SamplerServer server;
  static ManagedChannel channel;

  @BeforeAll
  static void start() throws Exception {
    server = Servers.start(Servers.config("""
        admission:
          defaults:
            max-concurrent: 2
            max-queued: 2
        batching:
          max-rows: 16
        """));
    channel = Clients.plaintext(server.grpcPort());
  }

  @AfterAll
  static void stop() {
    channel.shutdownNow();
    server.close();
  }

  /** 8 guided images (16 rows) x 200 steps: runs far longer than any test waits for it. */
  static GenerateRequest longRequest() {
    return GenerateRequest.newBuilder().setModel("demo").setClassCount(ClassCount.newBuilder().setLabel(3)
        .setCount(8)).setSteps(200).setScheduler("ddim").setGuidanceScale(2).build();
  }

  static GenerateRequest shortRequest() {
    return GenerateRequest.newBuilder().setModel("demo").setClassLabels(ClassLabels.newBuilder().addLabels(1))
        .setSteps(1).setScheduler("euler").build();
  }

  /** Events of a call started in the background. */
  static final class Sink implements StreamObserver<GenerateEvent> {
    final List<GenerateEvent> events = new CopyOnWriteArrayList<>();
    volatile Throwable error;
    volatile boolean done;

    @Override
    public void onNext(GenerateEvent e) {
      events.add(e);
    }

    @Override
    public void onError(Throwable t) {
      error = t;
      done = true;
    }

    @Override
    public void onCompleted() {
      done = true;
    }

    void awaitEvent(Predicate<GenerateEvent> p, String what) throws InterruptedException {
      for (int i = 0; i < 1200; i++) {
        if (events.stream().anyMatch(p)) {
          return;
        }
        if (done) {
          throw new AssertionError("call ended before " + what + ": " + error);
        }
        Thread.sleep(50);
      }
      throw new AssertionError("no " + what + " within 60 s");
    }
  }

  /** Waits (at most 60 s) until the scraped gauge {@code name} has {@code value}. */
  static void awaitGauge(String name, int value) throws InterruptedException {
    for (int i = 0; i < 1200; i++) {
      if (server.metrics().scrape().contains("\n" + name + " " + value + "\n")) {
        return;
      }
      Thread.sleep(50);
    }
    throw new AssertionError(name + " did not reach " + value + ":\n" + server.metrics().scrape());
  }

  /** Waits (at most 60 s) until the scraped sample {@code sample} reaches {@code value}; fails if it passes it. */
  static void awaitCounter(String sample, long value) throws InterruptedException {
    for (int i = 0; i < 1200 && counter(sample) < value; i++) {
      Thread.sleep(50);
    }
    assertEquals(value, counter(sample), sample);
  }

  /** The value of one scraped sample (0 if absent). */
  static long counter(String sample) {
    for (String line : server.metrics().scrape().split("\n")) {
      if (line.startsWith(sample + " ")) {
        return Long.parseLong(line.substring(sample.length() + 1));
      }
    }
    return 0;
  }

  @Test
  void generate_tenantLimitsAndCancellation_rejectWithRetryHintAndFreeSlotsAtOnce() throws Exception {
    Sink running = new Sink();
    ClientCall<GenerateRequest, GenerateEvent> a = Clients.startGenerate(channel, longRequest(), running);
    running.awaitEvent(GenerateEvent::hasProgress, "the first step of the running request");

    Sink waiting = new Sink();
    ClientCall<GenerateRequest, GenerateEvent> b = Clients.startGenerate(channel, longRequest(), waiting);
    waiting.awaitEvent(e -> e.hasAccepted() && e.getAccepted().getQueuePosition() == 1, "queue position 1");
    assertEquals(1, waiting.events.size(), "a queued request gets Accepted only");

    Clients.Outcome refused = Clients.generate(channel, shortRequest());
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, refused.code(), refused.status().toString());
    assertTrue(refused.status().getDescription().startsWith("tenant concurrency limit: at most 2 requests in flight"),
        refused.status().getDescription());
    assertTrue(refused.status().getDescription().matches(".*; retry after \\d+ ms"), refused.status().getDescription());
    long retryMs = Long.parseLong(refused.trailers().get(Statuses.RETRY_AFTER_MS));
    assertTrue(retryMs > 0, "retry-after-ms " + retryMs);

    long cancelled = counter("sampler_admission_events_total{event=\"dropped\",code=\"CANCELLED\"}");
    b.cancel("client went away", null);
    awaitGauge("sampler_queue_depth", 0);
    // The job leaves the queue before its "dropped" event is recorded (another thread), so a scrape
    // can see depth 0 a moment before the counter moves: wait for the counter too (bounded).
    awaitCounter("sampler_admission_events_total{event=\"dropped\",code=\"CANCELLED\"}", cancelled + 1);

    a.cancel("client went away", null);
    awaitGauge("sampler_running_jobs", 0);
    assertEquals(Status.Code.OK, Clients.generate(channel, shortRequest()).code());
  }

  @Test
  void generate_deadlinePassesWhileRunning_stopsTheJobAndFreesItsSlot() throws Exception {
    Clients.Outcome out = Clients.generate(channel, longRequest(), null, 3);
    assertEquals(Status.Code.DEADLINE_EXCEEDED, out.code(), out.status().toString());
    awaitGauge("sampler_running_jobs", 0);
    String scrape = server.metrics().scrape();
    assertTrue(scrape.contains("sampler_admission_events_total{event=\"dropped\",code=\"DEADLINE_EXCEEDED\"}"),
        scrape);
    assertEquals(Status.Code.OK, Clients.generate(channel, shortRequest(), null, 120).code());
  }
}
