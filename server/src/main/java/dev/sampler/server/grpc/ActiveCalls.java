package dev.sampler.server.grpc;

import java.time.Duration;

/**
 * Counts calls whose final event has not been written yet, so shutdown can let them finish
 * sending (after the batchers ended their jobs) before the transport stops.
 */
public final class ActiveCalls {
  private int active;

  /** One more call in flight. */
  public synchronized void begin() {
    active++;
  }

  /** A call finished writing. */
  public synchronized void end() {
    active--;
    notifyAll();
  }

  /** Calls in flight. */
  public synchronized int active() {
    return active;
  }

  /** Waits until no call is in flight or {@code timeout} passes; true if none is left. */
  public synchronized boolean awaitNone(Duration timeout) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (active > 0) {
      long left = end - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      wait(Math.max(1, left / 1_000_000));
    }
    return true;
  }
}
