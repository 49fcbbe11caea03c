package dev.sampler.engine.schedule;

/**
 * Standard-normal noise for a stochastic scheduler step. The sampling loop adapts a per-request
 * DRBG noise stream to this; tests pass recorded noise.
 */
@FunctionalInterface
public interface NoiseSource {

  /** A source for deterministic runs: fails if a scheduler asks it for noise. */
  NoiseSource NONE = out -> {
    throw new IllegalStateException("this run has no noise source, but the scheduler asked for noise");
  };

  /**
   * Fills all of {@code out} with the next standard-normal values.
   *
   * @throws NoiseUnavailableException if the underlying stream cannot deliver
   */
  void fill(double[] out);
}
