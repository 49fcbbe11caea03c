package dev.sampler.scheduler.batch;

/**
 * How a {@link StepBatcher} fills its UNet forwards.
 *
 * @param enabled true: step-level continuous batching (jobs join and leave between steps, their
 *     rows share each forward up to {@code maxRows}); false: one job at a time, each forward holds
 *     that job's rows only (the "batching off" baseline)
 * @param maxRows the most model rows per forward (a guided image takes two rows); a job with more
 *     rows than this still runs, alone, when the batcher is otherwise idle
 */
public record BatchingPolicy(boolean enabled, int maxRows) {
  /** Rows per forward unless configured otherwise. */
  public static final int DEFAULT_MAX_ROWS = 32;

  /** Upper bound on {@code maxRows}: far above any useful batch, low enough to catch a typo. */
  public static final int LIMIT_MAX_ROWS = 4096;

  /**
   * @throws IllegalArgumentException if {@code maxRows} is outside 1..{@value #LIMIT_MAX_ROWS}
   */
  public BatchingPolicy {
    if (maxRows < 1 || maxRows > LIMIT_MAX_ROWS) {
      throw new IllegalArgumentException("batching max rows must be 1.." + LIMIT_MAX_ROWS + ", got " + maxRows);
    }
  }

  /** Batching on with {@value #DEFAULT_MAX_ROWS} rows per forward. */
  public static BatchingPolicy defaults() {
    return new BatchingPolicy(true, DEFAULT_MAX_ROWS);
  }

  /** Batching off: one job at a time ({@code maxRows} still bounds what an idle poll asks for). */
  public static BatchingPolicy off() {
    return new BatchingPolicy(false, DEFAULT_MAX_ROWS);
  }
}
