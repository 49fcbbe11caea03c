package dev.sampler.scheduler;

import dev.sampler.engine.sampling.SamplingResult;
import dev.sampler.engine.sampling.StepProgress;

/**
 * What happens to a job, in order: {@link #onQueued} (possibly several times, positions never
 * increasing), {@link #onStarted}, {@link #onStep} after each model evaluation, then exactly one of
 * {@link #onCompleted} or {@link #onFailed}. Calls for one job never overlap. Implementations must
 * be quick (they run on the batcher's thread) and must not throw.
 */
public interface JobListener {
  /** Waiting; {@code position} jobs are ahead of this one in the fair order (0: next). */
  default void onQueued(int position) {}

  /** Handed to a batcher: sampling begins with the next batch. */
  default void onStarted() {}

  /** One model evaluation done (the arrays in {@code progress} are live: copy what you keep). */
  default void onStep(StepProgress progress) {}

  /** All evaluations done. */
  void onCompleted(SamplingResult result);

  /** Stopped without a result; {@code message} is safe to send to the client. */
  void onFailed(Code code, String message);
}
