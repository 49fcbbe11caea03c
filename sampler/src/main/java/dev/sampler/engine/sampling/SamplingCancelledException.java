package dev.sampler.engine.sampling;

import dev.sampler.engine.EngineException;

/** The run was cancelled; the message says before which step. */
public final class SamplingCancelledException extends EngineException {
  private static final long serialVersionUID = 1L;

  /** With the step the run stopped before. */
  public SamplingCancelledException(String message) {
    super(message);
  }
}
