package dev.sampler.engine;

/**
 * Base of the engine's checked exceptions. Each subclass names the subsystem that failed; the
 * message names the failed step and, where there is one, the offending file, key or tensor.
 */
public class EngineException extends Exception {
  private static final long serialVersionUID = 1L;

  public EngineException(String message) {
    super(message);
  }

  public EngineException(String message, Throwable cause) {
    super(message, cause);
  }
}
