package dev.sampler.engine;

/**
 * A model directory cannot be used: its {@code config.json} holds an unsupported or invalid
 * value, or its weights are missing, unexpected, of the wrong shape or unreadable. The message
 * names the file and the key or tensor, e.g. {@code config.json: unsupported value for
 * 'time_embedding_type': "fourier" (supported: positional)}.
 */
public class ModelException extends EngineException {
  private static final long serialVersionUID = 1L;

  public ModelException(String message) {
    super(message);
  }

  public ModelException(String message, Throwable cause) {
    super(message, cause);
  }
}
