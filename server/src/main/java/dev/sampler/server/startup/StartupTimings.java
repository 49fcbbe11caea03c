package dev.sampler.server.startup;

import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;

/**
 * How long each start-up step took, measured on the server's monotonic clock from the moment the
 * server object started ({@link #begin}); steps run once per model add up. Thread-safe.
 */
public final class StartupTimings {
  private final Map<StartupStep, Long> nanos = new EnumMap<>(StartupStep.class);
  private final long startNanos;
  private long readyNanos = -1;

  /** Starts the clock now ({@code nowNanos} from {@link System#nanoTime()}). */
  public StartupTimings(long nowNanos) {
    this.startNanos = nowNanos;
  }

  /** Adds {@code elapsedNanos} to {@code step}. */
  public synchronized void add(StartupStep step, long elapsedNanos) {
    nanos.merge(step, elapsedNanos, Long::sum);
  }

  /** Marks the moment the server became ready. */
  public synchronized void ready(long nowNanos) {
    readyNanos = nowNanos;
  }

  /** The time spent in {@code step} so far, in nanoseconds (0 if it has not run). */
  public synchronized long nanos(StartupStep step) {
    return nanos.getOrDefault(step, 0L);
  }

  /** Nanoseconds from the start to readiness, or -1 if not ready. */
  public synchronized long totalNanos() {
    return readyNanos < 0 ? -1 : readyNanos - startNanos;
  }

  /** A copy of the per-step times. */
  public synchronized Map<StartupStep, Long> snapshot() {
    return new EnumMap<>(nanos);
  }

  /** "config 3 ms, sandbox 1 ms, integrity 40 ms, ...; total 2,140 ms". */
  @Override
  public synchronized String toString() {
    StringJoiner j = new StringJoiner(", ");
    for (StartupStep s : StartupStep.values()) {
      if (nanos.containsKey(s)) {
        j.add(String.format(Locale.ROOT, "%d %s %.1f ms", s.number(), s.label(), nanos.get(s) / 1e6));
      }
    }
    return j + (readyNanos < 0 ? "" : String.format(Locale.ROOT, "; total %.1f ms", (readyNanos - startNanos) / 1e6));
  }
}
