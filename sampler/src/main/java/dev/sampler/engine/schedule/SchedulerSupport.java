package dev.sampler.engine.schedule;

import java.util.Arrays;

/** Argument and config checks the schedulers share, with one wording for each failure. */
final class SchedulerSupport {
  private SchedulerSupport() {}

  /**
   * Rejects a step count below 1 and, where diffusers' class rejects it, above
   * {@code num_train_timesteps} (with diffusers' wording).
   */
  static void checkSteps(String cls, int n, int numTrain, boolean limitToTrain) {
    if (n < 1) {
      throw new IllegalArgumentException(cls + ": num_inference_steps must be at least 1, got " + n);
    }
    if (limitToTrain && n > numTrain) {
      throw new IllegalArgumentException(cls + ": `num_inference_steps`: " + n
          + " cannot be larger than `self.config.train_timesteps`: " + numTrain
          + " as the unet model trained with this scheduler can only handle maximal " + numTrain + " timesteps.");
    }
  }

  /** Fails unless {@code setTimesteps} ran. */
  static void requireTimesteps(String cls, boolean set) {
    if (!set) {
      throw new IllegalStateException(cls + ": step() or scaleModelInput() before setTimesteps(): "
          + "call setTimesteps(numInferenceSteps) after creating the scheduler");
    }
  }

  /** Fails unless the model output and the sample have the same number of values. */
  static void requireSameLength(String cls, double[] modelOutput, double[] sample) {
    requireSameLength(cls, "modelOutput", modelOutput, sample);
  }

  /**
   * Fails unless the model output and the sample have the same number of values; the message
   * calls the model output {@code outputName} (the multistep schedulers say "model_output").
   */
  static void requireSameLength(String where, String outputName, double[] modelOutput, double[] sample) {
    if (modelOutput.length != sample.length) {
      throw new IllegalArgumentException(where + ": " + outputName + " has " + modelOutput.length
          + " values but sample has " + sample.length);
    }
  }

  /** An integer timestep (DDPM/DDIM timesteps are int64); fails for a fractional value. */
  static long integralTimestep(String cls, double timestep) {
    if (timestep != Math.rint(timestep) || Double.isInfinite(timestep)) {
      throw new IllegalArgumentException(cls + ": timestep " + timestep + " is not an integer");
    }
    return (long) timestep;
  }

  /**
   * {@code alphas_cumprod[t]} with torch's indexing: a negative index counts from the end (the
   * "trailing" spacing can produce t = -1), anything else out of range fails as torch does.
   */
  static float alphaAt(String cls, float[] alphasCumprod, long t) {
    int n = alphasCumprod.length;
    if (t >= n || t < -n) {
      throw new IllegalArgumentException(cls + ": timestep " + t + " is out of range for " + n
          + " training timesteps (index " + t + " is out of bounds for dimension 0 with size " + n + ")");
    }
    return alphasCumprod[(int) (t < 0 ? t + n : t)];
  }

  /** Rejects a boolean key set to true that this runtime does not implement. */
  static void refuseTrue(SchedulerConfig config, String key) {
    if (config.getBoolean(key, false)) {
      throw new IllegalArgumentException(config.source() + ": unsupported value for '" + key
          + "': true (supported: false)");
    }
  }

  /** Rejects a non-null {@code key} (a feature this runtime does not implement). */
  static void refuseNonNull(SchedulerConfig config, String key) {
    if (config.has(key)) {
      throw new IllegalArgumentException(config.source() + ": unsupported value for '" + key + "': "
          + config.get(key) + " (supported: null)");
    }
  }

  /**
   * {@code solver_order} (default 2), which must be one of {@code allowed}.
   *
   * @throws IllegalArgumentException naming the source, the key, the value and {@code allowed}
   */
  static int solverOrder(SchedulerConfig config, int... allowed) {
    int order = config.getInt("solver_order", 2);
    for (int a : allowed) {
      if (a == order) {
        return order;
      }
    }
    throw new IllegalArgumentException(config.source() + ": unsupported value for 'solver_order': " + order
        + " (supported: " + Arrays.toString(allowed).replaceAll("[\\[\\]]", "") + ")");
  }

  /**
   * The step index past the end: diffusers fails there with an IndexError or AssertionError (a run
   * whose first timestep occurs twice starts at index 1 and so has one step fewer).
   */
  static IllegalArgumentException noStepLeft(String cls, double timestep, int n) {
    return new IllegalArgumentException(cls + ".step(timestep " + timestep + "): all " + n
        + " steps of the schedule have been taken (a run whose first timestep occurs more than once starts"
        + " at its second occurrence, as in diffusers); call setTimesteps to start a new run");
  }

  /** Element-wise clamp to [-range, range], NaN kept (torch's clamp). */
  static void clamp(double[] x, double range) {
    for (int i = 0; i < x.length; i++) {
      x[i] = Math.min(Math.max(x[i], -range), range);
    }
  }
}
