package dev.sampler.scheduler.admission;

import static dev.sampler.scheduler.admission.Fixtures.MODEL;
import static dev.sampler.scheduler.admission.Fixtures.RESULT;
import static dev.sampler.scheduler.admission.Fixtures.job;
import static dev.sampler.scheduler.admission.Fixtures.tenant;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sampler.scheduler.AdmissionEvent;
import dev.sampler.scheduler.Code;
import dev.sampler.scheduler.Job;
import dev.sampler.scheduler.JobSource;
import dev.sampler.scheduler.RejectedException;
import dev.sampler.scheduler.Tenant;
import dev.sampler.scheduler.admission.Fixtures.Events;
import dev.sampler.scheduler.admission.Fixtures.FakeClock;
import dev.sampler.scheduler.admission.Fixtures.Tracked;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class AdmissionControllerTest {
  private final FakeClock clock = new FakeClock();
  private final Events events = new Events();

  private AdmissionController controller(AdmissionPolicy policy) {
    return new AdmissionController(policy, events, clock);
  }

  /** Generous limits, no throttle: tests narrow what they exercise. */
  private static AdmissionPolicy open() {
    return new AdmissionPolicy(1000, tenant(1000, 1000, 1000, 1000), Map.of(), ThrottlePolicy.off());
  }

  private static Job poll(JobSource source, int freeRows, boolean idle) throws InterruptedException {
    return source.poll(freeRows, idle, 0, TimeUnit.MILLISECONDS);
  }

  private static RejectedException rejected(AdmissionController c, Tracked t) {
    return assertThrows(RejectedException.class, () -> c.submit(t.job()));
  }

  // ---- token bucket ----

  @Test
  void submit_bucketEmpty_rejectsWithTimeUntilOneToken() throws Exception {
    AdmissionController c = controller(open().withDefaults(tenant(2, 5, 100, 100)));
    for (int i = 0; i < 5; i++) {
      c.submit(job("a", "r" + i).job());
    }
    RejectedException e = rejected(c, job("a", "r5"));
    assertEquals(Code.RESOURCE_EXHAUSTED, e.code());
    assertEquals("tenant rate limit: 2 requests/s with burst 5 exceeded; retry in 500 ms", e.getMessage());
    assertEquals(Duration.ofMillis(500), e.retryAfter().orElseThrow());

    clock.advanceMillis(160);
    e = rejected(c, job("a", "r6"));
    assertEquals("tenant rate limit: 2 requests/s with burst 5 exceeded; retry in 340 ms", e.getMessage());
    assertEquals(Duration.ofMillis(340), e.retryAfter().orElseThrow());

    clock.advanceMillis(340);
    c.submit(job("a", "r7").job());
    assertEquals(6, c.queued());
  }

  @Test
  void submit_bucketRefill_capsAtBurst() throws Exception {
    AdmissionController c = controller(open().withDefaults(tenant(2, 3, 100, 100)));
    clock.advanceMillis(60_000);
    for (int i = 0; i < 3; i++) {
      c.submit(job("a", "r" + i).job());
    }
    rejected(c, job("a", "r3"));
    assertEquals(0.0, c.stats().tenants().get(new Tenant("a")).tokens(), 1e-9);
  }

  @Test
  void submit_rejected_takesNoTokenAndLeavesJobUntouched() throws Exception {
    AdmissionController c = controller(open().withDefaults(tenant(1, 2, 1, 100)));
    c.submit(job("a", "r0").job());
    Tracked second = job("a", "r1");
    RejectedException e = rejected(c, second);
    assertTrue(e.getMessage().startsWith("tenant concurrency limit"), e.getMessage());
    assertFalse(second.job().ended());
    assertEquals(List.of(), second.rec().positions());
    // the refused request took no token: one is left for the next admitted one
    assertEquals(1.0, c.stats().tenants().get(new Tenant("a")).tokens(), 1e-9);
  }

  // ---- concurrency, queued, global queue ----

  @Test
  void submit_concurrencyLimit_rejectsUntilOneOfItsJobsEnds() throws Exception {
    AdmissionController c = controller(open().withDefaults(tenant(1000, 1000, 2, 100)));
    c.submit(job("a", "r0").job());
    c.submit(job("a", "r1").job());
    RejectedException e = rejected(c, job("a", "r2"));
    assertEquals(Code.RESOURCE_EXHAUSTED, e.code());
    assertEquals("tenant concurrency limit: at most 2 requests in flight (queued or running); retry in 1000 ms",
        e.getMessage());

    Job running = poll(c.source(MODEL), 10, true);
    assertNotNull(running);
    // running still counts towards the limit
    rejected(c, job("a", "r3"));
    running.complete(RESULT);
    c.submit(job("a", "r4").job());
    // another tenant is not affected by a's limit
    c.submit(job("b", "r5").job());
  }

  @Test
  void submit_concurrencyLimitAfterEndings_retryFromTenantEndRate() throws Exception {
    AdmissionController c = controller(open().withDefaults(tenant(1000, 1000, 1, 100)));
    JobSource source = c.source(MODEL);
    for (int i = 0; i < 3; i++) {
      c.submit(job("a", "r" + i).job());
      poll(source, 10, true).complete(RESULT);
    }
    c.submit(job("a", "r3").job());
    RejectedException e = rejected(c, job("a", "r4"));
    // three endings at one instant: decayed rate 3 / 10 s, so one ending every 3.334 s
    assertEquals("tenant concurrency limit: at most 1 request in flight (queued or running); retry in 3334 ms",
        e.getMessage());
  }

  @Test
  void submit_queuedLimit_rejectsWhileRunningJobsDoNotCount() throws Exception {
    AdmissionController c = controller(open().withDefaults(tenant(1000, 1000, 10, 1)));
    c.submit(job("a", "r0").job());
    RejectedException e = rejected(c, job("a", "r1"));
    assertEquals("tenant queue limit: at most 1 request queued; retry in 1000 ms", e.getMessage());
    assertNotNull(poll(c.source(MODEL), 10, true));
    c.submit(job("a", "r2").job());
  }

  @Test
  void submit_globalQueueFull_rejectsWithDrainEstimateAndNoOtherTenantNamed() throws Exception {
    AdmissionController c = controller(open().withQueueCapacity(4));
    for (int i = 0; i < 4; i++) {
      c.submit(job("greedy", "g" + i).job());
    }
    RejectedException e = rejected(c, job("quiet", "q0"));
    assertEquals(Code.RESOURCE_EXHAUSTED, e.code());
    assertEquals("server queue is full; retry in 1000 ms", e.getMessage());
    assertFalse(e.getMessage().contains("greedy"));

    JobSource source = c.source(MODEL);
    poll(source, 10, true);
    poll(source, 10, true);
    c.submit(job("greedy", "g4").job());
    c.submit(job("greedy", "g5").job());
    e = rejected(c, job("quiet", "q1"));
    // two departures at one instant: 0.2 jobs/s; half of 4 queued drains in 10 s
    assertEquals("server queue is full; retry in 10 s", e.getMessage());
    assertEquals(Duration.ofSeconds(10), e.retryAfter().orElseThrow());
    for (AdmissionEvent.Rejected r : events.of(AdmissionEvent.Rejected.class)) {
      assertFalse(r.reason().contains("greedy"), r.reason());
      assertEquals(new Tenant("quiet"), r.tenant());
    }
  }

  @Test
  void submit_queueFullOfExpiredJobs_purgesThemAndAdmits() throws Exception {
    AdmissionController c = controller(open().withQueueCapacity(2));
    Tracked a = job("a", "a0", 1, 10, 1, clock.plusMillis(100));
    Tracked b = job("b", "b0", 1, 10, 1, clock.plusMillis(100));
    c.submit(a.job());
    c.submit(b.job());
    clock.advanceMillis(250);
    c.submit(job("c", "c0").job());
    assertEquals(Code.DEADLINE_EXCEEDED, a.rec().code);
    assertEquals("deadline passed while queued (waited 250 ms)", a.rec().message);
    assertEquals(Code.DEADLINE_EXCEEDED, b.rec().code);
    assertEquals(1, c.queued());
  }

  // ---- shutdown, deadline at the door ----

  @Test
  void submit_afterShutdown_unavailableWhileQueuedJobsContinue() throws Exception {
    AdmissionController c = controller(open());
    Tracked queued = job("a", "r0");
    c.submit(queued.job());
    c.shutdown();
    RejectedException e = rejected(c, job("a", "r1"));
    assertEquals(Code.UNAVAILABLE, e.code());
    assertEquals("server is shutting down", e.getMessage());
    assertFalse(e.retryAfter().isPresent());
    Job started = poll(c.source(MODEL), 10, true);
    assertSame(queued.job(), started);
    assertFalse(c.awaitIdle(Duration.ZERO));
    started.complete(RESULT);
    assertTrue(c.awaitIdle(Duration.ZERO));
  }

  @Test
  void close_failsQueuedJobsUnavailableAndLeavesRunningOnes() throws Exception {
    AdmissionController c = controller(open());
    c.submit(job("a", "r0").job());
    Tracked waiting = job("a", "r1");
    c.submit(waiting.job());
    Job running = poll(c.source(MODEL), 10, true);
    c.close();
    assertEquals(Code.UNAVAILABLE, waiting.rec().code);
    assertEquals("server is shutting down", waiting.rec().message);
    assertFalse(running.ended());
    assertEquals(0, c.queued());
    assertEquals(1, c.running());
    assertNull(poll(c.source(MODEL), 10, true));
    assertEquals(Code.UNAVAILABLE, rejected(c, job("a", "r2")).code());
  }

  @Test
  void submit_deadlineAlreadyPassed_rejectsDeadlineExceeded() {
    AdmissionController c = controller(open());
    RejectedException e = rejected(c, job("a", "r0", 1, 10, 1, clock.plusMillis(-1)));
    assertEquals(Code.DEADLINE_EXCEEDED, e.code());
    assertEquals("deadline passed before the request was admitted", e.getMessage());
  }

  @Test
  void submit_sameJobTwice_illegalState() throws Exception {
    AdmissionController c = controller(open());
    Tracked t = job("a", "r0");
    c.submit(t.job());
    assertThrows(IllegalStateException.class, () -> c.submit(t.job()));
  }

  // ---- deadlines and cancellation in the queue ----

  @Test
  void poll_deadlinePassedWhileQueued_dropsNeverHandsOutAndFreesSlot() throws Exception {
    AdmissionController c = controller(open().withDefaults(tenant(1000, 1000, 1, 1)));
    Tracked t = job("a", "r0", 1, 10, 1, clock.plusMillis(1000));
    c.submit(t.job());
    clock.advanceMillis(2000);
    assertNull(poll(c.source(MODEL), 10, true));
    assertEquals(Code.DEADLINE_EXCEEDED, t.rec().code);
    assertEquals("deadline passed while queued (waited 2000 ms)", t.rec().message);
    assertEquals(0, t.rec().starts.get());
    AdmissionEvent.Dropped d = events.of(AdmissionEvent.Dropped.class).getFirst();
    assertEquals(Code.DEADLINE_EXCEEDED, d.code());
    assertFalse(d.started());
    assertEquals(0, c.queued());
    c.submit(job("a", "r1").job());
  }

  @Test
  void poll_cancelledWhileQueued_dropsWithCancelled() throws Exception {
    AdmissionController c = controller(open());
    Tracked t = job("a", "r0");
    c.submit(t.job());
    Tracked next = job("a", "r1");
    c.submit(next.job());
    t.job().cancel();
    assertSame(next.job(), poll(c.source(MODEL), 10, true));
    assertEquals(Code.CANCELLED, t.rec().code);
    assertEquals("request cancelled while queued", t.rec().message);
    assertEquals(1, t.rec().ends.get());
  }

  @Test
  void cancel_stormOfQueuedJobs_freesEverySlotAtOnce() throws Exception {
    AdmissionController c = controller(open().withQueueCapacity(10));
    List<Tracked> jobs = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      Tracked t = job("a", "r" + i);
      c.submit(t.job());
      jobs.add(t);
    }
    rejected(c, job("a", "full"));
    for (Tracked t : jobs) {
      assertTrue(c.cancel(t.job()));
      assertFalse(c.cancel(t.job()));
    }
    assertEquals(0, c.queued());
    assertTrue(c.awaitIdle(Duration.ZERO));
    for (Tracked t : jobs) {
      assertEquals(Code.CANCELLED, t.rec().code);
      assertEquals(1, t.rec().ends.get());
    }
    for (int i = 0; i < 10; i++) {
      c.submit(job("a", "again" + i).job());
    }
    assertEquals(10, events.of(AdmissionEvent.Dropped.class).size());
  }

  @Test
  void cancel_runningJob_marksItForTheBatcherOnly() throws Exception {
    AdmissionController c = controller(open());
    c.submit(job("a", "r0").job());
    Job running = poll(c.source(MODEL), 10, true);
    assertFalse(c.cancel(running));
    assertTrue(running.cancelled());
    assertFalse(running.ended());
    running.fail(Code.CANCELLED, "cancelled by the client");
    AdmissionEvent.Dropped d = events.of(AdmissionEvent.Dropped.class).getFirst();
    assertTrue(d.started());
    assertEquals(0, c.running());
  }

  @Test
  void jobFailedDirectlyWhileQueued_leavesQueueWithDroppedEvent() throws Exception {
    AdmissionController c = controller(open());
    Tracked t = job("a", "r0");
    c.submit(t.job());
    t.job().fail(Code.CANCELLED, "client went away");
    assertEquals(0, c.queued());
    AdmissionEvent.Dropped d = events.of(AdmissionEvent.Dropped.class).getFirst();
    assertEquals("client went away", d.reason());
    assertFalse(d.started());
    assertNull(poll(c.source(MODEL), 10, true));
  }

  // ---- fair order ----

  @Test
  void poll_greedyTenantBacklog_quietTenantWaitsAtMostOneJob() throws Exception {
    AdmissionController c = controller(open());
    JobSource source = c.source(MODEL);
    for (int i = 0; i < 50; i++) {
      c.submit(job("greedy", "g" + i, 2, 50, 1, Long.MAX_VALUE).job());
    }
    for (int i = 0; i < 3; i++) {
      assertEquals("greedy", poll(source, 100, false).tenant().id());
    }
    Tracked quiet = job("quiet", "q0", 1, 10, 1, Long.MAX_VALUE);
    c.submit(quiet.job());
    assertEquals(List.of(0), quiet.rec().positions());
    assertSame(quiet.job(), poll(source, 100, false));
  }

  @Test
  void poll_greedyAndQuietArriveTogether_quietSecond() throws Exception {
    AdmissionController c = controller(open());
    JobSource source = c.source(MODEL);
    for (int i = 0; i < 50; i++) {
      c.submit(job("greedy", "g" + i).job());
    }
    Tracked quiet = job("quiet", "q0");
    c.submit(quiet.job());
    // it ties with the greedy head (both start at virtual time 0) and loses the tie on arrival order
    assertEquals(List.of(1), quiet.rec().positions());
    assertEquals("greedy", poll(source, 10, false).tenant().id());
    assertSame(quiet.job(), poll(source, 10, false));
    assertEquals(List.of(1, 0), quiet.rec().positions());
  }

  @Test
  void poll_weights_shareServiceInProportion() throws Exception {
    AdmissionPolicy policy = open().withTenant("heavy", new TenantPolicy(2, 1000, 1000, 1000, 1000));
    AdmissionController c = controller(policy);
    for (int i = 0; i < 30; i++) {
      c.submit(job("heavy", "h" + i).job());
      c.submit(job("light", "l" + i).job());
    }
    int heavy = 0;
    for (int i = 0; i < 30; i++) {
      if (poll(c.source(MODEL), 10, false).tenant().id().equals("heavy")) {
        heavy++;
      }
    }
    assertTrue(heavy >= 19 && heavy <= 21, "heavy got " + heavy + " of 30");
  }

  @Test
  void poll_costIsRowsTimesSteps_bigJobsYieldToSmallOnes() throws Exception {
    AdmissionController c = controller(open());
    JobSource source = c.source(MODEL);
    for (int i = 0; i < 5; i++) {
      c.submit(job("big", "b" + i, 4, 100, 1, Long.MAX_VALUE).job()); // cost 400 each
    }
    for (int i = 0; i < 20; i++) {
      c.submit(job("small", "s" + i, 1, 20, 1, Long.MAX_VALUE).job()); // cost 20 each
    }
    List<String> order = new ArrayList<>();
    for (int i = 0; i < 22; i++) {
      order.add(poll(source, 100, false).tenant().id());
    }
    // one big job is worth 20 small ones: after the first big job the small tenant catches up
    assertEquals(2, order.stream().filter("big"::equals).count(), order.toString());
  }

  @Test
  void poll_withinTenant_fifo() throws Exception {
    AdmissionController c = controller(open());
    for (int i = 0; i < 5; i++) {
      c.submit(job("a", "r" + i, 1 + (i % 3), 10 + i, 1, Long.MAX_VALUE).job());
    }
    for (int i = 0; i < 5; i++) {
      assertEquals("r" + i, poll(c.source(MODEL), 100, false).requestId());
    }
  }

  @Test
  void poll_separateModels_separateQueues() throws Exception {
    AdmissionController c = controller(open());
    c.submit(job("a", "r0").job());
    assertNull(poll(c.source("other"), 10, true));
    assertNotNull(poll(c.source(MODEL), 10, true));
  }

  @Test
  void poll_headDoesNotFit_bypassedAtMostMaxTimesThenHeld() throws Exception {
    AdmissionController c = controller(open());
    JobSource source = c.source(MODEL);
    c.submit(job("big", "big", 8, 10, 1, Long.MAX_VALUE).job());
    for (int i = 0; i < 10; i++) {
      c.submit(job("small" + i, "s" + i).job());
    }
    for (int i = 0; i < AdmissionController.MAX_HEAD_BYPASS; i++) {
      assertEquals("s" + i, poll(source, 4, false).requestId());
    }
    assertNull(poll(source, 4, false));
    assertEquals("big", poll(source, 8, false).requestId());
    assertEquals("s" + AdmissionController.MAX_HEAD_BYPASS, poll(source, 4, false).requestId());
  }

  @Test
  void poll_idleBatcher_takesHeadLargerThanFreeRows() throws Exception {
    AdmissionController c = controller(open());
    c.submit(job("big", "big", 8, 10, 2, Long.MAX_VALUE).job()); // guided: 16 rows
    c.submit(job("small", "s0").job());
    assertEquals(16, poll(c.source(MODEL), 4, true).rows());
  }

  @Test
  void poll_emptyQueue_returnsNullAfterTimeout() throws Exception {
    AdmissionController c = controller(open());
    assertNull(c.source(MODEL).poll(10, true, 5, TimeUnit.MILLISECONDS));
  }

  @Test
  void poll_waiting_wakesWhenAJobArrives() throws Exception {
    AdmissionController c = controller(open());
    JobSource source = c.source(MODEL);
    Job[] got = new Job[1];
    Thread batcher = Thread.ofPlatform().start(() -> {
      try {
        got[0] = source.poll(10, true, 30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    Tracked t = job("a", "r0");
    c.submit(t.job());
    batcher.join(30_000);
    assertSame(t.job(), got[0]);
    assertEquals(1, t.rec().starts.get());
  }

  @Test
  void positions_reportedOnAdmissionAndWhenTheyDrop() throws Exception {
    AdmissionController c = controller(open());
    JobSource source = c.source(MODEL);
    List<Tracked> jobs = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Tracked t = job("a", "r" + i);
      c.submit(t.job());
      jobs.add(t);
    }
    assertEquals(List.of(2), jobs.get(2).rec().positions());
    poll(source, 10, true);
    c.cancel(jobs.get(1).job());
    assertEquals(List.of(2, 1, 0), jobs.get(2).rec().positions());
    poll(source, 10, true);
    assertEquals(List.of(2, 1, 0), jobs.get(2).rec().positions());
    assertEquals(1, jobs.get(2).rec().starts.get());
  }

  @Test
  void positions_newArrivalAhead_neverReportedHigher() throws Exception {
    AdmissionController c = controller(open());
    JobSource source = c.source(MODEL);
    for (int i = 0; i < 3; i++) {
      c.submit(job("greedy", "g" + i).job());
    }
    Tracked last = job("greedy", "g3");
    c.submit(last.job());
    poll(source, 10, true);
    // quiet lands ahead of g3: g3's position rises to 3 but is not reported
    c.submit(job("quiet", "q").job());
    poll(source, 10, true);
    assertEquals(List.of(3, 2), last.rec().positions());
  }

  // ---- events for every decision ----

  @Test
  void events_lifecycle_admittedStartedAndEndedOnce() throws Exception {
    AdmissionController c = controller(open());
    JobSource source = c.source(MODEL);
    c.submit(job("a", "ok").job());
    c.submit(job("a", "boom").job());
    c.submit(job("a", "late").job());
    Job ok = poll(source, 10, true);
    clock.advanceMillis(7);
    ok.complete(RESULT);
    poll(source, 10, true).fail(Code.INTERNAL, "engine failed");
    poll(source, 10, true).fail(Code.DEADLINE_EXCEEDED, "deadline passed at step 3");

    assertEquals(3, events.of(AdmissionEvent.Admitted.class).size());
    assertEquals(3, events.of(AdmissionEvent.Started.class).size());
    AdmissionEvent.Completed done = events.of(AdmissionEvent.Completed.class).getFirst();
    assertEquals(TimeUnit.MILLISECONDS.toNanos(7), done.runNanos());
    assertEquals(Code.INTERNAL, events.of(AdmissionEvent.Failed.class).getFirst().code());
    AdmissionEvent.Dropped late = events.of(AdmissionEvent.Dropped.class).getFirst();
    assertEquals("late", late.requestId());
    assertTrue(late.started());

    AdmissionStats s = c.stats();
    assertEquals(3, s.admitted());
    assertEquals(3, s.started());
    assertEquals(1, s.completed());
    assertEquals(Map.of(Code.INTERNAL, 1L), s.failed());
    assertEquals(Map.of(Code.DEADLINE_EXCEEDED, 1L), s.dropped());
    assertEquals(3, s.endedTotal());
  }

  @Test
  void events_admitted_carriesPositionDepthAndSize() throws Exception {
    AdmissionController c = controller(open());
    c.submit(job("a", "r0").job());
    c.submit(job("a", "r1", 3, 25, 2, Long.MAX_VALUE).job());
    AdmissionEvent.Admitted a = events.of(AdmissionEvent.Admitted.class).get(1);
    assertEquals(new AdmissionEvent.Admitted(new Tenant("a"), "r1", 6, 25, 1, 2, clock.getAsLong()), a);
  }

  @Test
  void recordInvalid_emitsRejectedInvalidArgument() {
    AdmissionController c = controller(open());
    c.recordInvalid(new Tenant("a"), "r9", "steps must be 1..200, got 0");
    AdmissionEvent.Rejected r = events.of(AdmissionEvent.Rejected.class).getFirst();
    assertEquals(Code.INVALID_ARGUMENT, r.code());
    assertEquals("r9", r.requestId());
    assertEquals(Map.of(Code.INVALID_ARGUMENT, 1L), c.stats().rejected());
  }

  // ---- adaptive throttle ----

  private AdmissionController throttled() {
    return controller(new AdmissionPolicy(1000, tenant(2, 5, 1000, 1000), Map.of(), ThrottlePolicy.defaults()));
  }

  @Test
  void throttle_invalidBurst_lowersRateAndSaysWhyInRejection() throws Exception {
    AdmissionController c = throttled();
    Tenant a = new Tenant("a");
    for (int i = 0; i < 9; i++) {
      c.recordInvalid(a, "bad");
    }
    assertEquals(List.of(), events.of(AdmissionEvent.Throttled.class));
    c.recordInvalid(a, "bad");
    AdmissionEvent.Throttled t = events.of(AdmissionEvent.Throttled.class).getFirst();
    assertEquals(0.25, t.factor());
    assertEquals("rate reduced to 25% after 10 invalid requests in 10 s", t.reason());
    assertEquals(0.25, c.stats().tenants().get(a).throttleFactor());

    // burst 5 x 0.25 = 1.25 tokens at most; rate 0.5/s
    c.submit(job("a", "r0").job());
    RejectedException e = rejected(c, job("a", "r1"));
    assertEquals("tenant rate reduced to 25% after 10 invalid requests in 10 s; retry in 1500 ms", e.getMessage());
    // another tenant keeps its full rate
    for (int i = 0; i < 5; i++) {
      c.submit(job("b", "b" + i).job());
    }
  }

  @Test
  void throttle_quietPeriod_recoversGraduallyWithAnEventPerChange() {
    AdmissionController c = throttled();
    Tenant a = new Tenant("a");
    for (int i = 0; i < 10; i++) {
      c.recordInvalid(a, "bad");
    }
    long throttledAt = clock.getAsLong();
    clock.advanceMillis(29_999);
    assertEquals(0.25, c.stats().tenants().get(a).throttleFactor());
    clock.advanceMillis(1);
    assertEquals(0.5, c.stats().tenants().get(a).throttleFactor());
    clock.advanceMillis(60_000);
    assertEquals(1.0, c.stats().tenants().get(a).throttleFactor());
    List<AdmissionEvent.Throttled> changes = events.of(AdmissionEvent.Throttled.class);
    assertEquals(List.of(0.25, 0.5, 1.0), changes.stream().map(AdmissionEvent.Throttled::factor).toList());
    assertEquals(throttledAt + TimeUnit.SECONDS.toNanos(30), changes.get(1).atNanos());
    assertEquals(throttledAt + TimeUnit.SECONDS.toNanos(40), changes.get(2).atNanos());
    assertEquals("no risk signal for 30 s; rate raised to 50%", changes.get(1).reason());
  }

  @Test
  void throttle_signalWhileThrottled_restartsQuietPeriod() {
    AdmissionController c = throttled();
    Tenant a = new Tenant("a");
    for (int i = 0; i < 10; i++) {
      c.recordInvalid(a, "bad");
    }
    clock.advanceMillis(20_000);
    c.recordInvalid(a, "bad");
    clock.advanceMillis(20_000);
    assertEquals(0.25, c.stats().tenants().get(a).throttleFactor());
    clock.advanceMillis(10_000);
    assertEquals(0.5, c.stats().tenants().get(a).throttleFactor());
  }

  @Test
  void throttle_persistentAbuse_escalatesDownToMinFactor() {
    AdmissionController c = throttled();
    Tenant a = new Tenant("a");
    for (int i = 0; i < 40; i++) {
      c.recordInvalid(a, "bad");
    }
    assertEquals(List.of(0.25, 0.0625), events.of(AdmissionEvent.Throttled.class).stream()
        .map(AdmissionEvent.Throttled::factor).toList());
    assertEquals(0.0625, c.stats().tenants().get(a).throttleFactor());
  }

  @Test
  void throttle_signalsOutsideWindow_doNotAddUp() {
    AdmissionController c = throttled();
    Tenant a = new Tenant("a");
    for (int i = 0; i < 9; i++) {
      c.recordInvalid(a, "bad");
    }
    clock.advanceMillis(10_001);
    for (int i = 0; i < 9; i++) {
      c.recordInvalid(a, "bad");
    }
    assertEquals(List.of(), events.of(AdmissionEvent.Throttled.class));
  }

  @Test
  void throttle_unguidedRequests_areNotProbes() throws Exception {
    AdmissionController c = controller(new AdmissionPolicy(1000, tenant(1000, 1000, 1000, 1000), Map.of(),
        ThrottlePolicy.defaults()));
    for (int i = 0; i < 100; i++) {
      c.submit(job("a", "g0-" + i, 1, 10, 0, Long.MAX_VALUE).job());
    }
    assertEquals(List.of(), events.of(AdmissionEvent.Throttled.class));
  }

  @Test
  void throttle_probingAtParameterLimits_lowersRate() throws Exception {
    AdmissionController c = controller(new AdmissionPolicy(1000, tenant(1000, 1000, 1000, 1000), Map.of(),
        ThrottlePolicy.defaults()));
    for (int i = 0; i < 15; i++) {
      c.submit(job("a", "steps" + i, 1, 200, 1, Long.MAX_VALUE).job());
      // guidance 0 is the protocol default for unguided requests: not a probe
      c.submit(job("a", "g0-" + i, 1, 10, 0, Long.MAX_VALUE).job());
      c.submit(job("a", "g30-" + i, 1, 10, 30, Long.MAX_VALUE).job());
      c.submit(job("a", "plain" + i).job());
    }
    AdmissionEvent.Throttled t = events.of(AdmissionEvent.Throttled.class).getFirst();
    assertEquals("rate reduced to 25% after 30 at-limit requests in 10 s", t.reason());
  }

  @Test
  void throttle_registeredModelLimits_countAtMaxImages() throws Exception {
    AdmissionController c = controller(new AdmissionPolicy(1000, tenant(1000, 1000, 1000, 1000), Map.of(),
        ThrottlePolicy.defaults()));
    c.registerModel(MODEL, new dev.sampler.scheduler.ModelLimits(9, 9, 32, List.of("ddim"), 50, 4));
    for (int i = 0; i < 15; i++) {
      c.submit(job("a", "count" + i, 4, 10, 1, Long.MAX_VALUE).job());
      c.submit(job("a", "steps" + i, 1, 50, 1, Long.MAX_VALUE).job());
    }
    assertEquals(1, events.of(AdmissionEvent.Throttled.class).size());
  }

  @Test
  void throttle_manyRejections_lowerRateWithMixedReason() throws Exception {
    AdmissionController c = controller(new AdmissionPolicy(1000, tenant(1000, 1000, 1, 1000), Map.of(),
        ThrottlePolicy.defaults()));
    Tenant a = new Tenant("a");
    for (int i = 0; i < 5; i++) {
      c.recordInvalid(a, "bad");
    }
    c.submit(job("a", "r0").job());
    for (int i = 0; i < 15; i++) {
      rejected(c, job("a", "x" + i));
    }
    AdmissionEvent.Throttled t = events.of(AdmissionEvent.Throttled.class).getFirst();
    assertEquals("rate reduced to 25% after 5 invalid and 15 rejected requests in 10 s", t.reason());
  }

  @Test
  void throttle_off_neverThrottles() {
    AdmissionController c = controller(open());
    for (int i = 0; i < 100; i++) {
      c.recordInvalid(new Tenant("a"), "bad");
    }
    assertEquals(List.of(), events.of(AdmissionEvent.Throttled.class));
  }

  // ---- idle, stats ----

  @Test
  void awaitIdle_jobsInFlight_falseUntilTheyEnd() throws Exception {
    AdmissionController c = controller(open());
    assertTrue(c.awaitIdle(Duration.ZERO));
    c.submit(job("a", "r0").job());
    assertFalse(c.awaitIdle(Duration.ofMillis(5)));
    Job j = poll(c.source(MODEL), 10, true);
    assertEquals(0, c.queued());
    assertEquals(1, c.running());
    assertFalse(c.awaitIdle(Duration.ZERO));
    j.complete(RESULT);
    assertTrue(c.awaitIdle(Duration.ZERO));
  }

  @Test
  void stats_perTenant_queuedRunningAndRejectedByCode() throws Exception {
    AdmissionController c = controller(open().withDefaults(tenant(1000, 1000, 2, 100)));
    c.submit(job("a", "r0").job());
    c.submit(job("a", "r1").job());
    rejected(c, job("a", "r2"));
    c.submit(job("b", "r3").job());
    poll(c.source(MODEL), 10, true);
    AdmissionStats s = c.stats();
    assertEquals(2, s.queued());
    assertEquals(1, s.running());
    assertEquals(new AdmissionStats.TenantStats(1, 1, 1.0, 998), s.tenants().get(new Tenant("a")));
    assertEquals(Map.of(Code.RESOURCE_EXHAUSTED, 1L), s.rejected());
  }

  @Test
  void stats_manyIdleTenants_forgotten() throws Exception {
    AdmissionController c = controller(open());
    JobSource source = c.source(MODEL);
    for (int i = 0; i < 600; i++) {
      c.submit(job("t" + i, "r" + i).job());
      poll(source, 10, true).complete(RESULT);
      clock.advanceMillis(10);
    }
    assertTrue(c.stats().tenants().size() < 600, "tenants tracked: " + c.stats().tenants().size());
  }
}
