package dev.sampler.scheduler.admission;

/**
 * Limits and share of one tenant.
 *
 * <p>A request costs one token of a bucket that refills at {@code ratePerSecond} and holds at most
 * {@code burst} tokens (the adaptive throttle scales both by its factor). {@code maxConcurrent}
 * bounds the tenant's jobs in flight, queued plus running; {@code maxQueued} bounds the queued ones
 * alone. There is no separate cap on running jobs: weighted-fair dequeue already shares the batcher
 * whenever another tenant waits, and a running cap would leave rows idle when the tenant is alone.
 *
 * @param weight share in weighted-fair dequeue (a tenant of weight 2 gets twice the rows x steps of
 *     a tenant of weight 1 while both wait); finite, above 0
 * @param ratePerSecond token refill rate, requests per second; finite, above 0
 * @param burst bucket capacity, at least 1
 * @param maxConcurrent queued plus running jobs at most, at least 1
 * @param maxQueued queued jobs at most, at least 1
 */
public record TenantPolicy(double weight, double ratePerSecond, int burst, int maxConcurrent, int maxQueued) {
  /**
   * @throws IllegalArgumentException naming the first field out of range
   */
  public TenantPolicy {
    if (!Double.isFinite(weight) || weight <= 0) {
      throw new IllegalArgumentException("tenant weight must be a finite number above 0, got " + weight);
    }
    if (!Double.isFinite(ratePerSecond) || ratePerSecond <= 0) {
      throw new IllegalArgumentException("tenant rate must be a finite number of requests/s above 0, got "
          + ratePerSecond);
    }
    if (burst < 1) {
      throw new IllegalArgumentException("tenant burst must be at least 1, got " + burst);
    }
    if (maxConcurrent < 1) {
      throw new IllegalArgumentException("tenant max concurrent must be at least 1, got " + maxConcurrent);
    }
    if (maxQueued < 1) {
      throw new IllegalArgumentException("tenant max queued must be at least 1, got " + maxQueued);
    }
  }

  /**
   * Weight 1, 20 requests/s with burst 40, 32 jobs in flight of which 32 may wait: enough for the
   * issue's load run (64 streams over 4 tenants) without rejections, tight enough that one tenant
   * cannot fill the default 256-job queue alone.
   */
  public static TenantPolicy defaults() {
    return new TenantPolicy(1, 20, 40, 32, 32);
  }
}
