package dev.sampler.attestation.kbs;

import dev.sampler.attestation.AttestationException;
import java.util.Objects;

/**
 * A failed RCAR fetch from a key broker. It names the {@link Step}, the HTTP status (0 when no
 * response was involved) and the broker's error Variant parsed from its error body (null when
 * there was none or it did not parse). It never carries response bodies, nonces' derived secrets
 * or key bytes.
 */
public final class KbsException extends AttestationException {
  private static final long serialVersionUID = 1L;

  /** The protocol step that failed. */
  public enum Step {
    /** Reaching the broker (connection refused, connect timeout, TLS handshake). */
    CONNECT,
    /** {@code POST /auth}: Request -> Challenge and session cookie. */
    AUTH,
    /** Evidence collection and {@code POST /attest}. */
    ATTEST,
    /** {@code GET /resource/...}. */
    RESOURCE,
    /** Decrypting the resource's JWE with the ephemeral key. */
    UNWRAP
  }

  private final Step step;
  private final int httpStatus;
  private final String errorType;

  /**
   * @param step the failed step
   * @param httpStatus the HTTP status, or 0 when no response was involved
   * @param errorType the broker's error Variant, or null
   * @param message names the step, status and variant (as {@link #describe} builds it)
   * @param cause the underlying failure, or null
   */
  public KbsException(Step step, int httpStatus, String errorType, String message, Throwable cause) {
    super(message, cause);
    this.step = Objects.requireNonNull(step, "step");
    this.httpStatus = httpStatus;
    this.errorType = errorType;
  }

  /** The failed step. */
  public Step step() {
    return step;
  }

  /** The HTTP status of the failing response, or 0 when there was none. */
  public int httpStatus() {
    return httpStatus;
  }

  /** The broker's error Variant (e.g. {@code "AttestationError"}), or null. */
  public String errorType() {
    return errorType;
  }

  /**
   * The standard message: {@code "key broker <step> failed: HTTP <status> <variant>: <why>"}, the
   * HTTP part left out when status is 0 and the variant when it is null.
   */
  public static String describe(Step step, int httpStatus, String errorType, String why) {
    StringBuilder b = new StringBuilder("key broker ").append(step).append(" failed: ");
    if (httpStatus != 0) {
      b.append("HTTP ").append(httpStatus);
      if (errorType != null) {
        b.append(' ').append(errorType);
      }
      b.append(": ");
    }
    return b.append(why).toString();
  }
}
