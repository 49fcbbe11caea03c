package dev.sampler.server.cli;

import io.grpc.Status;

/**
 * A call to a sampler server that did not complete: carries the gRPC status code, the server's
 * message (or the client's own, for a reply that does not check out) and the exit code it maps
 * to. The message never contains the request's seed or token: the server promises not to echo
 * them, and the client never puts them in.
 */
final class RemoteCallException extends Exception {
  private static final long serialVersionUID = 1L;

  private final Status.Code code;
  private final int exitCode;

  /** A call that ended with {@code status}. */
  RemoteCallException(Status status) {
    this(status.getCode(), describe(status), ExitCode.of(status.getCode()));
  }

  /** A failure with an explicit code, message and exit code (replies that do not check out). */
  RemoteCallException(Status.Code code, String message, int exitCode) {
    super(code + ": " + message);
    this.code = code;
    this.exitCode = exitCode;
  }

  /** The gRPC status code the call ended with. */
  Status.Code code() {
    return code;
  }

  /** The CLI exit code for this failure (see {@link ExitCode}). */
  int exitCode() {
    return exitCode;
  }

  private static String describe(Status s) {
    String d = s.getDescription();
    // Transport failures carry their reason in the cause (connection refused, TLS handshake).
    Throwable c = s.getCause();
    String cause = c != null && c.getMessage() != null ? c.getMessage() : null;
    if (d == null || d.isBlank()) {
      return cause != null ? cause : "(no message)";
    }
    return cause != null && !d.contains(cause) ? d + " (" + cause + ")" : d;
  }
}
