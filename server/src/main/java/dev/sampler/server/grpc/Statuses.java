package dev.sampler.server.grpc;

import dev.sampler.scheduler.Code;
import dev.sampler.scheduler.RejectedException;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.Optional;

/**
 * The one mapping from outcomes to {@link io.grpc.Status}: scheduler {@link Code}s map one to one
 * by number; RESOURCE_EXHAUSTED carries its retry hint in the message and as the trailing metadata
 * {@value #RETRY_AFTER_MS_NAME} (milliseconds, decimal); unexpected exceptions become INTERNAL with
 * a message naming the request id only, the exception going to the server log. No stack trace or
 * internal detail ever reaches a client.
 */
public final class Statuses {
  /** Name of the trailing metadata that carries the retry hint of RESOURCE_EXHAUSTED. */
  public static final String RETRY_AFTER_MS_NAME = "retry-after-ms";

  /** The retry hint's metadata key. */
  public static final Metadata.Key<String> RETRY_AFTER_MS =
      Metadata.Key.of(RETRY_AFTER_MS_NAME, Metadata.ASCII_STRING_MARSHALLER);

  private static final Logger LOG = System.getLogger("dev.sampler.server.grpc");

  private Statuses() {}

  /** The gRPC status code of a scheduler code (same name and number). */
  public static Status.Code code(Code code) {
    return Status.fromCodeValue(code.grpcNumber()).getCode();
  }

  /** A status with {@code code} and {@code message}. */
  public static Status status(Code code, String message) {
    return Status.fromCodeValue(code.grpcNumber()).withDescription(message);
  }

  /**
   * The status of a rejection, with the retry hint appended to the message of RESOURCE_EXHAUSTED
   * ("...; retry after 250 ms").
   */
  public static Status status(RejectedException e) {
    String message = e.getMessage();
    Optional<Duration> retry = e.retryAfter();
    if (e.code() == Code.RESOURCE_EXHAUSTED && retry.isPresent()) {
      message = message + "; retry after " + retryMillis(retry.get()) + " ms";
    }
    return status(e.code(), message);
  }

  /** Trailing metadata for a rejection: {@value #RETRY_AFTER_MS_NAME} when it has a retry hint. */
  public static Metadata trailers(RejectedException e) {
    Metadata m = new Metadata();
    if (e.code() == Code.RESOURCE_EXHAUSTED) {
      e.retryAfter().ifPresent(d -> m.put(RETRY_AFTER_MS, Long.toString(retryMillis(d))));
    }
    return m;
  }

  /** A rejection as the exception a stub throws to its caller. */
  public static StatusRuntimeException exception(RejectedException e) {
    return status(e).asRuntimeException(trailers(e));
  }

  /** A failure with {@code code} and a client-safe {@code message}. */
  public static StatusRuntimeException exception(Code code, String message) {
    return status(code, message).asRuntimeException();
  }

  /**
   * An unexpected failure: logged here with its stack trace under {@code requestId}; the client
   * gets INTERNAL with a message naming only the request id.
   */
  public static StatusRuntimeException internal(Throwable t, String what, String requestId) {
    LOG.log(Level.ERROR, () -> what + " failed for request " + (requestId == null ? "(none)" : requestId), t);
    return Status.INTERNAL.withDescription("internal error while " + what + (requestId == null ? ""
        : "; the server log has the details under request id " + requestId)).asRuntimeException();
  }

  private static long retryMillis(Duration d) {
    return Math.max(1, (d.toNanos() + 999_999) / 1_000_000);
  }
}
