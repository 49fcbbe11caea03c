package dev.sampler.scheduler;

/**
 * Outcome codes of admission and execution. Each has the name and number of the gRPC status code
 * the server maps it to (google.rpc.Code), so the mapping is one to one and testable.
 */
public enum Code {
  /** The client cancelled (gRPC 1). */
  CANCELLED(1),
  /** A field is malformed or out of range (gRPC 3). */
  INVALID_ARGUMENT(3),
  /** The deadline passed before the work could finish (gRPC 4). */
  DEADLINE_EXCEEDED(4),
  /** No such model (gRPC 5). */
  NOT_FOUND(5),
  /** The tenant may not do this (gRPC 7). */
  PERMISSION_DENIED(7),
  /** A quota, rate limit, concurrency limit or the queue is full; retry later (gRPC 8). */
  RESOURCE_EXHAUSTED(8),
  /** The engine failed (gRPC 13); details stay in the server log. */
  INTERNAL(13),
  /** Not ready, shutting down, or drifted; retry elsewhere (gRPC 14). */
  UNAVAILABLE(14);

  private final int grpc;

  Code(int grpc) {
    this.grpc = grpc;
  }

  /** The google.rpc.Code number. */
  public int grpcNumber() {
    return grpc;
  }
}
