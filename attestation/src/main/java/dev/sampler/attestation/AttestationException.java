package dev.sampler.attestation;

/**
 * A failure inside the attestation subsystem: evidence collection, the RCAR handshake with a key
 * broker, JSON canonicalization or JWE processing. The message names the step that failed and why;
 * it never contains key bytes, nonces' secrets or whole response bodies.
 */
public class AttestationException extends Exception {
  private static final long serialVersionUID = 1L;

  /**
   * @param message names the failed step and the cause
   */
  public AttestationException(String message) {
    super(message);
  }

  /**
   * @param message names the failed step and the cause
   * @param cause the underlying failure (its message must be as safe as {@code message})
   */
  public AttestationException(String message, Throwable cause) {
    super(message, cause);
  }
}
