package dev.sampler.engine;

/**
 * A tensor backend cannot be created: the name is unknown, or the backend failed to initialise
 * (missing native library, unsupported CPU, bad option). Never answered by a silent fallback to
 * another backend.
 */
public class BackendException extends EngineException {
  private static final long serialVersionUID = 1L;

  public BackendException(String message) {
    super(message);
  }

  public BackendException(String message, Throwable cause) {
    super(message, cause);
  }
}
