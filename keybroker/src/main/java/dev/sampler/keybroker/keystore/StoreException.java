package dev.sampler.keybroker.keystore;

/**
 * A key store step failed: the message names the step ({@code hsm: ...}, {@code keystore: ...})
 * and the cause, never a PIN or key bytes.
 */
public final class StoreException extends Exception {
  private static final long serialVersionUID = 1L;

  /** A failure described by {@code message}. */
  public StoreException(String message) {
    super(message);
  }

  /** A failure described by {@code message}, caused by {@code cause}. */
  public StoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
