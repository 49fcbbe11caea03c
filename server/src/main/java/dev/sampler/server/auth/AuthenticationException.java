package dev.sampler.server.auth;

/**
 * A caller could not be identified: no verified identity, or a credential that does not verify.
 * The message is safe to send to the caller (it never echoes the credential).
 */
public final class AuthenticationException extends Exception {
  /** A failure described by {@code message}. */
  public AuthenticationException(String message) {
    super(message, null, false, false);
  }
}
