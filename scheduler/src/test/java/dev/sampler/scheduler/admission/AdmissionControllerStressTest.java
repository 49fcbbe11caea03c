package dev.sampler.scheduler.admission;

import static dev.sampler.scheduler.admission.Fixtures.RESULT;
import static dev.sampler.scheduler.admission.Fixtures.job;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sampler.scheduler.AdmissionEvent;
import dev.sampler.scheduler.Code;
import dev.sampler.scheduler.Job;
import dev.sampler.scheduler.JobSource;
import dev.sampler.scheduler.RejectedException;
import dev.sampler.scheduler.Tenant;
import dev.sampler.scheduler.admission.Fixtures.Events;
import dev.sampler.scheduler.admission.Fixtures.Tracked;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Many submitting threads, cancels from the edge, short deadlines and two batcher-like pollers at
 * once: no job is lost, none is handed out twice, and the books balance.
 */
class AdmissionControllerStressTest {
  private static final int THREADS = 8;
  private static final int SUBMITS = 500;
  private static final int MAX_ROWS = 8;
  private static final int IN_FLIGHT = 4;
  private static final List<String> MODELS = List.of("m0", "m1");

  @Test
  void submitPollCancelConcurrently_everyJobRejectedOrEndedExactlyOnce() throws Exception {
    Events events = new Events();
    // rejections do not count towards the throttle here (submitters outrun the batchers by design,
    // and a throttle that lowered every tenant to 1/16 would leave too little admitted to test)
    ThrottlePolicy d = ThrottlePolicy.defaults();
    ThrottlePolicy throttle = new ThrottlePolicy(d.window(), 10, 0, 0, d.factor(), d.minFactor(),
        d.quietPeriod(), d.recoveryStep());
    AdmissionPolicy policy = new AdmissionPolicy(48, new TenantPolicy(1, 4000, 30, 12, 8),
        Map.of("t0", new TenantPolicy(3, 4000, 30, 12, 8)), throttle);
    AdmissionController c = new AdmissionController(policy, events, System::nanoTime);

    List<Tracked> admitted = Collections.synchronizedList(new ArrayList<>());
    List<Tracked> refused = Collections.synchronizedList(new ArrayList<>());
    Set<Job> handedOut = ConcurrentHashMap.newKeySet();
    List<String> problems = Collections.synchronizedList(new ArrayList<>());
    AtomicBoolean submitting = new AtomicBoolean(true);

    List<Thread> pollers = new ArrayList<>();
    for (String model : MODELS) {
      JobSource source = c.source(model);
      pollers.add(Thread.ofPlatform().name("poller-" + model).start(
          () -> runBatcher(source, c, submitting, handedOut, problems, model.hashCode())));
    }
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> submitters = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      int seed = t;
      submitters.add(Thread.ofPlatform().name("edge-" + t).start(() -> {
        SplittableRandom random = new SplittableRandom(seed);
        ArrayDeque<Tracked> mine = new ArrayDeque<>();
        awaitQuietly(go);
        for (int i = 0; i < SUBMITS; i++) {
          // a closed-loop client: at most IN_FLIGHT of its own requests open, so the batchers keep up
          // enough for a fair share to be admitted, while tenants shared across threads still hit limits
          while (mine.size() >= IN_FLIGHT) {
            if (!awaitQuietly(mine.pollFirst().rec().done)) {
              problems.add("a job did not end within 30 s");
            }
          }
          String tenant = "t" + random.nextInt(5);
          long deadline = random.nextInt(10) == 0 ? System.nanoTime() + random.nextInt(2_000_000) : Long.MAX_VALUE;
          Tracked tracked = job(MODELS.get(random.nextInt(2)), tenant, "e" + seed + "-" + i, 1 + random.nextInt(3),
              1 + random.nextInt(4), random.nextBoolean() ? 1 : 2, deadline);
          try {
            c.submit(tracked.job());
            admitted.add(tracked);
            mine.addLast(tracked);
          } catch (RejectedException e) {
            refused.add(tracked);
            continue;
          }
          switch (random.nextInt(40)) {
            case 0, 1, 2 -> c.cancel(tracked.job());
            case 3 -> tracked.job().cancel();
            case 4 -> tracked.job().fail(Code.CANCELLED, "client went away");
            case 5 -> c.recordInvalid(new Tenant(tenant), "steps must be 1..200, got 0");
            default -> { }
          }
        }
      }));
    }
    go.countDown();
    for (Thread t : submitters) {
      t.join(60_000);
    }
    submitting.set(false);
    for (Thread t : pollers) {
      t.join(60_000);
    }
    assertTrue(c.awaitIdle(Duration.ofSeconds(30)), "controller did not drain");
    assertEquals(List.of(), problems);

    assertEquals(THREADS * SUBMITS, admitted.size() + refused.size());
    // sanity: enough traffic took each path for the balances below to mean something
    assertTrue(admitted.size() > THREADS * SUBMITS / 5, "too few admitted to mean anything: " + admitted.size());
    assertTrue(!refused.isEmpty(), "no rejection exercised");
    List<String> wrong = new ArrayList<>();
    for (Tracked t : refused) {
      if (t.job().ended() || t.rec().ends.get() != 0 || t.rec().starts.get() != 0) {
        wrong.add(t.job().requestId() + " rejected but touched");
      }
    }
    Map<Job, Boolean> admittedJobs = new IdentityHashMap<>();
    for (Tracked t : admitted) {
      admittedJobs.put(t.job(), true);
      if (t.rec().ends.get() != 1) {
        wrong.add(t.job().requestId() + " ended " + t.rec().ends.get() + " times");
      }
      if (t.rec().starts.get() > 1) {
        wrong.add(t.job().requestId() + " started " + t.rec().starts.get() + " times");
      }
      List<Integer> positions = t.rec().positions();
      for (int i = 1; i < positions.size(); i++) {
        if (positions.get(i) >= positions.get(i - 1)) {
          wrong.add(t.job().requestId() + " positions not decreasing: " + positions);
          break;
        }
      }
    }
    for (Job j : handedOut) {
      if (!admittedJobs.containsKey(j)) {
        wrong.add(j.requestId() + " handed out but never admitted");
      }
    }
    assertEquals(List.of(), wrong);

    AdmissionStats s = c.stats();
    assertTrue(s.completed() > 0 && s.failed().containsKey(Code.INTERNAL) && s.dropped().containsKey(Code.CANCELLED),
        s.toString());
    assertEquals(0, s.queued());
    assertEquals(0, s.running());
    assertEquals(admitted.size(), s.admitted());
    assertEquals(admitted.size(), s.endedTotal());
    assertEquals(handedOut.size(), s.started());
    assertEquals(admitted.size(), events.of(AdmissionEvent.Admitted.class).size());
    assertEquals(handedOut.size(), events.of(AdmissionEvent.Started.class).size());
    assertEquals(admitted.size(), events.of(AdmissionEvent.Completed.class).size()
        + events.of(AdmissionEvent.Failed.class).size() + events.of(AdmissionEvent.Dropped.class).size());
    long submitRejections = events.of(AdmissionEvent.Rejected.class).stream()
        .filter(r -> r.requestId() != null).count();
    assertEquals(refused.size(), submitRejections);
    assertEquals(s.rejectedTotal(), events.of(AdmissionEvent.Rejected.class).size());
  }

  /**
   * A batcher in miniature: takes jobs that fit in its free rows, runs each for its steps (one per
   * loop), stops cancelled or expired ones, and fails one in ten as an engine failure would.
   */
  private static void runBatcher(JobSource source, AdmissionController c, AtomicBoolean submitting,
      Set<Job> handedOut, List<String> problems, int seed) {
    SplittableRandom random = new SplittableRandom(seed);
    Map<Job, Integer> running = new IdentityHashMap<>();
    long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    try {
      while (submitting.get() || c.queued() > 0 || !running.isEmpty()) {
        if (System.nanoTime() - giveUp > 0) {
          problems.add("batcher did not finish in 60 s");
          return;
        }
        int used = running.keySet().stream().mapToInt(Job::rows).sum();
        Job j = source.poll(MAX_ROWS - used, running.isEmpty(), 1, TimeUnit.MILLISECONDS);
        if (j != null) {
          if (!handedOut.add(j)) {
            problems.add(j.requestId() + " handed out twice");
          }
          if (j.expired(System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(50))) {
            problems.add(j.requestId() + " handed out long after its deadline");
          }
          running.put(j, j.spec().steps());
        }
        for (var it = running.entrySet().iterator(); it.hasNext(); ) {
          var e = it.next();
          Job job = e.getKey();
          if (job.cancelled()) {
            job.fail(Code.CANCELLED, "cancelled");
          } else if (e.getValue() <= 1) {
            if (random.nextInt(10) == 0) {
              job.fail(Code.INTERNAL, "engine failed");
            } else {
              job.complete(RESULT);
            }
          } else {
            e.setValue(e.getValue() - 1);
            continue;
          }
          it.remove();
        }
      }
    } catch (InterruptedException e) {
      problems.add("batcher interrupted");
    }
  }

  private static boolean awaitQuietly(CountDownLatch latch) {
    try {
      return latch.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
