package dev.sampler.scheduler;

import java.time.Duration;

/**
 * One admission or scheduling decision, recorded for every request (the telemetry issue exports
 * them as span events and metrics). Events carry tenant and request ids, codes and sizes; never a
 * seed or any request payload.
 */
public sealed interface AdmissionEvent {
  /** The tenant the decision concerns. */
  Tenant tenant();

  /** Nanosecond timestamp ({@link System#nanoTime()} scale) of the decision. */
  long atNanos();

  /** Admitted into the queue at {@code queuePosition} (0-based) of a queue holding {@code queueDepth}. */
  record Admitted(Tenant tenant, String requestId, int rows, int steps, int queuePosition, int queueDepth,
      long atNanos) implements AdmissionEvent {}

  /** Refused at the door (validation, rate, burst, concurrency, queue full, shutting down). */
  record Rejected(Tenant tenant, String requestId, Code code, String reason, Duration retryAfter, long atNanos)
      implements AdmissionEvent {}

  /** Dequeued and handed to a batcher after waiting {@code queuedNanos}. */
  record Started(Tenant tenant, String requestId, long queuedNanos, long atNanos) implements AdmissionEvent {}

  /** Removed from the queue (or stopped) without completing: cancelled, deadline passed, evicted. */
  record Dropped(Tenant tenant, String requestId, Code code, String reason, boolean started, long atNanos)
      implements AdmissionEvent {}

  /** Finished successfully. */
  record Completed(Tenant tenant, String requestId, long runNanos, long atNanos) implements AdmissionEvent {}

  /** Failed inside the engine after it started. */
  record Failed(Tenant tenant, String requestId, Code code, long atNanos) implements AdmissionEvent {}

  /**
   * The adaptive throttle changed a tenant's effective rate: {@code factor} multiplies the
   * configured rate (1 = no throttle), because of {@code reason} (e.g. "12 invalid requests in 10 s").
   */
  record Throttled(Tenant tenant, double factor, String reason, long atNanos) implements AdmissionEvent {}
}
