package dev.sampler.server.startup;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * Runtime re-verification (after start-up step 7): re-hashes what was verified at start-up on a
 * jittered period and on demand, and reports drift once to {@code onDrift}.
 *
 * <p>Each registered {@link Check} compares something live with its golden value: a model's
 * configuration files on disk against the signed manifest, and its weights as the backend holds
 * them now (read back) against the digest taken right after the verified upload. Runs are
 * serialised; a run that finds drift calls {@code onDrift} (the server then goes NOT_SERVING,
 * records the event, and exits if so configured) and later runs keep reporting until restart.
 */
public final class Reverifier implements AutoCloseable {
  private static final Logger LOG = System.getLogger("dev.sampler.server.integrity");

  /** One thing to re-verify. */
  public interface Check {
    /** What is checked, e.g. "model demo: weights as loaded". */
    String name();

    /**
     * Re-hashes and compares.
     *
     * @return null if it matches, else what differs (no secret, no content)
     * @throws Exception if it cannot be checked (counted as drift: what cannot be checked is not
     *     trusted)
     */
    String verify() throws Exception;
  }

  /** The outcome of one run. */
  public record Result(long run, int checks, List<String> drift, long nanos) {
    /** True if every check matched. */
    public boolean ok() {
      return drift.isEmpty();
    }
  }

  private final List<Check> checks = new ArrayList<>();
  private final Duration period;
  private final double jitter;
  private final Consumer<Result> onDrift;
  private final ReentrantLock runLock = new ReentrantLock();
  private final AtomicLong runs = new AtomicLong();
  private final SecureRandom random = new SecureRandom();
  private volatile Result last;
  private volatile boolean closed;
  private Thread timer;

  /**
   * @param period the mean wait between periodic runs; zero: on demand only
   * @param jitter each wait is {@code period * (1 + u)} with {@code u} uniform in {@code [-jitter,
   *     jitter]}
   * @param onDrift called after a run that found drift
   */
  public Reverifier(Duration period, double jitter, Consumer<Result> onDrift) {
    this.period = Objects.requireNonNull(period, "period");
    this.jitter = jitter;
    this.onDrift = Objects.requireNonNull(onDrift, "onDrift");
  }

  /** Adds a check (before {@link #start}). */
  public synchronized Reverifier add(Check check) {
    checks.add(Objects.requireNonNull(check, "check"));
    return this;
  }

  /** Starts the periodic runs (a daemon thread), unless the period is zero. */
  public synchronized void start() {
    if (period.isZero() || timer != null) {
      return;
    }
    timer = Thread.ofPlatform().daemon().name("sampler-reverify").start(() -> {
      while (!closed) {
        try {
          Thread.sleep(nextWait());
        } catch (InterruptedException e) {
          return;
        }
        if (!closed) {
          runNow();
        }
      }
    });
  }

  /** The next wait: the period scaled by a uniform factor in [1 - jitter, 1 + jitter]. */
  Duration nextWait() {
    double factor = 1 + jitter * (2 * random.nextDouble() - 1);
    return Duration.ofNanos(Math.max(1_000_000L, (long) (period.toNanos() * factor)));
  }

  /** Runs every check now (waiting for a run in progress) and returns the result. */
  public Result runNow() {
    runLock.lock();
    try {
      long t0 = System.nanoTime();
      List<Check> copy;
      synchronized (this) {
        copy = List.copyOf(checks);
      }
      List<String> drift = new ArrayList<>();
      for (Check c : copy) {
        try {
          String d = c.verify();
          if (d != null) {
            drift.add(c.name() + ": " + d);
          }
        } catch (Exception e) {
          drift.add(c.name() + ": cannot be re-verified: " + e.getMessage());
        }
      }
      Result r = new Result(runs.incrementAndGet(), copy.size(), List.copyOf(drift), System.nanoTime() - t0);
      last = r;
      if (r.ok()) {
        LOG.log(Level.DEBUG, "re-verification " + r.run() + ": " + r.checks() + " checks match");
      } else {
        LOG.log(Level.ERROR, "INTEGRITY DRIFT in re-verification " + r.run() + ": " + String.join("; ", r.drift()));
        onDrift.accept(r);
      }
      return r;
    } finally {
      runLock.unlock();
    }
  }

  /** The last run's result, or null before the first. */
  public Result last() {
    return last;
  }

  /** Stops the periodic runs. */
  @Override
  public synchronized void close() {
    closed = true;
    if (timer != null) {
      timer.interrupt();
    }
  }
}
