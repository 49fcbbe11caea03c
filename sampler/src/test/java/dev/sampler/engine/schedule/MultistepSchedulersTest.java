package dev.sampler.engine.schedule;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.engine.ModelException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Contract and error behaviour of {@link DpmSolverMultistepScheduler} and
 * {@link UniPcMultistepScheduler} (their numbers are checked against diffusers by
 * SchedulerParityTest and MultistepExtraParityTest).
 */
class MultistepSchedulersTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SOURCE = "scheduler_config.json";
  private static final String DPM = "DPMSolverMultistepScheduler";
  private static final String UNIPC = "UniPCMultistepScheduler";

  /** A config of {@code cls} with {@code json} (an object's members) on top of diffusers' defaults. */
  private static SchedulerConfig config(String cls, String json) {
    try {
      String members = json.isEmpty() ? "" : ", " + json;
      ObjectNode n = (ObjectNode) JSON.readTree("{\"_class_name\": \"" + cls + "\"" + members + "}");
      return SchedulerConfig.of(n, SOURCE);
    } catch (Exception e) {
      throw new IllegalArgumentException(e);
    }
  }

  private static NoiseScheduler create(String cls, String json) {
    return cls.equals(DPM) ? new DpmSolverMultistepScheduler(config(cls, json))
        : new UniPcMultistepScheduler(config(cls, json));
  }

  private static double[] sample(int n, double scale) {
    double[] x = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = scale * Math.sin(1.7 * i + 0.3);
    }
    return x;
  }

  /** A smooth stand-in model. */
  private static double[] model(double[] x, double t) {
    double[] out = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      out[i] = 0.7 * x[i] / Math.sqrt(1 + x[i] * x[i]) + 0.1 * Math.cos(0.01 * t + i);
    }
    return out;
  }

  /** Runs the whole schedule; returns the final sample. */
  private static double[] run(NoiseScheduler s, double[] x0, NoiseSource noise) {
    double[] x = x0;
    for (double t : s.timesteps()) {
      x = s.step(model(s.scaleModelInput(x, t), t), t, x, noise).prevSample();
    }
    return x;
  }

  static Stream<String> classes() {
    return Stream.of(DPM, UNIPC);
  }

  @ParameterizedTest
  @MethodSource("classes")
  void setTimesteps_zeroSteps_throwsNamingTheCount(String cls) {
    NoiseScheduler s = create(cls, "");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.setTimesteps(0));
    assertEquals(cls + ".setTimesteps: num_inference_steps must be at least 1, got 0", e.getMessage());
  }

  @ParameterizedTest
  @MethodSource("classes")
  void step_beforeSetTimesteps_throwsIllegalState(String cls) {
    NoiseScheduler s = create(cls, "");
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> s.step(new double[4], 999, new double[4], NoiseSource.NONE));
    assertTrue(e.getMessage().startsWith(cls + ": the number of inference steps is not set"), e.getMessage());
    assertThrows(IllegalStateException.class, s::timesteps);
    assertThrows(IllegalStateException.class, s::sigmas);
  }

  @ParameterizedTest
  @MethodSource("classes")
  void step_mismatchedLengths_throwsNamingBothLengths(String cls) {
    NoiseScheduler s = create(cls, "");
    s.setTimesteps(10);
    double t = s.timesteps()[0];
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> s.step(new double[5], t, new double[4], NoiseSource.NONE));
    assertEquals(cls + ".step: model_output has 5 values but sample has 4", e.getMessage());
  }

  @ParameterizedTest
  @MethodSource("classes")
  void step_pastTheLastTimestep_throwsIllegalArgument(String cls) {
    NoiseScheduler s = create(cls, "\"algorithm_type\": \"dpmsolver++\"");
    s.setTimesteps(3);
    double[] x = run(s, sample(4, 1.0), NoiseSource.NONE);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> s.step(model(x, 0), 0, x, NoiseSource.NONE));
    assertTrue(e.getMessage().startsWith(cls + ".step(timestep 0.0): all 3 steps of the schedule have been taken"),
        e.getMessage());
  }

  @ParameterizedTest
  @MethodSource("classes")
  void setTimesteps_again_startsAFreshRun(String cls) {
    NoiseScheduler s = create(cls, "\"solver_order\": 3");
    double[] x0 = sample(8, 1.0);
    s.setTimesteps(12);
    double[] first = run(s, x0, NoiseSource.NONE);
    s.setTimesteps(12);
    double[] second = run(s, x0, NoiseSource.NONE);
    assertArrayEquals(first, second);
  }

  @ParameterizedTest
  @MethodSource("classes")
  void accessors_always_returnCopiesAndDiffusersConstants(String cls) {
    NoiseScheduler s = create(cls, "");
    s.setTimesteps(5);
    double[] t = s.timesteps();
    t[0] = -1;
    assertEquals(999.0, s.timesteps()[0]);
    assertEquals(6, s.sigmas().length);
    assertEquals(0.0, s.sigmas()[5]);
    assertEquals(1.0, s.initNoiseSigma());
    assertEquals(1, s.order());
    assertEquals(cls, s.className());
    double[] x = sample(4, 1.0);
    double[] in = s.scaleModelInput(x, t[1]);
    assertArrayEquals(x, in);
    in[0] = 42;
    assertNotEquals(42.0, x[0]);
  }

  @ParameterizedTest
  @MethodSource("classes")
  void step_always_returnsNoX0EstimateAsDiffusers(String cls) {
    NoiseScheduler s = create(cls, "");
    s.setTimesteps(4);
    double t = s.timesteps()[0];
    double[] x = sample(4, 1.0);
    assertNull(s.step(model(x, t), t, x, NoiseSource.NONE).predOriginalSample());
  }

  @Test
  void step_sdeVariant_drawsSampleSizedNoiseOncePerStep() {
    for (int order = 1; order <= 3; order++) {
      NoiseScheduler s = create(DPM, "\"algorithm_type\": \"sde-dpmsolver++\", \"solver_order\": " + order);
      s.setTimesteps(7);
      double[] x = sample(6, 1.0);
      List<List<Integer>> draws = new ArrayList<>();
      for (double t : s.timesteps()) {
        List<Integer> thisStep = new ArrayList<>();
        draws.add(thisStep);
        NoiseSource counting = out -> {
          thisStep.add(out.length);
          for (int i = 0; i < out.length; i++) {
            out[i] = Math.cos(3.1 * i + out.length);
          }
        };
        x = s.step(model(x, t), t, x, counting).prevSample();
      }
      assertEquals(7, draws.size());
      for (int k = 0; k < draws.size(); k++) {
        assertEquals(List.of(6), draws.get(k), "order " + order + ", step " + k + ": one draw of the sample's size");
      }
    }
  }

  @Test
  void step_sdeVariant_roundsNoiseToFloat32AsRandnTensor() {
    double[] noise = {0.1, -0.2, 0.30000000000000004, 1.0 / 3, -2.0 / 3, 0.7};
    double[] noise32 = new double[noise.length];
    for (int i = 0; i < noise.length; i++) {
      noise32[i] = (float) noise[i];
    }
    Function<double[], double[]> runWith = z -> {
      NoiseScheduler s = create(DPM, "\"algorithm_type\": \"sde-dpmsolver++\"");
      s.setTimesteps(5);
      return run(s, sample(6, 1.0), out -> System.arraycopy(z, 0, out, 0, out.length));
    };
    assertArrayEquals(runWith.apply(noise32), runWith.apply(noise));
  }

  @Test
  void step_odeVariants_neverAskForNoise() {
    for (String cls : new String[] {DPM, UNIPC}) {
      for (int order = 1; order <= 3; order++) {
        NoiseScheduler s = create(cls, "\"solver_order\": " + order);
        s.setTimesteps(9);
        double[] x = run(s, sample(5, 1.0), NoiseSource.NONE); // NONE throws if asked
        assertEquals(5, x.length);
      }
    }
  }

  static Stream<Arguments> unsupported() {
    return Stream.of(
        Arguments.of(DPM, "algorithm_type", "\"dpmsolver\"", "(supported: dpmsolver++, sde-dpmsolver++)"),
        Arguments.of(DPM, "algorithm_type", "\"sde-dpmsolver\"", "(supported: dpmsolver++, sde-dpmsolver++)"),
        Arguments.of(DPM, "solver_order", "4", "(supported: 1, 2, 3)"),
        Arguments.of(DPM, "solver_type", "\"bogus\"", "(supported: midpoint, heun)"),
        Arguments.of(DPM, "thresholding", "true", "(supported: false)"),
        Arguments.of(DPM, "variance_type", "\"learned_range\"", "(supported: null or a fixed variance type"),
        Arguments.of(DPM, "variance_type", "\"learned\"", "(supported: null or a fixed variance type"),
        Arguments.of(DPM, "use_exponential_sigmas", "true", "(supported: false)"),
        Arguments.of(DPM, "use_beta_sigmas", "true", "(supported: false)"),
        Arguments.of(DPM, "use_lu_lambdas", "true", "(supported: false)"),
        Arguments.of(DPM, "use_flow_sigmas", "true", "(supported: false)"),
        Arguments.of(DPM, "use_dynamic_shifting", "true", "(supported: false)"),
        Arguments.of(DPM, "prediction_type", "\"flow_prediction\"", "(supported: epsilon, v_prediction, sample)"),
        Arguments.of(DPM, "final_sigmas_type", "\"bogus\"", "(supported: zero, sigma_min)"),
        Arguments.of(DPM, "timestep_spacing", "\"bogus\"", "(supported: linspace, leading, trailing)"),
        Arguments.of(DPM, "beta_schedule", "\"bogus\"", "(supported: linear, scaled_linear, squaredcos_cap_v2)"),
        Arguments.of(DPM, "trained_betas", "[0.1,0.2]", "(supported: null;"),
        Arguments.of(UNIPC, "solver_order", "4", "(supported: 1, 2, 3)"),
        Arguments.of(UNIPC, "solver_type", "\"bogus\"", "(supported: bh1, bh2)"),
        Arguments.of(UNIPC, "thresholding", "true", "(supported: false)"),
        Arguments.of(UNIPC, "solver_p", "{}", "(supported: null)"),
        Arguments.of(UNIPC, "shift_terminal", "0.1", "(supported: null)"),
        Arguments.of(UNIPC, "use_exponential_sigmas", "true", "(supported: false)"),
        Arguments.of(UNIPC, "use_beta_sigmas", "true", "(supported: false)"),
        Arguments.of(UNIPC, "use_flow_sigmas", "true", "(supported: false)"),
        Arguments.of(UNIPC, "use_dynamic_shifting", "true", "(supported: false)"),
        Arguments.of(UNIPC, "prediction_type", "\"flow_prediction\"", "(supported: epsilon, v_prediction, sample)"),
        Arguments.of(UNIPC, "final_sigmas_type", "\"bogus\"", "(supported: zero, sigma_min)"),
        Arguments.of(UNIPC, "num_train_timesteps", "1", "(supported: 2 to 100000)"));
  }

  @ParameterizedTest
  @MethodSource("unsupported")
  void constructor_unsupportedValue_throwsNamingSourceKeyAndValue(String cls, String key, String value,
      String supported) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> create(cls, "\"" + key + "\": " + value));
    assertTrue(e.getMessage().startsWith(SOURCE + ": unsupported value for '" + key + "': " + value + " "),
        e.getMessage());
    assertTrue(e.getMessage().contains(supported), e.getMessage());
    // through the factory, the same message as a ModelException
    ModelException m = assertThrows(ModelException.class,
        () -> Schedulers.create(config(cls, "\"" + key + "\": " + value)));
    assertEquals(e.getMessage(), m.getMessage());
  }

  @Test
  void constructor_deisWithZeroFinalSigma_throwsAsDiffusers() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> create(DPM, "\"algorithm_type\": \"deis\""));
    assertEquals(SOURCE + ": unsupported value for 'final_sigmas_type': \"zero\" with 'algorithm_type' \"deis\""
        + " (supported: sigma_min, as in diffusers)", e.getMessage());
  }

  @Test
  void constructor_disableCorrectorNotAList_throwsNamingTheKey() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> create(UNIPC, "\"disable_corrector\": \"all\""));
    assertEquals(SOURCE + ": 'disable_corrector' must be a list of step indices, got \"all\"", e.getMessage());
  }

  @Test
  void create_byClassName_returnsTheMultistepSchedulers() throws Exception {
    assertInstanceOf(DpmSolverMultistepScheduler.class, Schedulers.create(config(DPM, "")));
    assertInstanceOf(UniPcMultistepScheduler.class, Schedulers.create(config(UNIPC, "")));
  }

  @Test
  void named_shortNamesOnTheDemoConfig_configureTheVariant() throws Exception {
    SchedulerConfig demo = SchedulerConfig.read(Path.of("../models/demo/scheduler_config.json"));
    for (String name : new String[] {"dpmpp-2m", "dpmpp-2m-karras", "dpmpp-2m-sde", "unipc"}) {
      NoiseScheduler s = Schedulers.named(name, demo);
      s.setTimesteps(10);
      double[] x = run(s, sample(4, 1.0), out -> java.util.Arrays.fill(out, 0.5));
      for (double v : x) {
        assertTrue(Double.isFinite(v), name + ": " + java.util.Arrays.toString(x));
      }
    }
    // the Karras variant really uses Karras sigmas: a different schedule from the same config
    NoiseScheduler plain = Schedulers.named("dpmpp-2m", demo);
    plain.setTimesteps(10);
    NoiseScheduler karras = Schedulers.named("dpmpp-2m-karras", demo);
    karras.setTimesteps(10);
    assertNotEquals(java.util.Arrays.toString(plain.sigmas()), java.util.Arrays.toString(karras.sigmas()));
  }

  @Test
  void create_pythonJsonMinusInfinity_readsLambdaMinClippedAsNumber() throws Exception {
    // diffusers' save_config writes DPM's default lambda_min_clipped as a bare -Infinity token
    byte[] json = ("{\"_class_name\": \"" + DPM + "\", \"beta_schedule\": \"squaredcos_cap_v2\","
        + " \"lambda_min_clipped\": -Infinity}").getBytes(java.nio.charset.StandardCharsets.UTF_8);
    NoiseScheduler withKey = Schedulers.create(SchedulerConfig.parse(json, SOURCE));
    NoiseScheduler without = create(DPM, "\"beta_schedule\": \"squaredcos_cap_v2\"");
    NoiseScheduler clipped = create(DPM, "\"beta_schedule\": \"squaredcos_cap_v2\", \"lambda_min_clipped\": -5.1");
    withKey.setTimesteps(10);
    without.setTimesteps(10);
    clipped.setTimesteps(10);
    assertArrayEquals(without.timesteps(), withKey.timesteps());
    assertNotEquals(without.timesteps()[0], clipped.timesteps()[0]);
  }

  @Test
  void step_sdeNoiseSourceFails_leavesTheSchedulerAsItWas() {
    NoiseSource ok = out -> {
      for (int i = 0; i < out.length; i++) {
        out[i] = Math.sin(i + out.length);
      }
    };
    NoiseScheduler clean = create(DPM, "\"algorithm_type\": \"sde-dpmsolver++\"");
    clean.setTimesteps(6);
    double[] want = run(clean, sample(4, 1.0), ok);

    NoiseScheduler s = create(DPM, "\"algorithm_type\": \"sde-dpmsolver++\"");
    s.setTimesteps(6);
    double[] x = sample(4, 1.0);
    boolean failed = false;
    for (double t : s.timesteps()) {
      double[] out = model(x, t);
      if (!failed && t < 600) {
        failed = true;
        double[] xs = x;
        assertThrows(NoiseUnavailableException.class, () -> s.step(out, t, xs, z -> {
          throw new NoiseUnavailableException("stream closed", null);
        }));
      }
      x = s.step(out, t, x, ok).prevSample();
    }
    assertTrue(failed);
    assertArrayEquals(want, x);
  }
}
