package dev.sampler.scheduler;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * A request was not admitted (or was removed before it started). The message is safe to send to
 * the client: it names the limit or field, never internal state of other tenants or secrets.
 */
public final class RejectedException extends Exception {
  private final Code code;
  private final Duration retryAfter;

  /**
   * @param retryAfter when the client may usefully retry (RESOURCE_EXHAUSTED), or null
   */
  public RejectedException(Code code, String message, Duration retryAfter) {
    super(message, null, false, false);
    this.code = Objects.requireNonNull(code, "code");
    this.retryAfter = retryAfter;
  }

  public RejectedException(Code code, String message) {
    this(code, message, null);
  }

  /** The outcome code. */
  public Code code() {
    return code;
  }

  /** The retry hint, if any. */
  public Optional<Duration> retryAfter() {
    return Optional.ofNullable(retryAfter);
  }
}
