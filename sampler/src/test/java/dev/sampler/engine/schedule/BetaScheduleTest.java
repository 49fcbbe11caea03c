package dev.sampler.engine.schedule;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.engine.ModelException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link BetaSchedule} against diffusers' own float32 betas and alphas_cumprod, and its refusals. */
class BetaScheduleTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /**
   * Every recorded diffusers schedule (5 beta schedules x 6 training lengths x rescale on/off):
   * betas and alphas_cumprod equal bit for bit.
   */
  @Test
  void fromConfig_diffusersSchedules_matchBitForBit() {
    List<String> failures = new ArrayList<>();
    int checked = 0;
    for (JsonNode c : Float32Vectors.doc().get("beta_schedules")) {
      ObjectNode cfg = (ObjectNode) c.get("config");
      SchedulerConfig config = SchedulerConfig.of(cfg, "beta_schedules");
      int n = cfg.get("num_train_timesteps").asInt();
      float[] betas = BetaSchedule.betas(cfg.get("beta_schedule").asText(), n,
          cfg.path("beta_start").asDouble(0.0001), cfg.path("beta_end").asDouble(0.02));
      if (cfg.get("rescale_betas_zero_snr").asBoolean()) {
        betas = BetaSchedule.rescaleZeroTerminalSnr(betas);
      }
      float[] wantBetas = Float32Vectors.floats(c.get("betas"));
      int i = Float32Vectors.firstDifference(betas, wantBetas);
      if (i >= 0) {
        failures.add(cfg + ": betas differ in " + Float32Vectors.countDifferences(betas, wantBetas) + " of " + n
            + " (first [" + i + "] " + betas[i] + ", diffusers " + wantBetas[i] + ")");
      }
      float[] ac = BetaSchedule.fromConfig(config, 0.0001, 0.02, true).alphasCumprod();
      float[] wantAc = Float32Vectors.floats(c.get("alphas_cumprod"));
      int j = Float32Vectors.firstDifference(ac, wantAc);
      if (j >= 0) {
        failures.add(cfg + ": alphas_cumprod differ in " + Float32Vectors.countDifferences(ac, wantAc) + " of " + n
            + " (first [" + j + "] " + ac[j] + ", diffusers " + wantAc[j] + ")");
      }
      checked++;
    }
    assertEquals(55, checked, "recorded schedules");
    assertTrue(failures.isEmpty(), String.join("\n", failures));
  }

  @Test
  void rescaleZeroTerminalSnr_anySchedule_endsAtZeroSnr() {
    float[] ac = BetaSchedule.alphasCumprod(BetaSchedule.rescaleZeroTerminalSnr(
        BetaSchedule.betas("scaled_linear", 1000, 0.00085, 0.012)));
    assertEquals(0f, ac[999]);
    assertTrue(ac[998] > 0f);
  }

  @Test
  void read_configFile_equalsFromConfigWithDdpmDefaults(@TempDir Path dir) throws Exception {
    Path f = write(dir, "{\"beta_schedule\": \"squaredcos_cap_v2\", \"prediction_type\": \"v_prediction\"}");
    BetaSchedule read = BetaSchedule.read(f);
    assertEquals("squaredcos_cap_v2", read.betaSchedule());
    assertEquals("v_prediction", read.predictionType());
    assertEquals(1000, read.numTrainTimesteps());
    assertArrayEquals(BetaSchedule.alphasCumprod(BetaSchedule.betas("squaredcos_cap_v2", 1000, 0, 0)),
        read.alphasCumprod());
  }

  @Test
  void read_unknownBetaSchedule_throwsModelExceptionNamingFileKeyAndValue(@TempDir Path dir) throws Exception {
    Path f = write(dir, "{\"beta_schedule\": \"sigmoid\"}");
    ModelException e = assertThrows(ModelException.class, () -> BetaSchedule.read(f));
    assertEquals("scheduler_config.json: unsupported value for 'beta_schedule': \"sigmoid\" "
        + "(supported: linear, scaled_linear, squaredcos_cap_v2)", e.getMessage());
  }

  @Test
  void read_trainedBetas_throwsModelExceptionNamingTheKey(@TempDir Path dir) throws Exception {
    Path f = write(dir, "{\"trained_betas\": [0.1, 0.2]}");
    ModelException e = assertThrows(ModelException.class, () -> BetaSchedule.read(f));
    assertEquals("scheduler_config.json: unsupported value for 'trained_betas': [0.1,0.2] (supported: null; "
        + "explicit betas are not implemented)", e.getMessage());
  }

  @Test
  void fromConfig_zeroTrainTimesteps_throwsIllegalArgumentWithRange() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BetaSchedule.fromConfig(config("{\"num_train_timesteps\": 0}"), 0.0001, 0.02, true));
    assertEquals("test.json: unsupported value for 'num_train_timesteps': 0 (supported: 1..100000)", e.getMessage());
  }

  @Test
  void fromConfig_unknownPredictionType_throwsIllegalArgumentListingTheSupported() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BetaSchedule.fromConfig(config("{\"prediction_type\": \"flow\"}"), 0.0001, 0.02, true));
    assertEquals("test.json: unsupported value for 'prediction_type': \"flow\" "
        + "(supported: epsilon, v_prediction, sample)", e.getMessage());
  }

  @Test
  void fromConfig_rescaleKeyIgnored_keepsTheScheduleAsIs() {
    SchedulerConfig c = config("{\"rescale_betas_zero_snr\": true}");
    float[] ignored = BetaSchedule.fromConfig(c, 0.0001, 0.02, false).alphasCumprod();
    assertArrayEquals(BetaSchedule.alphasCumprod(BetaSchedule.betas("linear", 1000, 0.0001, 0.02)), ignored);
  }

  @Test
  void predictOriginal_epsilonOfANoisedSample_recoversTheCleanSample() {
    BetaSchedule s = BetaSchedule.fromConfig(config("{}"), 0.0001, 0.02, true);
    int t = 500;
    double a = s.alphasCumprod()[t];
    float[] x0 = {0.5f, -0.25f, 1f};
    float[] eps = {0.3f, 1.2f, -0.7f};
    float[] xt = new float[3];
    for (int i = 0; i < 3; i++) {
      xt[i] = (float) (Math.sqrt(a) * x0[i] + Math.sqrt(1 - a) * eps[i]);
    }
    float[] out = new float[3];
    s.predictOriginal(xt, eps, 0, 3, t, out);
    assertArrayEquals(x0, out, 1e-5f);
  }

  private static SchedulerConfig config(String json) {
    try {
      return SchedulerConfig.of((ObjectNode) MAPPER.readTree(json), "test.json");
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Path write(Path dir, String json) throws Exception {
    Path f = dir.resolve("scheduler_config.json");
    Files.writeString(f, json, StandardCharsets.UTF_8);
    return f;
  }
}
