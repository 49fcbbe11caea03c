package dev.sampler.scheduler.batch;

/**
 * How a {@link StepBatcher} fills its UNet forwards.
 *
 * @param enabled true: step-level continuous batching (jobs join and leave between steps, their
 *     rows share each forward up to {@code maxRows}); false: one job at a time, each forward holds
 *     that job's rows only (the "batching off" baseline)
 * @param maxRows the most model rows per forward (a guided image takes two rows); a job with more
 *     rows than this still runs, alone, when the batcher is otherwise idle
 * @param maxActiveRows the most rows of started jobs the batcher holds (at least {@code maxRows});
 *     jobs beyond one forward's worth wait between steps with their state kept, so a newly
 *     arriving tenant can join the next forward instead of waiting for another tenant's job to end
 * @param fairRows latency-fair batch composition: while several tenants have started jobs, each
 *     tenant's rows in one forward are capped at the smallest of those tenants' row demands (and
 *     at {@code maxRows / tenants}), never below one job; so a light tenant's step costs about as
 *     much as when it runs alone, whatever a greedy tenant sends. False: every forward packs
 *     started jobs in start order up to {@code maxRows}, for the most rows per forward
 */
public record BatchingPolicy(boolean enabled, int maxRows, int maxActiveRows, boolean fairRows) {
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
    if (maxActiveRows < maxRows || maxActiveRows > 16 * LIMIT_MAX_ROWS) {
      throw new IllegalArgumentException("batching max active rows must be " + maxRows + " (max rows).."
          + 16 * LIMIT_MAX_ROWS + ", got " + maxActiveRows);
    }
  }

  /**
   * Batching with {@code maxActiveRows = 4 * maxRows} and latency-fair composition on.
   *
   * @throws IllegalArgumentException if {@code maxRows} is outside 1..{@value #LIMIT_MAX_ROWS}
   */
  public BatchingPolicy(boolean enabled, int maxRows) {
    this(enabled, maxRows, 4 * Math.max(1, maxRows), true);
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
