package dev.sampler.engine.schedule;

/** A {@link NoiseSource} could not deliver noise (its cause says why, never with secret material). */
public final class NoiseUnavailableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Wraps the reason. */
  public NoiseUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
