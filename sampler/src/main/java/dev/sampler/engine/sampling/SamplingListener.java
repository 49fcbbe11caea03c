package dev.sampler.engine.sampling;

/** Called on the sampling thread after every step; must be quick and must not throw. */
@FunctionalInterface
public interface SamplingListener {
  /** A listener that ignores progress. */
  SamplingListener NONE = p -> {};

  /** One step finished. */
  void onStep(StepProgress progress);
}
