package dev.sampler.server.cli;

import io.grpc.Status;

/**
 * The CLI's exit codes. 0, 1 and 2 are shared by every command; 3 to 9 and 130 classify the
 * outcome of a call to a server (gRPC status codes grouped by what a caller does next), so a
 * script can tell "fix the request" from "retry later" from "retry elsewhere" without parsing
 * messages. GenerateCommand's help lists them (an annotation cannot refer to an array here).
 */
final class ExitCode {
  /** Success. */
  static final int OK = 0;
  /** The command failed here (a file, the model, the engine); the message names the step. */
  static final int FAILED = 1;
  /** The command line itself is wrong (picocli's usage error code). */
  static final int USAGE = 2;
  /** The server refused the request as invalid: INVALID_ARGUMENT, NOT_FOUND, OUT_OF_RANGE, FAILED_PRECONDITION, ALREADY_EXISTS. */
  static final int REJECTED = 3;
  /** The server did not accept the caller: UNAUTHENTICATED, PERMISSION_DENIED. */
  static final int AUTH = 4;
  /** Quota or queue full: RESOURCE_EXHAUSTED; retry later. */
  static final int EXHAUSTED = 5;
  /** The server cannot be reached, is not ready, or is shutting down: UNAVAILABLE; retry elsewhere. */
  static final int UNAVAILABLE = 6;
  /** The deadline passed before the request finished: DEADLINE_EXCEEDED. */
  static final int DEADLINE = 7;
  /** The server failed: INTERNAL, UNKNOWN, DATA_LOSS, UNIMPLEMENTED, ABORTED, or a reply that does not check out. */
  static final int SERVER = 8;
  /** The call was cancelled (Ctrl-C, or CANCELLED from the server); 128 + SIGINT, as shells report it. */
  /** Start-up failed at step N (docs/DESIGN.md): exit code 10 + N (11 config ... 17 readiness). */
  static int startup(dev.sampler.server.startup.StartupStep step) {
    return 10 + step.number();
  }

  /** Runtime re-verification found drift and {@code integrity.exit-on-drift} is set. */
  static final int DRIFT = 20;

  static final int CANCELLED = 130;

  private ExitCode() {}

  /** The exit code for a call that ended with {@code code} (never {@link #OK}: OK is not a failure). */
  static int of(Status.Code code) {
    return switch (code) {
      case OK -> SERVER; // a call that "failed" with OK is a protocol violation (no Completed event)
      case INVALID_ARGUMENT, NOT_FOUND, OUT_OF_RANGE, FAILED_PRECONDITION, ALREADY_EXISTS -> REJECTED;
      case UNAUTHENTICATED, PERMISSION_DENIED -> AUTH;
      case RESOURCE_EXHAUSTED -> EXHAUSTED;
      case UNAVAILABLE -> UNAVAILABLE;
      case DEADLINE_EXCEEDED -> DEADLINE;
      case CANCELLED -> CANCELLED;
      case INTERNAL, UNKNOWN, DATA_LOSS, UNIMPLEMENTED, ABORTED -> SERVER;
    };
  }
}
