package dev.sampler.scheduler;

import java.util.List;
import java.util.Objects;

/**
 * What a model accepts, for validation: class count and null class, the sample size, the
 * scheduler names, and the server's limits.
 *
 * @param classLabels number of usable class labels (0: unconditional model, labels must be -1)
 * @param nullClass the null class used for guidance, or null if the model has none
 * @param sampleSize the model's image side in pixels
 * @param schedulers the scheduler short names the model accepts
 * @param maxSteps largest step count (200 on this server)
 * @param maxImages largest image count per request
 */
public record ModelLimits(int classLabels, Integer nullClass, int sampleSize, List<String> schedulers, int maxSteps,
    int maxImages) {
  /** Steps the server accepts at most (the service limit, below the engine's 1000). */
  public static final int DEFAULT_MAX_STEPS = 200;

  public ModelLimits {
    Objects.requireNonNull(schedulers, "schedulers");
    schedulers = List.copyOf(schedulers);
    if (classLabels < 0 || sampleSize < 1 || maxSteps < 1 || maxImages < 1) {
      throw new IllegalArgumentException("model limits must be positive");
    }
  }
}
