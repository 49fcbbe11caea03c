package dev.sampler.scheduler.batch;

import java.util.Arrays;

/**
 * A snapshot of a {@link StepBatcher}'s counters since it was built. A job's end is counted after
 * its listener returns, so a snapshot taken the moment a client hears of its result may not count
 * it yet; after {@link StepBatcher#close()} every counter is final.
 *
 * @param forwards UNet forwards run (including ones that failed)
 * @param rows model rows over all forwards (their sum)
 * @param maxRowsPerForward most rows seen in one forward
 * @param maxJobsPerForward most jobs whose rows shared one forward
 * @param rowsHistogram {@code rowsHistogram[k]} = forwards that held {@code k} rows, for {@code k}
 *     in 1..maxRows; the last element counts forwards of more than maxRows rows (a large job run
 *     alone); element 0 is always 0
 * @param jobsStarted jobs taken from the source
 * @param jobsCompleted jobs that ended with a result
 * @param jobsFailed jobs the batcher ended with a failure (cancelled, deadline, engine failure,
 *     shutdown)
 * @param busyNanos wall time spent preparing and running steps (everything except waiting for work)
 */
public record BatcherStats(long forwards, long rows, int maxRowsPerForward, int maxJobsPerForward,
    long[] rowsHistogram, long jobsStarted, long jobsCompleted, long jobsFailed, long busyNanos) {
  public BatcherStats {
    rowsHistogram = rowsHistogram.clone();
  }

  /** A copy of the histogram. */
  @Override
  public long[] rowsHistogram() {
    return rowsHistogram.clone();
  }

  /** Mean rows per forward (0 before the first forward). */
  public double meanRowsPerForward() {
    return forwards == 0 ? 0 : (double) rows / forwards;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof BatcherStats s && forwards == s.forwards && rows == s.rows
        && maxRowsPerForward == s.maxRowsPerForward && maxJobsPerForward == s.maxJobsPerForward
        && Arrays.equals(rowsHistogram, s.rowsHistogram) && jobsStarted == s.jobsStarted
        && jobsCompleted == s.jobsCompleted && jobsFailed == s.jobsFailed && busyNanos == s.busyNanos;
  }

  @Override
  public int hashCode() {
    return Long.hashCode(forwards) * 31 + Arrays.hashCode(rowsHistogram);
  }

  @Override
  public String toString() {
    StringBuilder h = new StringBuilder();
    for (int k = 1; k < rowsHistogram.length; k++) {
      if (rowsHistogram[k] != 0) {
        h.append(h.isEmpty() ? "" : ", ").append(k == rowsHistogram.length - 1 ? ">" + (k - 1) : k).append(':')
            .append(rowsHistogram[k]);
      }
    }
    return String.format("BatcherStats[forwards=%d, rows=%d (mean %.2f, max %d), max jobs/forward=%d, "
        + "rows histogram {%s}, jobs started=%d completed=%d failed=%d, busy=%.3f s]", forwards, rows,
        meanRowsPerForward(), maxRowsPerForward, maxJobsPerForward, h, jobsStarted, jobsCompleted, jobsFailed,
        busyNanos / 1e9);
  }
}
