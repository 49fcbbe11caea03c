package dev.sampler.engine.schedule;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sampler.engine.ModelException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The training noise schedule of a diffusers scheduler_config.json: betas and the cumulative
 * products of alphas, computed as diffusers computes them (float32 tensors; the cosine schedule's
 * betas in float64 first, then rounded to float32).
 *
 * @param betaSchedule the schedule's name ("linear", "scaled_linear", "squaredcos_cap_v2")
 * @param predictionType what the model predicts ("epsilon", "v_prediction", "sample")
 * @param alphasCumprod alpha-bar for each training timestep, float32 values
 */
public record BetaSchedule(String betaSchedule, String predictionType, float[] alphasCumprod) {

  /** Reads the schedule keys of a scheduler_config.json; unsupported values name the key. */
  public static BetaSchedule read(Path schedulerConfig) throws ModelException {
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(Files.readAllBytes(schedulerConfig));
    } catch (IOException e) {
      throw new ModelException(schedulerConfig + ": cannot read scheduler config: " + e.getMessage(), e);
    }
    String where = schedulerConfig.getFileName().toString();
    int n = root.path("num_train_timesteps").asInt(1000);
    if (n < 2 || n > 100_000) {
      throw new ModelException(where + ": 'num_train_timesteps' = " + n + " is outside 2..100000");
    }
    String schedule = root.path("beta_schedule").asText("linear");
    double betaStart = root.path("beta_start").asDouble(0.0001);
    double betaEnd = root.path("beta_end").asDouble(0.02);
    String prediction = root.path("prediction_type").asText("epsilon");
    if (!prediction.equals("epsilon") && !prediction.equals("v_prediction") && !prediction.equals("sample")) {
      throw new ModelException(where + ": unsupported value for 'prediction_type': \"" + prediction
          + "\" (supported: epsilon, v_prediction, sample)");
    }
    if (root.hasNonNull("trained_betas")) {
      throw new ModelException(where + ": unsupported value for 'trained_betas': explicit betas are not supported");
    }
    float[] betas = new float[n];
    switch (schedule) {
      case "linear" -> {
        for (int i = 0; i < n; i++) {
          betas[i] = (float) (betaStart + (betaEnd - betaStart) * i / (n - 1));
        }
      }
      case "scaled_linear" -> {
        double a = Math.sqrt(betaStart);
        double b = Math.sqrt(betaEnd);
        for (int i = 0; i < n; i++) {
          float s = (float) (a + (b - a) * i / (n - 1));
          betas[i] = s * s;
        }
      }
      case "squaredcos_cap_v2" -> {
        for (int i = 0; i < n; i++) {
          double t1 = (double) i / n;
          double t2 = (double) (i + 1) / n;
          betas[i] = (float) Math.min(1 - cosineAlphaBar(t2) / cosineAlphaBar(t1), 0.999);
        }
      }
      default -> throw new ModelException(where + ": unsupported value for 'beta_schedule': \"" + schedule
          + "\" (supported: linear, scaled_linear, squaredcos_cap_v2)");
    }
    float[] cumprod = new float[n];
    float acc = 1f;
    for (int i = 0; i < n; i++) {
      acc *= 1f - betas[i];
      cumprod[i] = acc;
    }
    return new BetaSchedule(schedule, prediction, cumprod);
  }

  private static double cosineAlphaBar(double t) {
    double c = Math.cos((t + 0.008) / 1.008 * Math.PI / 2);
    return c * c;
  }

  /** Number of training timesteps. */
  public int numTrainTimesteps() {
    return alphasCumprod.length;
  }

  /**
   * The model's estimate of the clean sample x0 from the noisy sample x_t and the model output,
   * per the prediction type, for one row of {@code length} values starting at {@code off}.
   */
  public void predictOriginal(float[] sample, float[] modelOutput, int off, int length, int timestep, float[] x0) {
    double ab = alphasCumprod[timestep];
    double sa = Math.sqrt(ab);
    double sb = Math.sqrt(1 - ab);
    for (int i = off; i < off + length; i++) {
      double x = sample[i];
      double m = modelOutput[i];
      x0[i] = (float) switch (predictionType) {
        case "epsilon" -> (x - sb * m) / sa;
        case "v_prediction" -> sa * x - sb * m;
        default -> m;
      };
    }
  }
}
