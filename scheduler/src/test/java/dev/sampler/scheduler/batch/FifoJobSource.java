package dev.sampler.scheduler.batch;

import dev.sampler.scheduler.Code;
import dev.sampler.scheduler.Job;
import dev.sampler.scheduler.JobSource;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A first-in first-out {@link JobSource} for the batcher's tests (the real one, weighted-fair, is
 * the admission controller's): hands out the oldest job that fits, or the oldest job at all when
 * the batcher is idle; ends cancelled and expired jobs itself, as the contract says.
 */
final class FifoJobSource implements JobSource {
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition arrived = lock.newCondition();
  private final ArrayDeque<Job> queue = new ArrayDeque<>();

  void submit(Job job) {
    lock.lock();
    try {
      queue.add(job);
      arrived.signalAll();
    } finally {
      lock.unlock();
    }
  }

  int size() {
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
}
