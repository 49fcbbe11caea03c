package dev.sampler.server;

/**
 * The server could not start: invalid configuration, unreadable TLS material, a port in use, a
 * model that failed to load or to warm up. The message names the step and the cause.
 */
public class SamplerServerException extends Exception {
  private static final long serialVersionUID = 1L;

  /** A failure described by {@code message}. */
  public SamplerServerException(String message) {
    super(message);
  }

  /** A failure described by {@code message}, caused by {@code cause}. */
  public SamplerServerException(String message, Throwable cause) {
    super(message, cause);
  }
}
