package dev.sampler.engine.schedule;

/**
 * The result of {@link NoiseScheduler#step}.
 *
 * @param prevSample the sample at the next (less noisy) timestep
 * @param predOriginalSample the scheduler's estimate of the clean sample x0, or {@code null} where
 *     diffusers' scheduler returns none
 */
public record StepOutput(double[] prevSample, double[] predOriginalSample) {
  /** Requires {@code prevSample}. */
  public StepOutput {
    java.util.Objects.requireNonNull(prevSample, "prevSample");
  }
}
