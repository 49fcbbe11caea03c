package dev.sampler.scheduler;

import dev.sampler.engine.sampling.SamplingResult;
import dev.sampler.engine.sampling.StepProgress;
import dev.sampler.engine.schedule.NoiseSource;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One admitted unit of work: a validated {@link GenerationSpec} for a {@link Tenant}, its own noise
 * source, an optional deadline, and the listener that reports its life. A job ends exactly once,
 * through {@link #complete} or {@link #fail}, whoever calls first (the batcher, the queue on expiry
 * or cancellation, shutdown); later calls are ignored. Ending a job runs its finish hooks (the
 * admission controller frees the tenant's concurrency slot there) and closes its resources (the
 * noise stream and any secret seed).
 */
public final class Job {
  private final Tenant tenant;
  private final GenerationSpec spec;
  private volatile NoiseSource noise;
  private final long deadlineNanos;
  private final JobListener listener;
  private volatile AutoCloseable resources;
  private final long createdNanos = System.nanoTime();
  private final AtomicBoolean cancelled = new AtomicBoolean();
  private final AtomicBoolean ended = new AtomicBoolean();
  private final CopyOnWriteArrayList<Runnable> finishHooks = new CopyOnWriteArrayList<>();
  private volatile long startedNanos;
  // written before the finish hooks run, so a hook can tell how the job ended
  private volatile Code endCode;
  private volatile String endMessage;

  /**
   * @param deadlineNanos {@link System#nanoTime()} after which the job must not start or continue;
   *     {@link Long#MAX_VALUE} for none
   * @param resources closed when the job ends (may be null)
   */
  public Job(Tenant tenant, GenerationSpec spec, NoiseSource noise, long deadlineNanos, JobListener listener,
      AutoCloseable resources) {
    this.tenant = Objects.requireNonNull(tenant, "tenant");
    this.spec = Objects.requireNonNull(spec, "spec");
    this.noise = Objects.requireNonNull(noise, "noise");
    this.deadlineNanos = deadlineNanos;
    this.listener = Objects.requireNonNull(listener, "listener");
    this.resources = resources;
  }

  public Tenant tenant() {
    return tenant;
  }

  public GenerationSpec spec() {
    return spec;
  }

  public String requestId() {
    return spec.requestId();
  }

  /** The job's own noise; never shared. Null once the job has ended. */
  public NoiseSource noise() {
    return noise;
  }

  /** Model rows per evaluation (images, doubled when guided). */
  public int rows() {
    return spec.rows();
  }

  /** Deadline on the {@link System#nanoTime()} scale, or {@link Long#MAX_VALUE}. */
  public long deadlineNanos() {
    return deadlineNanos;
  }

  /** True if the deadline has passed at {@code nowNanos}. */
  public boolean expired(long nowNanos) {
    return deadlineNanos != Long.MAX_VALUE && nowNanos - deadlineNanos >= 0;
  }

  /** When the job was created ({@link System#nanoTime()}). */
  public long createdNanos() {
    return createdNanos;
  }

  /** When a batcher started it, or 0. */
  public long startedNanos() {
    return startedNanos;
  }

  /** Asks the job to stop: a queued job is removed, a running one stops before its next step. */
  public void cancel() {
    cancelled.set(true);
  }

  public boolean cancelled() {
    return cancelled.get();
  }

  /** True once the job ended. */
  public boolean ended() {
    return ended.get();
  }

  /**
   * How the job ended: the code it {@linkplain #fail failed} with, or null if it completed or has
   * not ended. Set before the finish hooks run, so a hook sees the final value.
   */
  public Code endCode() {
    return endCode;
  }

  /** The message the job {@linkplain #fail failed} with (safe for the client), or null. */
  public String endMessage() {
    return endMessage;
  }

  /** Adds a hook run once when the job ends (immediately if it already ended). */
  public void onFinish(Runnable hook) {
    finishHooks.add(hook);
    if (ended.get() && finishHooks.remove(hook)) {
      hook.run();
    }
  }

  /** Reports a queue position (ignored once started or ended). */
  public void queued(int position) {
    if (startedNanos == 0 && !ended.get()) {
      listener.onQueued(position);
    }
  }

  /** Marks the job started and tells the listener. */
  public void started() {
    startedNanos = System.nanoTime();
    listener.onStarted();
  }

  /** Reports a step. */
  public void step(StepProgress progress) {
    if (!ended.get()) {
      listener.onStep(progress);
    }
  }

  /** Ends the job with a result; false if it had already ended. */
  public boolean complete(SamplingResult result) {
    if (!ended.compareAndSet(false, true)) {
      return false;
    }
    try {
      listener.onCompleted(result);
    } finally {
      end();
    }
    return true;
  }

  /** Ends the job with a failure; false if it had already ended. */
  public boolean fail(Code code, String message) {
    if (!ended.compareAndSet(false, true)) {
      return false;
    }
    endCode = code;
    endMessage = message;
    try {
      listener.onFailed(code, message);
    } finally {
      end();
    }
    return true;
  }

  private void end() {
    for (Runnable hook : finishHooks) {
      if (finishHooks.remove(hook)) {
        hook.run();
      }
    }
    AutoCloseable r = resources;
    // Drop the references too: whoever still holds the ended job (Helidon 4.5.0 keeps every ended
    // gRPC stream of a live connection, and with it the call's listener and this job) must not keep
    // the noise stream's buffers and DRBG state reachable.
    resources = null;
    noise = null;
    if (r != null) {
      try {
        r.close();
      } catch (Exception e) {
        // closing a noise stream or zeroing a seed does not fail in practice; nothing to report
      }
    }
  }

  @Override
  public String toString() {
    return "Job[" + tenant + "/" + spec.requestId() + ", " + spec.rows() + " rows x " + spec.steps() + " steps]";
  }
}
