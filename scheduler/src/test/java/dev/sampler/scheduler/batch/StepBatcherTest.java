package dev.sampler.scheduler.batch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sampler.engine.backend.BackendOptions;
import dev.sampler.engine.backend.Backends;
import dev.sampler.engine.backend.TensorBackend;
import dev.sampler.engine.sampling.DiffusionPipeline;
import dev.sampler.engine.sampling.SamplingRequest;
import dev.sampler.engine.sampling.SamplingResult;
import dev.sampler.engine.sampling.StepProgress;
import dev.sampler.engine.sampling.StreamNoise;
import dev.sampler.engine.schedule.NoiseSource;
import dev.sampler.engine.schedule.NoiseUnavailableException;
import dev.sampler.engine.schedule.Schedulers;
import dev.sampler.rng.InsecureSeedAccess;
import dev.sampler.rng.NoiseStream;
import dev.sampler.rng.SecretSeed;
import dev.sampler.scheduler.AdmissionEvent;
import dev.sampler.scheduler.Code;
import dev.sampler.scheduler.GenerationSpec;
import dev.sampler.scheduler.Job;
import dev.sampler.scheduler.JobListener;
import dev.sampler.scheduler.Tenant;
import dev.sampler.scheduler.admission.AdmissionController;
import dev.sampler.scheduler.admission.AdmissionPolicy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The step batcher on the real demo model (32x32, cpu backend): batched jobs give the bytes they
 * give alone, cancellation and deadlines stop a job between steps and free its rows, failures
 * stay with their job, shutdown fails what runs, large jobs run alone, and batching off never
 * shares a forward. Seeds here are public test fixtures.
 */
class StepBatcherTest {
  private static final Path MODEL = Path.of("../models/demo");
  private static final Tenant TENANT = new Tenant("tenant-a");
  /** Generous bound on any one wait; the jobs here take well under a second each. */
  private static final long WAIT_SECONDS = 120;

  static TensorBackend backend;
  static DiffusionPipeline pipeline;

  @BeforeAll
  static void load() throws Exception {
    backend = Backends.create("cpu", BackendOptions.threads(2));
    pipeline = DiffusionPipeline.load(MODEL, backend);
  }

  @AfterAll
  static void close() {
    pipeline.close();
    backend.close();
  }

  // --------------------------------------------------------------------------------------------
  // fixtures

  /** What happened to one job, recorded on the batcher's thread. */
  static final class Recorder implements JobListener {
    final CompletableFuture<SamplingResult> completed = new CompletableFuture<>();
    final AtomicInteger steps = new AtomicInteger();
    final AtomicInteger stepsAfterCancel = new AtomicInteger();
    volatile Code failedCode;
    volatile String failedMessage;
    volatile int total;
    volatile Job job;
    IntConsumer onStep = s -> {};

    @Override
    public void onStep(StepProgress progress) {
      int s = steps.incrementAndGet();
      total = progress.total();
      assertEquals(s, progress.step());
      if (job != null && job.cancelled()) {
        stepsAfterCancel.incrementAndGet();
      }
      onStep.accept(s);
    }

    @Override
    public void onCompleted(SamplingResult result) {
      completed.complete(result);
    }

    @Override
    public void onFailed(Code code, String message) {
      failedCode = code;
      failedMessage = message;
      completed.complete(null);
    }

    /** Waits for the end; the result, or null if the job failed. */
    SamplingResult await() throws Exception {
      return completed.get(WAIT_SECONDS, TimeUnit.SECONDS);
    }
  }

  record Case(String id, String scheduler, int[] labels, int steps, double guidance, String seedHex) {
    SamplingRequest request() {
      return new SamplingRequest(labels, steps, guidance, 0);
    }

    NoiseStream stream() {
      try (SecretSeed seed = SecretSeed.copyOf(HexFormat.of().parseHex(seedHex), InsecureSeedAccess.get())) {
        return NoiseStream.replay(seed, new NoiseStream.Personalization(TENANT.id(), id));
      }
    }
  }

  static Job job(Case c, Recorder listener, long deadlineNanos) {
    return job(c, listener, deadlineNanos, null);
  }

  /** A job for {@code c}; {@code noise} replaces the case's stream when given. */
  static Job job(Case c, Recorder listener, long deadlineNanos, NoiseSource noise) {
    GenerationSpec spec = new GenerationSpec("demo", c.id(), c.request(), c.scheduler(), 0, 32);
    NoiseStream stream = c.stream();
    Job job = new Job(TENANT, spec, noise != null ? noise : new StreamNoise(stream), deadlineNanos, listener, stream);
    listener.job = job;
    return job;
  }

  static Job job(Case c, Recorder listener) {
    return job(c, listener, Long.MAX_VALUE);
  }

  /** The case sampled alone by the engine's own loop, with the same noise. */
  static SamplingResult solo(Case c) throws Exception {
    try (NoiseStream stream = c.stream()) {
      return pipeline.sampler().run(c.request(), Schedulers.named(c.scheduler(), pipeline.schedulerConfig()),
          new StreamNoise(stream), p -> {}, () -> false);
    }
  }

  static Case euler(String id, int steps) {
    return new Case(id, "euler-ancestral", new int[] {1}, steps, 3.0, "00112233445566778899aabbccddeeff");
  }

  // --------------------------------------------------------------------------------------------
  // tests

  @Test
  void run_jobsJoiningAtDifferentSteps_giveTheirSoloImagesBitForBit() throws Exception {
    Case a = new Case("mix-a", "euler-ancestral", new int[] {1}, 6, 3.0, "00112233445566778899aabbccddeeff");
    Case b = new Case("mix-b", "dpmpp-2m-karras", new int[] {2, 5}, 5, 1.0, "0102030405060708090a0b0c0d0e0f10");
    Case c = new Case("mix-c", "heun", new int[] {4}, 4, 3.0, "f0e0d0c0b0a090807060504030201000");
    Case d = new Case("mix-d", "ddim", new int[] {7, 0, 8}, 3, 1.0, "aabbccddeeff00112233445566778899");
    FifoJobSource source = new FifoJobSource();
    Recorder ra = new Recorder(), rb = new Recorder(), rc = new Recorder(), rd = new Recorder();
    Job jc = job(c, rc);
    Job jd = job(d, rd);
    // c joins after a's second step and d after b's third: submitted from the batcher's own
    // thread, so they join at exactly the next step.
    ra.onStep = s -> {
      if (s == 2) {
        source.submit(jc);
      }
    };
    rb.onStep = s -> {
      if (s == 3) {
        source.submit(jd);
      }
    };
    source.submit(job(a, ra));
    source.submit(job(b, rb));
    StepBatcher batcher = new StepBatcher("mix", pipeline, source, BatchingPolicy.defaults());
    try (batcher) {
      batcher.start();
      List<SamplingResult> results = List.of(ra.await(), rb.await(), rc.await(), rd.await());
      List<Case> cases = List.of(a, b, c, d);
      for (int i = 0; i < 4; i++) {
        assertNotNull(results.get(i), cases.get(i).id() + " failed");
        assertArrayEquals(solo(cases.get(i)).images(), results.get(i).images(), cases.get(i).id());
      }
    }
    BatcherStats stats = batcher.stats(); // after close: every counter is final
    // a: 2 rows x 6 evaluations, b: 2 x 5, c: 2 x 7 (Heun: 2 * 4 - 1), d: 3 x 3
    assertEquals(12 + 10 + 14 + 9, stats.rows());
    assertEquals(4, stats.jobsCompleted());
    assertEquals(0, stats.jobsFailed());
    assertTrue(stats.maxJobsPerForward() >= 3, "some forward shared by three jobs: " + stats);
    assertEquals(7, rc.total);
  }

  @Test
  void cancel_midRun_stopsWithinOneStepAndTheOthersFinishUnaffected() throws Exception {
    Case a = euler("cancel-a", 12);
    Case b = new Case("cancel-b", "ddim", new int[] {3}, 6, 3.0, "0102030405060708090a0b0c0d0e0f10");
    Case c = new Case("cancel-c", "dpmpp-2m-karras", new int[] {6, 2}, 6, 1.0, "aabbccddeeff00112233445566778899");
    FifoJobSource source = new FifoJobSource();
    Recorder ra = new Recorder(), rb = new Recorder(), rc = new Recorder();
    CountDownLatch atStep2 = new CountDownLatch(1);
    ra.onStep = s -> {
      if (s == 2) {
        atStep2.countDown();
      }
    };
    Job ja = job(a, ra);
    source.submit(ja);
    source.submit(job(b, rb));
    source.submit(job(c, rc));
    StepBatcher batcher = new StepBatcher("cancel", pipeline, source, BatchingPolicy.defaults());
    try (batcher) {
      batcher.start();
      assertTrue(atStep2.await(WAIT_SECONDS, TimeUnit.SECONDS));
      ja.cancel(); // from another thread, while the batcher runs the next step or is about to
      assertNull(ra.await());
      SamplingResult b1 = rb.await();
      SamplingResult c1 = rc.await();
      assertArrayEquals(solo(b).images(), b1.images());
      assertArrayEquals(solo(c).images(), c1.images());
    }
    BatcherStats stats = batcher.stats();
    assertEquals(Code.CANCELLED, ra.failedCode);
    int k = ra.steps.get();
    assertTrue(ra.stepsAfterCancel.get() <= 1, "steps after cancel: " + ra.stepsAfterCancel.get());
    assertTrue(k < 12, "stopped early: " + k);
    assertEquals("cancelled after step " + k + " of 12", ra.failedMessage);
    // The cancelled job's rows left the batch right after its last step.
    assertEquals(2L * k + 2 * 6 + 2 * 6, stats.rows());
    assertEquals(2, stats.jobsCompleted());
    assertEquals(1, stats.jobsFailed());
  }

  @Test
  void cancel_fromItsOwnStepCallback_runsNoFurtherStep() throws Exception {
    FifoJobSource source = new FifoJobSource();
    Recorder r = new Recorder();
    r.onStep = s -> {
      if (s == 3) {
        r.job.cancel();
      }
    };
    source.submit(job(euler("cancel-own", 8), r));
    StepBatcher batcher = new StepBatcher("cancel-own", pipeline, source, BatchingPolicy.defaults());
    try (batcher) {
      batcher.start();
      assertNull(r.await());
    }
    assertEquals(3, batcher.stats().forwards());
    assertEquals(3, r.steps.get());
    assertEquals(Code.CANCELLED, r.failedCode);
    assertEquals("cancelled after step 3 of 8", r.failedMessage);
  }

  @Test
  void deadline_passingMidRun_failsWithDeadlineExceeded() throws Exception {
    FifoJobSource source = new FifoJobSource();
    Recorder r = new Recorder();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
    r.onStep = s -> {
      if (s == 2) {
        // Hold the batcher until the deadline has passed (at most the 3 s above).
        while (System.nanoTime() - deadline < 0) {
          sleepMillis(5);
        }
      }
    };
    source.submit(job(euler("deadline", 8), r, deadline));
    try (StepBatcher batcher = new StepBatcher("deadline", pipeline, source, BatchingPolicy.defaults())) {
      batcher.start();
      assertNull(r.await());
    }
    int k = r.steps.get();
    assertTrue(k <= 2, "no step after the deadline passed: " + k);
    assertEquals(Code.DEADLINE_EXCEEDED, r.failedCode);
    assertEquals("deadline passed after step " + k + " of 8", r.failedMessage);
  }

  @Test
  void close_whileJobsRun_failsThemUnavailableAndLeavesQueuedJobsInTheSource() throws Exception {
    FifoJobSource source = new FifoJobSource();
    Recorder running = new Recorder(), queued = new Recorder();
    CountDownLatch atStep2 = new CountDownLatch(1);
    running.onStep = s -> {
      if (s == 2) {
        atStep2.countDown();
      }
    };
    source.submit(job(euler("close-a", 50), running));
    // 6 guided images: 12 rows, more than the 8 free beside the running job (max active rows 10),
    // so it waits in the source.
    source.submit(job(new Case("close-b", "ddim", new int[] {0, 1, 2, 3, 4, 5}, 5, 3.0,
        "0102030405060708090a0b0c0d0e0f10"), queued));
    StepBatcher batcher = new StepBatcher("close", pipeline, source, new BatchingPolicy(true, 10, 10, true));
    batcher.start();
    assertTrue(atStep2.await(WAIT_SECONDS, TimeUnit.SECONDS));
    batcher.close();
    assertFalse(batcher.running());
    assertNull(running.await());
    assertEquals(Code.UNAVAILABLE, running.failedCode);
    assertEquals("server is shutting down", running.failedMessage);
    assertTrue(running.steps.get() < 50);
    assertEquals(1, source.size());
    assertFalse(queued.completed.isDone());
    batcher.close(); // idempotent
    assertThrows(IllegalStateException.class, batcher::start);
  }

  @Test
  void run_jobLargerThanMaxRows_runsAloneThenSmallJobsShare() throws Exception {
    FifoJobSource source = new FifoJobSource();
    Recorder big = new Recorder(), small1 = new Recorder(), small2 = new Recorder();
    source.submit(job(new Case("big", "ddim", new int[] {1, 2, 3}, 3, 3.0, "00112233445566778899aabbccddeeff"), big));
    source.submit(job(new Case("small-1", "ddim", new int[] {4}, 3, 3.0, "0102030405060708090a0b0c0d0e0f10"),
        small1));
    source.submit(job(new Case("small-2", "euler", new int[] {5}, 3, 3.0, "aabbccddeeff00112233445566778899"),
        small2));
    StepBatcher batcher = new StepBatcher("large", pipeline, source, new BatchingPolicy(true, 4));
    try (batcher) {
      batcher.start();
      assertNotNull(big.await());
      assertNotNull(small1.await());
      assertNotNull(small2.await());
    }
    BatcherStats stats = batcher.stats();
    long[] h = stats.rowsHistogram();
    assertEquals(6, h.length); // 0..4 rows, then "more than 4"
    assertEquals(3, h[5], "the 6-row job ran alone in 3 forwards: " + stats);
    assertEquals(3, h[4], "the two 2-row jobs shared 3 forwards: " + stats);
    assertEquals(6, stats.forwards());
    assertEquals(6, stats.maxRowsPerForward());
  }

  /** A 1-image guided DDIM job of {@code tenant} (2 rows, 3 steps). */
  static Job tenantJob(Tenant tenant, String id, Recorder listener) {
    Case c = new Case(id, "ddim", new int[] {1}, 3, 3.0, "00112233445566778899aabbccddeeff");
    GenerationSpec spec = new GenerationSpec("demo", c.id(), c.request(), c.scheduler(), 0, 32);
    NoiseStream stream = c.stream();
    Job job = new Job(tenant, spec, new StreamNoise(stream), Long.MAX_VALUE, listener, stream);
    listener.job = job;
    return job;
  }

  @Test
  void run_greedyAndLightTenant_capsGreedyRowsAtTheLightTenantsDemand() throws Exception {
    for (boolean fair : new boolean[] {true, false}) {
      FifoJobSource source = new FifoJobSource();
      List<Recorder> recorders = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        Recorder r = new Recorder();
        recorders.add(r);
        source.submit(tenantJob(new Tenant("greedy"), "greedy-" + i, r));
      }
      Recorder light = new Recorder();
      source.submit(tenantJob(new Tenant("light"), "light-0", light));
      StepBatcher batcher = new StepBatcher("fair-" + fair, pipeline, source, new BatchingPolicy(true, 32, 128, fair));
      try (batcher) {
        batcher.start();
        for (Recorder r : recorders) {
          assertNotNull(r.await());
        }
        assertNotNull(light.await());
      }
      long[] h = batcher.stats().rowsHistogram();
      if (fair) {
        // While the light tenant runs, the greedy tenant gets as many rows as it (2): 3 forwards of
        // 4 rows; then the greedy tenant's 5 remaining jobs share 3 forwards of 10 rows.
        assertEquals(3, h[4], batcher.stats().toString());
        assertEquals(3, h[10], batcher.stats().toString());
        assertEquals(6, batcher.stats().forwards());
      } else {
        assertEquals(3, h[14], "without fair rows every started job shares each forward: " + batcher.stats());
        assertEquals(3, batcher.stats().forwards());
      }
    }
  }

  @Test
  void run_batchingOff_runsOneJobPerForward() throws Exception {
    FifoJobSource source = new FifoJobSource();
    List<Recorder> recorders = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Recorder r = new Recorder();
      recorders.add(r);
      source.submit(job(new Case("off-" + i, "euler", new int[] {i}, 3, i == 1 ? 1.0 : 3.0,
          "00112233445566778899aabbccddeeff"), r));
    }
    StepBatcher batcher = new StepBatcher("off", pipeline, source, BatchingPolicy.off());
    try (batcher) {
      batcher.start();
      for (Recorder r : recorders) {
        assertNotNull(r.await());
      }
    }
    BatcherStats stats = batcher.stats();
    assertEquals(1, stats.maxJobsPerForward(), stats.toString());
    assertEquals(9, stats.forwards());
    assertEquals(2 * 3 + 3 + 2 * 3, stats.rows());
    assertEquals(2, stats.maxRowsPerForward());
  }

  @Test
  void run_noiseFailsMidRun_failsThatJobOnlyWithInternal() throws Exception {
    Case a = euler("noise-fails", 6);
    Case b = new Case("noise-ok", "euler-ancestral", new int[] {2}, 6, 3.0, "0102030405060708090a0b0c0d0e0f10");
    FifoJobSource source = new FifoJobSource();
    Recorder ra = new Recorder(), rb = new Recorder();
    // Euler ancestral draws once at the start and once per step: the 4th draw is step 3's.
    NoiseStream stream = a.stream();
    StreamNoise real = new StreamNoise(stream);
    AtomicInteger draws = new AtomicInteger();
    NoiseSource failing = out -> {
      if (draws.incrementAndGet() == 4) {
        throw new NoiseUnavailableException("the request's noise stream failed: test", null);
      }
      real.fill(out);
    };
    source.submit(job(a, ra, Long.MAX_VALUE, failing));
    source.submit(job(b, rb));
    StepBatcher batcher = new StepBatcher("noise", pipeline, source, BatchingPolicy.defaults());
    try (batcher) {
      batcher.start();
      assertNull(ra.await());
      SamplingResult rb1 = rb.await();
      assertArrayEquals(solo(b).images(), rb1.images());
    } finally {
      stream.close();
    }
    assertEquals(1, batcher.stats().jobsFailed());
    assertEquals(1, batcher.stats().jobsCompleted());
    assertEquals(Code.INTERNAL, ra.failedCode);
    assertEquals("engine failure at step 3 (see server log, request noise-fails)", ra.failedMessage);
    assertEquals(2, ra.steps.get());
  }

  @Test
  void run_listenerThrows_failsThatJobOnlyAndTheBatcherGoesOn() throws Exception {
    FifoJobSource source = new FifoJobSource();
    Recorder bad = new Recorder(), good = new Recorder();
    bad.onStep = s -> {
      throw new IllegalStateException("listener bug");
    };
    source.submit(job(euler("listener-bad", 3), bad));
    source.submit(job(new Case("listener-good", "ddim", new int[] {2}, 3, 3.0, "0102030405060708090a0b0c0d0e0f10"),
        good));
    StepBatcher batcher = new StepBatcher("listener", pipeline, source, BatchingPolicy.defaults());
    try (batcher) {
      batcher.start();
      assertNull(bad.await());
      assertNotNull(good.await());
      assertTrue(batcher.running());
    }
    assertEquals(Code.INTERNAL, bad.failedCode);
    assertEquals("engine failure at step 1 (see server log, request listener-bad)", bad.failedMessage);
  }

  @Test
  void run_fedByTheAdmissionController_completesEveryJobAndBalancesItsEvents() throws Exception {
    List<AdmissionEvent> events = new CopyOnWriteArrayList<>();
    AdmissionController admission = new AdmissionController(AdmissionPolicy.defaults(), events::add, System::nanoTime);
    List<Recorder> recorders = new ArrayList<>();
    Recorder cancelled = new Recorder();
    cancelled.onStep = s -> {
      if (s == 1) {
        cancelled.job.cancel();
      }
    };
    StepBatcher batcher = new StepBatcher("admitted", pipeline, admission.source("demo"), BatchingPolicy.defaults());
    try (batcher; admission) {
      for (int i = 0; i < 4; i++) {
        Recorder r = new Recorder();
        recorders.add(r);
        Case c = new Case("adm-" + i, i % 2 == 0 ? "ddim" : "euler-ancestral", new int[] {i}, 3, 3.0,
            "00112233445566778899aabbccddeeff");
        NoiseStream stream = c.stream();
        admission.submit(new Job(new Tenant(i % 2 == 0 ? "tenant-a" : "tenant-b"), new GenerationSpec("demo", c.id(),
            c.request(), c.scheduler(), 0, 32), new StreamNoise(stream), Long.MAX_VALUE, r, stream));
      }
      Job cancelledJob = job(euler("adm-cancel", 5), cancelled);
      admission.submit(cancelledJob);
      batcher.start();
      for (Recorder r : recorders) {
        assertNotNull(r.await());
      }
      assertNull(cancelled.await());
      assertTrue(admission.awaitIdle(java.time.Duration.ofSeconds(WAIT_SECONDS)));
    }
    assertEquals("cancelled after step 1 of 5", cancelled.failedMessage);
    assertEquals(5, events.stream().filter(e -> e instanceof AdmissionEvent.Started).count());
    assertEquals(4, events.stream().filter(e -> e instanceof AdmissionEvent.Completed).count());
    assertEquals(1, events.stream()
        .filter(e -> e instanceof AdmissionEvent.Dropped d && d.code() == Code.CANCELLED && d.started()).count());
    assertEquals(0, admission.running());
  }

  @Test
  void start_twice_throwsIllegalState() {
    try (StepBatcher batcher = new StepBatcher("twice", pipeline, new FifoJobSource(), BatchingPolicy.defaults())) {
      batcher.start();
      assertTrue(batcher.running());
      assertThrows(IllegalStateException.class, batcher::start);
    }
  }

  @Test
  void policy_maxRowsOutOfRange_throwsNamingTheValue() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new BatchingPolicy(true, 0));
    assertEquals("batching max rows must be 1..4096, got 0", e.getMessage());
  }

  private static void sleepMillis(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
