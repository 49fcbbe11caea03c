package dev.sampler.engine.schedule;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.engine.ModelException;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Contract and error behaviour of the six group A schedulers (DDPM, DDIM, Euler, Euler ancestral,
 * Heun, LMS); their numbers are checked against diffusers by SchedulerParityTest.
 */
class GroupASchedulersTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final double[] X = {0.5, -1.0, 0.25, 2.0};
  private static final double[] OUT = {0.1, 0.2, -0.3, 0.4};

  static NoiseScheduler create(String cls, String extraJson) throws ModelException {
    return Schedulers.create(config(cls, extraJson));
  }

  static SchedulerConfig config(String cls, String extraJson) {
    try {
      ObjectNode n = (ObjectNode) MAPPER.readTree(extraJson);
      n.put("_class_name", cls);
      return SchedulerConfig.of(n, "scheduler_config.json");
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"DDPMScheduler", "DDIMScheduler", "EulerDiscreteScheduler",
      "EulerAncestralDiscreteScheduler", "HeunDiscreteScheduler", "LMSDiscreteScheduler"})
  void create_className_returnsThatClassWithItsOrder(String cls) throws ModelException {
    NoiseScheduler s = create(cls, "{}");
    assertEquals(cls, s.className());
    assertEquals(cls.equals("HeunDiscreteScheduler") ? 2 : 1, s.order());
    assertEquals(cls, s.config().className());
  }

  @ParameterizedTest
  @ValueSource(strings = {"DDPMScheduler", "DDIMScheduler", "EulerDiscreteScheduler",
      "EulerAncestralDiscreteScheduler", "HeunDiscreteScheduler", "LMSDiscreteScheduler"})
  void setTimesteps_zeroSteps_throwsIllegalArgument(String cls) throws ModelException {
    NoiseScheduler s = create(cls, "{}");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.setTimesteps(0));
    assertEquals(cls + ": num_inference_steps must be at least 1, got 0", e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"DDPMScheduler", "DDIMScheduler"})
  void setTimesteps_moreStepsThanTrainTimesteps_throwsWithDiffusersWording(String cls) throws ModelException {
    NoiseScheduler s = create(cls, "{\"num_train_timesteps\": 100}");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.setTimesteps(101));
    assertEquals(cls + ": `num_inference_steps`: 101 cannot be larger than `self.config.train_timesteps`: 100 as "
        + "the unet model trained with this scheduler can only handle maximal 100 timesteps.", e.getMessage());
  }

  /** diffusers' Euler accepts more steps than training timesteps (and fails at a later step). */
  @Test
  void setTimesteps_eulerWithMoreStepsThanTrainTimesteps_acceptsLikeDiffusers() throws ModelException {
    NoiseScheduler s = create("EulerDiscreteScheduler", "{\"num_train_timesteps\": 100}");
    s.setTimesteps(101);
    assertEquals(101, s.timesteps().length);
    assertEquals(102, s.sigmas().length);
  }

  @ParameterizedTest
  @ValueSource(strings = {"DDPMScheduler", "DDIMScheduler", "EulerDiscreteScheduler",
      "EulerAncestralDiscreteScheduler", "HeunDiscreteScheduler", "LMSDiscreteScheduler"})
  void step_beforeSetTimesteps_throwsIllegalState(String cls) throws ModelException {
    NoiseScheduler s = create(cls, "{}");
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> s.step(OUT, 999, X, NoiseSource.NONE));
    assertEquals(cls + ": step() or scaleModelInput() before setTimesteps(): call setTimesteps(numInferenceSteps) "
        + "after creating the scheduler", e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"DDPMScheduler", "DDIMScheduler", "EulerDiscreteScheduler",
      "EulerAncestralDiscreteScheduler", "HeunDiscreteScheduler", "LMSDiscreteScheduler"})
  void step_mismatchedLengths_throwsIllegalArgument(String cls) throws ModelException {
    NoiseScheduler s = create(cls, "{}");
    s.setTimesteps(10);
    double t = s.timesteps()[0];
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> s.step(new double[3], t, X, NoiseSource.NONE));
    assertEquals(cls + ": modelOutput has 3 values but sample has 4", e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"DDPMScheduler", "DDIMScheduler", "EulerDiscreteScheduler",
      "EulerAncestralDiscreteScheduler", "HeunDiscreteScheduler", "LMSDiscreteScheduler"})
  void step_timestepNotInSchedule_throwsIllegalArgument(String cls) throws ModelException {
    NoiseScheduler s = create(cls, "{}");
    s.setTimesteps(10);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> s.step(OUT, 998.5, X, out -> java.util.Arrays.fill(out, 0.0)));
    assertTrue(e.getMessage().startsWith(cls + ": timestep 998.5 is not "), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"DDPMScheduler", "DDIMScheduler", "EulerDiscreteScheduler",
      "EulerAncestralDiscreteScheduler", "HeunDiscreteScheduler", "LMSDiscreteScheduler"})
  void sampleLoop_anySchedule_runsEveryTimestepAndLeavesInputsUnchanged(String cls) throws ModelException {
    NoiseScheduler s = create(cls, "{}");
    s.setTimesteps(5);
    double[] x = X.clone();
    for (int i = 0; i < x.length; i++) {
      x[i] *= s.initNoiseSigma();
    }
    for (double t : s.timesteps()) {
      double[] xin = s.scaleModelInput(x, t);
      double[] before = x.clone();
      double[] out = OUT.clone();
      StepOutput o = s.step(out, t, x, arr -> java.util.Arrays.fill(arr, 0.5));
      assertArrayEquals(before, x, "sample modified");
      assertArrayEquals(OUT, out, "model output modified");
      assertNotNull(o.predOriginalSample());
      assertEquals(x.length, xin.length);
      x = o.prevSample();
    }
    for (double v : x) {
      assertTrue(Double.isFinite(v), cls + " produced " + java.util.Arrays.toString(x));
    }
  }

  @Test
  void step_ddimWithoutEta_neverAsksForNoise() throws ModelException {
    NoiseScheduler s = create("DDIMScheduler", "{}");
    s.setTimesteps(4);
    for (double t : s.timesteps()) {
      s.step(OUT, t, X, NoiseSource.NONE); // NONE throws if asked
    }
  }

  @Test
  void step_ddimWithEta_drawsOneArrayPerStep() throws ModelException {
    NoiseScheduler s = create("DDIMScheduler", "{\"eta\": 1.0}");
    s.setTimesteps(4);
    AtomicInteger draws = new AtomicInteger();
    for (double t : s.timesteps()) {
      s.step(OUT, t, X, out -> {
        assertEquals(X.length, out.length);
        draws.incrementAndGet();
      });
    }
    assertEquals(4, draws.get());
  }

  @Test
  void step_ddpm_drawsNoiseAtEveryTimestepButZero() throws ModelException {
    NoiseScheduler s = create("DDPMScheduler", "{\"timestep_spacing\": \"linspace\"}");
    s.setTimesteps(3);
    assertArrayEquals(new double[] {999, 500, 0}, s.timesteps());
    AtomicInteger draws = new AtomicInteger();
    for (double t : s.timesteps()) {
      s.step(OUT, t, X, out -> draws.incrementAndGet());
    }
    assertEquals(2, draws.get());
  }

  @Test
  void setTimesteps_heun_repeatsEveryTimestepButTheFirst() throws ModelException {
    NoiseScheduler s = create("HeunDiscreteScheduler", "{}");
    s.setTimesteps(3);
    double[] t = s.timesteps();
    double[] sig = s.sigmas();
    assertEquals(5, t.length);
    assertEquals(6, sig.length);
    assertEquals(t[1], t[2]);
    assertEquals(t[3], t[4]);
    assertEquals(sig[1], sig[2]);
    assertEquals(sig[3], sig[4]);
    assertEquals(0.0, sig[5]);
  }

  @Test
  void setTimesteps_trailingWithAnExtraNumpyStep_endsAtMinusOneLikeDiffusers() throws ModelException {
    // np.arange(1000, 0, -1000/61) has 62 values: diffusers' trailing DDIM gets 62 timesteps
    NoiseScheduler s = create("DDIMScheduler", "{\"timestep_spacing\": \"trailing\"}");
    s.setTimesteps(61);
    double[] t = s.timesteps();
    assertEquals(62, t.length);
    assertEquals(999.0, t[0]);
    assertEquals(-1.0, t[61]);
  }

  /** Keys this runtime refuses: ModelException from create, naming the file, the key and the value. */
  @ParameterizedTest
  @ValueSource(strings = {
      "DDPMScheduler|{\"thresholding\": true}|'thresholding': true (supported: false)",
      "DDPMScheduler|{\"variance_type\": \"learned_range\"}|'variance_type': \"learned_range\" (supported: "
          + "fixed_small, fixed_small_log, fixed_large)",
      "DDIMScheduler|{\"thresholding\": true}|'thresholding': true (supported: false)",
      "DDIMScheduler|{\"timestep_spacing\": \"bogus\"}|'timestep_spacing': \"bogus\" (supported: linspace, leading, "
          + "trailing)",
      "DDIMScheduler|{\"eta\": -0.5}|'eta': -0.5 (supported: a finite number >= 0)",
      "EulerDiscreteScheduler|{\"use_exponential_sigmas\": true}|'use_exponential_sigmas': true (supported: false)",
      "EulerDiscreteScheduler|{\"use_beta_sigmas\": true}|'use_beta_sigmas': true (supported: false)",
      "EulerDiscreteScheduler|{\"interpolation_type\": \"cubic\"}|'interpolation_type': \"cubic\" (supported: "
          + "linear, log_linear)",
      "EulerDiscreteScheduler|{\"final_sigmas_type\": \"one\"}|'final_sigmas_type': \"one\" (supported: zero, "
          + "sigma_min)",
      "EulerDiscreteScheduler|{\"timestep_type\": \"continuous\", \"prediction_type\": \"v_prediction\"}|"
          + "'timestep_type': \"continuous\" with prediction_type \"v_prediction\" (supported: \"discrete\"; "
          + "continuous v-prediction timesteps are not implemented)",
      "EulerAncestralDiscreteScheduler|{\"prediction_type\": \"sample\"}|'prediction_type': \"sample\" (supported: "
          + "epsilon, v_prediction; diffusers' EulerAncestralDiscreteScheduler does not implement it)",
      "HeunDiscreteScheduler|{\"use_exponential_sigmas\": true}|'use_exponential_sigmas': true (supported: false)",
      "HeunDiscreteScheduler|{\"beta_schedule\": \"exp\"}|'beta_schedule': \"exp\" (supported: linear, "
          + "scaled_linear, squaredcos_cap_v2)",
      "LMSDiscreteScheduler|{\"use_beta_sigmas\": true}|'use_beta_sigmas': true (supported: false)",
      "LMSDiscreteScheduler|{\"trained_betas\": [0.1]}|'trained_betas': [0.1] (supported: null; explicit betas are "
          + "not implemented)",
  })
  void create_unsupportedValue_throwsModelExceptionNamingFileKeyAndValue(String spec) {
    List<String> p = List.of(spec.split("\\|", 3));
    ModelException e = assertThrows(ModelException.class, () -> create(p.get(0), p.get(1)));
    assertEquals("scheduler_config.json: unsupported value for " + p.get(2), e.getMessage());
    assertInstanceOf(IllegalArgumentException.class, e.getCause());
  }

  @Test
  void create_continuousTimestepsWithEpsilon_acceptedAsDiffusersComputesThemAsDiscrete() throws ModelException {
    NoiseScheduler c = create("EulerDiscreteScheduler", "{\"timestep_type\": \"continuous\"}");
    NoiseScheduler d = create("EulerDiscreteScheduler", "{}");
    c.setTimesteps(7);
    d.setTimesteps(7);
    assertArrayEquals(d.timesteps(), c.timesteps());
    assertArrayEquals(d.sigmas(), c.sigmas());
  }

  @Test
  void initNoiseSigma_beforeSetTimestepsOnASigmaScheduler_throwsIllegalState() throws ModelException {
    NoiseScheduler s = create("EulerDiscreteScheduler", "{}");
    assertThrows(IllegalStateException.class, s::initNoiseSigma);
  }
}
