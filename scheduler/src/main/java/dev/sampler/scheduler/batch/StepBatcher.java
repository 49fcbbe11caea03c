package dev.sampler.scheduler.batch;

import dev.sampler.engine.EngineException;
import dev.sampler.engine.sampling.DiffusionPipeline;
import dev.sampler.engine.sampling.SamplingResult;
import dev.sampler.engine.sampling.SamplingSession;
import dev.sampler.engine.sampling.StepProgress;
import dev.sampler.engine.schedule.NoiseScheduler;
import dev.sampler.engine.schedule.Schedulers;
import dev.sampler.engine.unet.UNet2DModel;
import dev.sampler.scheduler.Code;
import dev.sampler.scheduler.Job;
import dev.sampler.scheduler.JobSource;
import dev.sampler.scheduler.Tenant;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * Step-level continuous batching over one {@link DiffusionPipeline}: rows of different jobs, each
 * at its own timestep with its own scheduler state, guidance and noise stream, share one UNet
 * forward, up to {@link BatchingPolicy#maxRows()} rows. Jobs join between steps as rows free up
 * and leave as soon as they finish, are cancelled or pass their deadline, so a short job never
 * waits for a long one and a cancelled job stops within one step and frees its rows.
 *
 * <p>Because the UNet's forward is row-independent bit for bit, a job batched with others gives
 * exactly the images it gives when sampled alone.
 *
 * <p>One platform thread, {@code step-batcher-<name>}, runs the loop:
 *
 * <ol>
 *   <li>take work: with nothing running, wait for a job ({@code source.poll(maxRows, idle=true)}:
 *       this is how a job larger than {@code maxRows} runs, alone); while rows are free, take more
 *       without waiting (never, when batching is off);
 *   <li>start each new job: a fresh scheduler by the spec's short name from the model's scheduler
 *       config, and a {@link SamplingSession} (which draws the initial noise from the job's own
 *       source);
 *   <li>drop jobs that ended elsewhere, were cancelled ({@link Code#CANCELLED} "cancelled after
 *       step i of n") or passed their deadline ({@link Code#DEADLINE_EXCEEDED} "deadline passed
 *       after step i of n");
 *   <li>compose the forward: batching off, the one running job; on, started jobs in start order up
 *       to {@code maxRows} rows, and with {@link BatchingPolicy#fairRows()} each tenant capped at
 *       the smallest tenant's row demand while several tenants have work (jobs left out wait a
 *       step with their state kept; up to {@link BatchingPolicy#maxActiveRows()} rows are held);
 *   <li>pack the chosen sessions' rows at consecutive offsets, run one forward, hand each session
 *       its slice, report the step, and complete the jobs that are done.
 * </ol>
 *
 * <p>Failures stay as narrow as their cause: an exception from one session (its noise source, its
 * scheduler) fails that job alone with {@link Code#INTERNAL} "engine failure at step i (see server
 * log, request &lt;id&gt;)"; an exception from the forward fails every job of that batch the same
 * way. The cause goes to the {@link System.Logger} named after this class, with the request id;
 * no seed or noise ever reaches a log or a message.
 *
 * <p>An unexpected exception in the loop itself (a bug, or the source's {@code poll} throwing)
 * stops the batcher: the jobs in hand fail with {@link Code#INTERNAL}, the cause is logged at
 * ERROR, and {@link #running()} turns false (a health check can watch it).
 *
 * <p>{@link #stats()}, {@link #running()} and {@link #close()} may be called from any thread.
 */
public final class StepBatcher implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(StepBatcher.class.getName());

  /** How long an idle poll waits before the loop looks at its running flag again. */
  private static final long IDLE_POLL_MILLIS = 250;

  /** The message of jobs failed by {@link #close()} (with {@link Code#UNAVAILABLE}). */
  public static final String SHUTTING_DOWN = "server is shutting down";

  /** A running job and its session; touched by the worker thread only. */
  private record Active(Job job, SamplingSession session) {}

  private final String name;
  private final DiffusionPipeline pipeline;
  private final UNet2DModel model;
  private final JobSource source;
  private final BatchingPolicy policy;
  private final int height;
  private final int width;
  private final boolean conditional;
  private final Thread worker;
  private final List<Active> active = new ArrayList<>();
  private final Object lifecycle = new Object();
  private volatile boolean running;
  private boolean started;
  private boolean closed;

  private final Object statsLock = new Object();
  private long forwards;
  private long rows;
  private int maxRowsPerForward;
  private int maxJobsPerForward;
  private final long[] rowsHistogram;
  private long jobsStarted;
  private long jobsCompleted;
  private long jobsFailed;
  private long busyNanos;

  /**
   * A batcher that is not yet running ({@link #start()}).
   *
   * @param name names the worker thread ({@code step-batcher-<name>}) and log lines; e.g. the model
   *     name
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code name} is empty
   */
  public StepBatcher(String name, DiffusionPipeline pipeline, JobSource source, BatchingPolicy policy) {
    this.name = Objects.requireNonNull(name, "name");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("batcher name must not be empty");
    }
    this.pipeline = Objects.requireNonNull(pipeline, "pipeline");
    this.source = Objects.requireNonNull(source, "source");
    this.policy = Objects.requireNonNull(policy, "policy");
    this.model = pipeline.model();
    this.height = model.sampleHeight();
    this.width = model.sampleWidth();
    this.conditional = model.config().numClassEmbeds() != null;
    this.rowsHistogram = new long[policy.maxRows() + 2];
    this.worker = Thread.ofPlatform().name("step-batcher-" + name).daemon(true).unstarted(this::loop);
  }

  /** The policy this batcher runs under. */
  public BatchingPolicy policy() {
    return policy;
  }

  /**
   * Starts the worker thread.
   *
   * @throws IllegalStateException if already started or closed
   */
  public void start() {
    synchronized (lifecycle) {
      if (closed) {
        throw new IllegalStateException("step batcher " + name + " is closed");
      }
      if (started) {
        throw new IllegalStateException("step batcher " + name + " already started");
      }
      started = true;
      running = true;
    }
    worker.start();
  }

  /** True from {@link #start()} until {@link #close()} (or until the worker died of an error). */
  public boolean running() {
    return running && worker.isAlive();
  }

  /** A consistent snapshot of the counters. */
  public BatcherStats stats() {
    synchronized (statsLock) {
      return new BatcherStats(forwards, rows, maxRowsPerForward, maxJobsPerForward, rowsHistogram, jobsStarted,
          jobsCompleted, jobsFailed, busyNanos);
    }
  }

  /**
   * Stops taking work and waits for the worker to finish: a forward under way completes (and its
   * finished jobs complete), then every job still running is failed with {@link Code#UNAVAILABLE}
   * "{@value #SHUTTING_DOWN}". Jobs still in the source stay there (the admission controller
   * drains them). Idempotent. Called from the worker thread itself (a listener), it returns at
   * once and the loop ends after the current step.
   */
  @Override
  public void close() {
    synchronized (lifecycle) {
      if (closed) {
        return;
      }
      closed = true;
      running = false;
      if (!started) {
        return;
      }
    }
    if (Thread.currentThread() == worker) {
      return;
    }
    // Wakes a worker blocked in the source's poll; during a forward the flag only makes the
    // backend's waits spin, and the next poll sees it.
    worker.interrupt();
    boolean interrupted = false;
    while (worker.isAlive()) {
      try {
        worker.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  // --------------------------------------------------------------------------------------------
  // the worker

  private void loop() {
    try {
      while (running) {
        admit();
        if (!running) {
          break;
        }
        long t0 = System.nanoTime();
        dropStopped(t0);
        if (!active.isEmpty()) {
          step();
        }
        synchronized (statsLock) {
          busyNanos += System.nanoTime() - t0;
        }
      }
    } catch (InterruptedException e) {
      // close() woke the worker out of its poll
    } catch (RuntimeException | Error e) {
      // A bug in the loop or the source: the jobs in hand cannot go on; say so in the log, and
      // end them rather than leave their clients waiting.
      LOG.log(Level.ERROR, "step batcher " + name + " stopped by an unexpected failure", e);
      failAll(Code.INTERNAL, "step batcher stopped (see server log)");
      running = false;
      if (e instanceof Error err) {
        throw err;
      }
      return;
    }
    failAll(Code.UNAVAILABLE, SHUTTING_DOWN);
  }

  /** Takes new jobs: waits for one when idle, then fills free rows without waiting. */
  private void admit() throws InterruptedException {
    int max = policy.maxRows();
    if (active.isEmpty()) {
      Job job = source.poll(max, true, IDLE_POLL_MILLIS, TimeUnit.MILLISECONDS);
      if (job == null) {
        return;
      }
      begin(job);
    }
    if (!policy.enabled()) {
      return;
    }
    int used = rowsInUse();
    int limit = policy.maxActiveRows();
    // Continuous batching happens here: between two steps, new jobs take the rows that finished
    // or dropped jobs freed. More rows than one forward may be started (up to maxActiveRows):
    // compose() picks each forward's rows, and the rest wait a step with their state kept.
    while (running && used < limit) {
      Job job = source.poll(limit - used, active.isEmpty(), 0, TimeUnit.NANOSECONDS);
      if (job == null) {
        return;
      }
      begin(job);
      used = rowsInUse();
    }
  }

  private static boolean anyTrue(boolean[] a) {
    for (boolean b : a) {
      if (b) {
        return true;
      }
    }
    return false;
  }

  private int rowsInUse() {
    int n = 0;
    for (Active a : active) {
      n += a.session.rows();
    }
    return n;
  }

  /** Builds the job's scheduler and session; a failure here ends that job only. */
  private void begin(Job job) {
    long t0 = System.nanoTime();
    try {
      if (job.ended()) {
        return;
      }
      NoiseScheduler scheduler = Schedulers.named(job.spec().scheduler(), pipeline.schedulerConfig());
      SamplingSession session = pipeline.sampler().start(job.spec().request(), scheduler, job.noise());
      active.add(new Active(job, session));
    } catch (EngineException | RuntimeException e) {
      LOG.log(Level.WARNING, "step batcher " + name + ": request " + job.requestId() + " failed to start", e);
      fail(job, Code.INTERNAL, "engine failure before step 1 (see server log, request " + job.requestId() + ")");
    } finally {
      synchronized (statsLock) {
        jobsStarted++;
        busyNanos += System.nanoTime() - t0;
      }
    }
  }

  /** Removes jobs that ended elsewhere, were cancelled, or passed their deadline. */
  private void dropStopped(long now) {
    for (Iterator<Active> it = active.iterator(); it.hasNext(); ) {
      Active a = it.next();
      Job job = a.job;
      int done = a.session.evaluationsDone();
      int total = a.session.totalEvaluations();
      if (job.ended()) {
        it.remove();
      } else if (job.cancelled()) {
        it.remove();
        fail(job, Code.CANCELLED, "cancelled after step " + done + " of " + total);
      } else if (job.expired(now)) {
        it.remove();
        fail(job, Code.DEADLINE_EXCEEDED, "deadline passed after step " + done + " of " + total);
      }
    }
  }

  /**
   * The sessions of the next forward, in start order. Batching off: the one running job. Else at
   * most {@code maxRows} rows (one session even if larger); with {@link BatchingPolicy#fairRows()}
   * and several tenants, each tenant's rows are capped at {@code min(smallest tenant demand,
   * maxRows / tenants)}, never below its first session. Sessions left out keep their state and
   * are first in line next step (start order within a tenant, so the oldest job finishes first).
   */
  private List<Active> compose() {
    int max = policy.maxRows();
    if (!policy.enabled() || active.size() == 1) {
      return List.of(active.getFirst());
    }
    java.util.LinkedHashMap<Tenant, Integer> demand = new java.util.LinkedHashMap<>();
    for (Active a : active) {
      demand.merge(a.job.tenant(), a.session.rows(), Integer::sum);
    }
    int cap = Integer.MAX_VALUE;
    if (policy.fairRows() && demand.size() > 1) {
      int smallest = demand.values().stream().mapToInt(Integer::intValue).min().orElse(max);
      cap = Math.max(1, Math.min(smallest, max / demand.size()));
    }
    java.util.HashMap<Tenant, Integer> taken = new java.util.HashMap<>();
    List<Active> batch = new java.util.ArrayList<>();
    int total = 0;
    for (Active a : active) {
      int rows = a.session.rows();
      int mine = taken.getOrDefault(a.job.tenant(), 0);
      boolean first = mine == 0;
      if ((!first && mine + rows > cap) || (!batch.isEmpty() && total + rows > max)) {
        continue;
      }
      batch.add(a);
      taken.put(a.job.tenant(), mine + rows);
      total += rows;
    }
    return batch;
  }

  /** One forward over the composed sessions' rows, then each session's scheduler step. */
  private void step() {
    List<Active> batch = compose();
    int total = 0;
    int[] offsets = new int[batch.size()];
    for (int i = 0; i < batch.size(); i++) {
      offsets[i] = total;
      total += batch.get(i).session.rows();
    }
    int per = batch.getFirst().session.valuesPerRow();
    float[] input = new float[total * per];
    float[] ts = new float[total];
    long[] labels = conditional ? new long[total] : null;
    boolean[] filled = new boolean[batch.size()];
    for (int i = 0; i < batch.size(); i++) {
      Active a = batch.get(i);
      try {
        a.session.fillInput(input, offsets[i], ts, labels);
        filled[i] = true;
      } catch (RuntimeException e) {
        // Its rows stay zero (a valid input: label 0, timestep 0) and their output is ignored;
        // rows are independent, so the others are unaffected.
        engineFailure(a, e);
      }
    }
    if (!anyTrue(filled)) {
      return;
    }
    recordForward(total, batch.size());
    long f0 = System.nanoTime();
    float[] out;
    try {
      out = model.forward(input, total, height, width, ts, labels);
    } catch (RuntimeException | OutOfMemoryError e) {
      LOG.log(Level.ERROR, "step batcher " + name + ": forward of " + total + " rows (" + batch.size()
          + " jobs) failed", e);
      for (int i = 0; i < batch.size(); i++) {
        if (filled[i]) {
          engineFailure(batch.get(i), null);
        }
      }
      return;
    }
    long forwardNanos = System.nanoTime() - f0;
    for (int i = 0; i < batch.size(); i++) {
      if (!filled[i]) {
        continue;
      }
      Active a = batch.get(i);
      StepProgress progress;
      try {
        progress = a.session.acceptOutput(out, offsets[i], forwardNanos);
      } catch (EngineException | RuntimeException e) {
        engineFailure(a, e);
        continue;
      }
      report(a, progress);
    }
  }

  /** Tells the job about its step and completes it when its session is done. */
  private void report(Active a, StepProgress progress) {
    Job job = a.job;
    try {
      job.step(progress);
    } catch (RuntimeException e) {
      // The listener broke its contract (it must not throw); the job cannot be reported further.
      listenerThrew(job, e);
      active.remove(a);
      fail(job, Code.INTERNAL, "engine failure at step " + a.session.evaluationsDone() + " (see server log, request "
          + job.requestId() + ")");
      return;
    }
    if (!a.session.done()) {
      return;
    }
    active.remove(a);
    SamplingResult result = a.session.result();
    boolean completed;
    try {
      completed = job.complete(result);
    } catch (RuntimeException e) {
      // onCompleted threw; the job has ended with its result all the same.
      listenerThrew(job, e);
      completed = true;
    }
    if (completed) {
      synchronized (statsLock) {
        jobsCompleted++;
      }
    }
  }

  /**
   * Fails one job of the current step with INTERNAL; logs {@code cause} unless null (already
   * logged once for the whole batch).
   */
  private void engineFailure(Active a, Throwable cause) {
    int stepNo = a.session.evaluationsDone() + 1;
    if (cause != null) {
      LOG.log(Level.WARNING, "step batcher " + name + ": request " + a.job.requestId() + " failed at step " + stepNo
          + " of " + a.session.totalEvaluations(), cause);
    }
    active.remove(a);
    fail(a.job, Code.INTERNAL, "engine failure at step " + stepNo + " (see server log, request " + a.job.requestId()
        + ")");
  }

  private void fail(Job job, Code code, String message) {
    boolean ended;
    try {
      ended = job.fail(code, message);
    } catch (RuntimeException e) {
      // The listener threw in onFailed; the job has ended regardless.
      listenerThrew(job, e);
      ended = true;
    }
    if (ended) {
      synchronized (statsLock) {
        jobsFailed++;
      }
    }
  }

  /** A listener broke its contract (it must not throw): say so in the log, once per call. */
  private void listenerThrew(Job job, RuntimeException e) {
    LOG.log(Level.ERROR, "step batcher " + name + ": listener of request " + job.requestId() + " threw", e);
  }

  private void failAll(Code code, String message) {
    for (Active a : List.copyOf(active)) {
      fail(a.job, code, message);
    }
    active.clear();
  }

  private void recordForward(int rowCount, int jobs) {
    synchronized (statsLock) {
      forwards++;
      rows += rowCount;
      maxRowsPerForward = Math.max(maxRowsPerForward, rowCount);
      maxJobsPerForward = Math.max(maxJobsPerForward, jobs);
      rowsHistogram[Math.min(rowCount, rowsHistogram.length - 1)]++;
    }
  }

  @Override
  public String toString() {
    return "StepBatcher[" + name + ", " + policy + "]";
  }
}
