package dev.sampler.scheduler.admission;

import dev.sampler.scheduler.Code;
import dev.sampler.scheduler.Tenant;
import java.util.Map;
import java.util.Objects;

/**
 * A snapshot of an {@link AdmissionController} for metrics. Totals count since the controller was
 * made; every admitted job ends up in exactly one of completed, dropped or failed.
 *
 * @param queued jobs waiting now
 * @param running jobs handed to a batcher and not yet ended
 * @param admitted jobs admitted
 * @param started jobs handed to a batcher
 * @param completed jobs that ended with a result
 * @param rejected refusals at the door by code (including invalid requests the edge reported)
 * @param dropped jobs ended without a result by cancellation, deadline or shutdown, by code
 * @param failed jobs that failed in the engine, by code
 * @param tenants per-tenant state of the tenants the controller currently tracks (idle tenants at
 *     full tokens with no throttle are forgotten)
 */
public record AdmissionStats(int queued, int running, long admitted, long started, long completed,
    Map<Code, Long> rejected, Map<Code, Long> dropped, Map<Code, Long> failed, Map<Tenant, TenantStats> tenants) {

  /** Copies the maps. */
  public AdmissionStats {
    rejected = Map.copyOf(Objects.requireNonNull(rejected, "rejected"));
    dropped = Map.copyOf(Objects.requireNonNull(dropped, "dropped"));
    failed = Map.copyOf(Objects.requireNonNull(failed, "failed"));
    tenants = Map.copyOf(Objects.requireNonNull(tenants, "tenants"));
  }

  /** Refusals of all codes. */
  public long rejectedTotal() {
    return rejected.values().stream().mapToLong(Long::longValue).sum();
  }

  /** Jobs ended: completed plus dropped plus failed. */
  public long endedTotal() {
    return completed + dropped.values().stream().mapToLong(Long::longValue).sum()
        + failed.values().stream().mapToLong(Long::longValue).sum();
  }

  /**
   * One tenant's state.
   *
   * @param queued its jobs waiting
   * @param running its jobs running
   * @param throttleFactor the adaptive throttle's factor on its rate (1: not throttled)
   * @param tokens tokens in its bucket now
   */
  public record TenantStats(int queued, int running, double throttleFactor, double tokens) {}
}
