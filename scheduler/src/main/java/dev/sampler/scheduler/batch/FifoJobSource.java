package dev.sampler.scheduler.batch;

import dev.sampler.scheduler.Code;
import dev.sampler.scheduler.Job;
import dev.sampler.scheduler.JobSource;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A first-in first-out {@link JobSource} without admission control: no rates, quotas or fairness
 * between tenants, no bound on its length. For tests, benchmarks and single-user embedding; the
 * server feeds its batchers from the admission controller's weighted-fair queue instead.
 *
 * <p>{@link #poll} hands out the oldest job whose rows fit, or, when the batcher is idle, the
 * oldest job at all. As the {@link JobSource} contract says, it ends cancelled jobs ({@link
 * Code#CANCELLED} "cancelled while queued") and expired ones ({@link Code#DEADLINE_EXCEEDED}
 * "deadline passed while queued") itself instead of handing them out, and marks every job it
 * hands out {@linkplain Job#started() started}. Thread-safe.
 */
public final class FifoJobSource implements JobSource, AutoCloseable {
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition arrived = lock.newCondition();
  private final ArrayDeque<Job> queue = new ArrayDeque<>();
  private boolean closed;

  /**
   * Appends {@code job}. After {@link #close()} the job is failed at once with {@link
   * Code#UNAVAILABLE} "{@value StepBatcher#SHUTTING_DOWN}".
   */
  public void submit(Job job) {
    Objects.requireNonNull(job, "job");
    lock.lock();
    try {
      if (!closed) {
        queue.add(job);
        arrived.signalAll();
        return;
      }
    } finally {
      lock.unlock();
    }
    job.fail(Code.UNAVAILABLE, StepBatcher.SHUTTING_DOWN);
  }

  /** Jobs waiting (including cancelled or expired ones not yet swept by a poll). */
  public int size() {
    lock.lock();
    try {
      return queue.size();
    } finally {
      lock.unlock();
    }
  }

  @Override
  public Job poll(int freeRows, boolean idle, long timeout, TimeUnit unit) throws InterruptedException {
    long nanos = unit.toNanos(timeout);
    lock.lockInterruptibly();
    try {
      while (true) {
        long now = System.nanoTime();
        for (Iterator<Job> it = queue.iterator(); it.hasNext(); ) {
          Job job = it.next();
          if (job.ended()) {
            it.remove();
          } else if (job.cancelled()) {
            it.remove();
            job.fail(Code.CANCELLED, "cancelled while queued");
          } else if (job.expired(now)) {
            it.remove();
            job.fail(Code.DEADLINE_EXCEEDED, "deadline passed while queued");
          } else if (job.rows() <= freeRows || idle) {
            it.remove();
            job.started();
            return job;
          }
        }
        if (nanos <= 0) {
          return null;
        }
        nanos = arrived.awaitNanos(nanos);
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Refuses further jobs and fails every waiting one with {@link Code#UNAVAILABLE} "{@value
   * StepBatcher#SHUTTING_DOWN}". Idempotent.
   */
  @Override
  public void close() {
    Job[] waiting;
    lock.lock();
    try {
      closed = true;
      waiting = queue.toArray(Job[]::new);
      queue.clear();
    } finally {
      lock.unlock();
    }
    // Outside the lock: a job's listener may call back into this source.
    for (Job job : waiting) {
      job.fail(Code.UNAVAILABLE, StepBatcher.SHUTTING_DOWN);
    }
  }
}
