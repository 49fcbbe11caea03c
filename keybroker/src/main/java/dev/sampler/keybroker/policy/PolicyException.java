package dev.sampler.keybroker.policy;

/** A policy file that cannot be used; the message names the file, the key and what is allowed. */
public final class PolicyException extends Exception {
  private static final long serialVersionUID = 1L;

  /** A problem described by {@code message}. */
  public PolicyException(String message) {
    super(message);
  }

  /** A problem described by {@code message}, caused by {@code cause}. */
  public PolicyException(String message, Throwable cause) {
    super(message, cause);
  }
}
