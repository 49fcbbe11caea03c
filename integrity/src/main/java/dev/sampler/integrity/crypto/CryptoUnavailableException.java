package dev.sampler.integrity.crypto;

/**
 * A crypto implementation cannot be used here: its library is missing or too old, a symbol is
 * absent, native access is denied, or it failed its known-answer self-test. The message says
 * which.
 */
public final class CryptoUnavailableException extends Exception {
  private static final long serialVersionUID = 1L;

  /** Creates an exception whose message names the implementation and why it cannot be used. */
  public CryptoUnavailableException(String message) {
    super(message);
  }

  /** As {@link #CryptoUnavailableException(String)}, with the underlying cause. */
  public CryptoUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
