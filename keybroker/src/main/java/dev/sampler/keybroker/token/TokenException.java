package dev.sampler.keybroker.token;

/** A bearer token that does not verify; the message says which check failed. */
public final class TokenException extends Exception {
  private static final long serialVersionUID = 1L;

  /** A failed check described by {@code message}. */
  public TokenException(String message) {
    super(message, null, false, false);
  }
}
