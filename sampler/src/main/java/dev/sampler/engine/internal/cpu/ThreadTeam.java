package dev.sampler.engine.internal.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed team of compute threads: the caller plus {@code size - 1} daemon workers. {@link #run}
 * hands out task indices dynamically (an atomic counter), so a worker the OS has descheduled on a
 * busy machine simply takes fewer tasks instead of stalling the operation. Workers spin briefly
 * between jobs (operations come back-to-back in a forward pass) and then park.
 */
final class ThreadTeam implements AutoCloseable {
  /** The body of a parallel loop: task index, and the id ({@code 0..size-1}) of the running thread. */
  @FunctionalInterface
  interface Body {
    void run(int task, int worker);
  }

  private static final long SPIN_NANOS = 200_000;

  private static final class Job {
    final Body body;
    final int tasks;
    final AtomicInteger next = new AtomicInteger();
    final AtomicInteger done = new AtomicInteger();
    volatile Throwable failure;

    Job(Body body, int tasks) {
      this.body = body;
      this.tasks = tasks;
    }

    /** Runs tasks until none are left. */
    void work(int worker) {
      int i;
      while ((i = next.getAndIncrement()) < tasks) {
        try {
          if (failure == null) {
            body.run(i, worker);
          }
        } catch (Throwable t) {
          if (failure == null) {
            failure = t;
          }
        } finally {
          done.incrementAndGet();
        }
      }
    }
  }

  private final int size;
  private final Thread[] workers;
  private volatile Job current;
  private volatile boolean closed;

  ThreadTeam(int size, String namePrefix) {
    this.size = size;
    this.workers = new Thread[size - 1];
    for (int i = 0; i < workers.length; i++) {
      int id = i + 1;
      Thread t = new Thread(() -> loop(id), namePrefix + id);
      t.setDaemon(true);
      workers[i] = t;
      t.start();
    }
  }

  int size() {
    return size;
  }

  /** Runs {@code body} for every task index in {@code [0, tasks)} and returns when all are done. */
  void run(int tasks, Body body) {
    if (tasks <= 0) {
      return;
    }
    if (size == 1 || tasks == 1) {
      for (int i = 0; i < tasks; i++) {
        body.run(i, 0);
      }
      return;
    }
    Job job = new Job(body, tasks);
    current = job;
    for (Thread w : workers) {
      LockSupport.unpark(w);
    }
    job.work(0);
    long spins = 0;
    while (job.done.get() < tasks) {
      if (++spins < 20_000) {
        Thread.onSpinWait();
      } else {
        LockSupport.parkNanos(this, 20_000);
      }
    }
    Throwable f = job.failure;
    if (f != null) {
      if (f instanceof RuntimeException re) {
        throw re;
      }
      if (f instanceof Error er) {
        throw er;
      }
      throw new IllegalStateException(f);
    }
  }

  private void loop(int id) {
    Job last = null;
    while (!closed) {
      Job job = current;
      if (job != null && job != last) {
        last = job;
        job.work(id);
        continue;
      }
      long start = System.nanoTime();
      while (current == last && !closed && System.nanoTime() - start < SPIN_NANOS) {
        Thread.onSpinWait();
      }
      if (current == last && !closed) {
        LockSupport.park(this);
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    for (Thread w : workers) {
      LockSupport.unpark(w);
    }
  }
}
