package dev.sampler.server.startup;

import dev.sampler.server.SamplerServerException;

/**
 * Start-up stopped at {@link #step()}: the message reads "start-up failed at step 3 (integrity):
 * ..." and names what failed; {@code bin/sampler serve} then exits with code 10 + the step's
 * number (11 config ... 17 readiness).
 */
public final class StartupException extends SamplerServerException {
  private static final long serialVersionUID = 1L;

  /** The step that failed. */
  private final StartupStep step;

  /** {@code detail} says what failed within {@code step}; it must hold no secret. */
  public StartupException(StartupStep step, String detail, Throwable cause) {
    super("start-up failed at " + step + ": " + detail, cause);
    this.step = step;
  }

  /** As {@link #StartupException(StartupStep, String, Throwable)} without a cause. */
  public StartupException(StartupStep step, String detail) {
    this(step, detail, null);
  }

  /** The step that failed. */
  public StartupStep step() {
    return step;
  }
}
