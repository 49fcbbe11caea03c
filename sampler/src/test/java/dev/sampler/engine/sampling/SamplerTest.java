package dev.sampler.engine.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sampler.engine.backend.BackendOptions;
import dev.sampler.engine.backend.Backends;
import dev.sampler.engine.backend.TensorBackend;
import dev.sampler.engine.schedule.NoiseScheduler;
import dev.sampler.engine.schedule.NoiseSource;
import dev.sampler.engine.schedule.SchedulerConfig;
import dev.sampler.engine.schedule.StepOutput;
import dev.sampler.engine.unet.UNet2DModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The loop's contract with a recording scheduler on the random-weight demo architecture: order of
 * calls, noise drawn only from the caller's source, cancellation, progress, request validation.
 * (Real schedulers with the trained model: SamplingFidelityTest.)
 */
class SamplerTest {
  static TensorBackend backend;
  static UNet2DModel model;

  @BeforeAll
  static void load() throws Exception {
    backend = Backends.create("cpu", BackendOptions.threads(2));
    model = UNet2DModel.load(Path.of("src/test/resources/models/random-demo"), backend);
  }

  @AfterAll
  static void close() {
    model.close();
    backend.close();
  }

  /** A scheduler that records what the loop hands it and moves x a little towards the output. */
  static final class Recording implements NoiseScheduler {
    final List<Double> stepped = new ArrayList<>();
    final List<double[]> outputs = new ArrayList<>();
    int steps;
    boolean drawsNoise;

    @Override public String className() { return "Recording"; }
    @Override public SchedulerConfig config() { return null; }
    @Override public int order() { return 1; }
    @Override public void setTimesteps(int n) { steps = n; stepped.clear(); }
    @Override public double[] timesteps() {
      double[] t = new double[steps];
      for (int i = 0; i < steps; i++) {
        t[i] = 900 - 100 * i;
      }
      return t;
    }
    @Override public double[] sigmas() { return new double[0]; }
    @Override public double initNoiseSigma() { return 2.0; }
    @Override public double[] scaleModelInput(double[] sample, double t) { return sample.clone(); }
    @Override public StepOutput step(double[] out, double t, double[] sample, NoiseSource noise) {
      stepped.add(t);
      outputs.add(out.clone());
      double[] prev = new double[sample.length];
      double[] z = new double[sample.length];
      if (drawsNoise) {
        noise.fill(z);
      }
      for (int i = 0; i < prev.length; i++) {
        prev[i] = 0.9 * sample[i] + 0.1 * out[i] + 0.01 * z[i];
      }
      return new StepOutput(prev, null);
    }
  }

  /** Counting standard-normal-ish source (deterministic). */
  static final class Counting implements NoiseSource {
    int calls;
    long values;

    @Override public void fill(double[] out) {
      calls++;
      for (int i = 0; i < out.length; i++) {
        out[i] = Math.sin(++values * 0.37);
      }
    }
  }

  @Test
  void run_guided_drawsInitialNoiseOnceAndStepsEveryTimestepInOrder() throws Exception {
    Sampler sampler = new Sampler(model, 9);
    Recording sched = new Recording();
    Counting noise = new Counting();
    List<Integer> progress = new ArrayList<>();
    SamplingResult r = sampler.run(new SamplingRequest(new int[] {0, 4}, 4, 3.0, 0.0), sched, noise,
        p -> progress.add(p.step()), () -> false);
    assertEquals(List.of(900.0, 800.0, 700.0, 600.0), sched.stepped);
    assertEquals(List.of(1, 2, 3, 4), progress);
    assertEquals(1, noise.calls, "only the initial latents draw noise from a deterministic scheduler");
    assertEquals(2 * 3 * 32 * 32, noise.values);
    assertEquals(4, r.modelEvaluations());
    assertEquals(2, r.count());
    assertEquals(2 * 3 * 32 * 32, r.images().length);
  }

  @Test
  void run_guidedOutput_isUncondPlusScaleTimesDifference() throws Exception {
    Recording sched = new Recording();
    new Sampler(model, 9).run(new SamplingRequest(new int[] {2}, 1, 4.0, 0.0), sched, new Counting(),
        SamplingListener.NONE, () -> false);
    // Recompute the first step's forward by hand: same latents (Counting restarts), rows [class 2, null 9].
    Counting again = new Counting();
    double[] x = new double[3 * 32 * 32];
    again.fill(x);
    float[] in = new float[2 * x.length];
    for (int i = 0; i < x.length; i++) {
      in[i] = (float) (x[i] * 2.0);
      in[x.length + i] = in[i];
    }
    float[] out = model.forward(in, 2, new float[] {900f, 900f}, new long[] {2, 9});
    double[] expected = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      double u = out[x.length + i];
      expected[i] = u + 4.0 * (out[i] - u);
    }
    assertArrayEquals(expected, sched.outputs.get(0), 0.0);
  }

  @Test
  void run_cancelledAfterTwoSteps_stopsBeforeTheThird() {
    Recording sched = new Recording();
    AtomicInteger polls = new AtomicInteger();
    SamplingCancelledException e = assertThrows(SamplingCancelledException.class, () -> new Sampler(model, 9).run(
        new SamplingRequest(new int[] {1}, 5, 2.0, 0.0), sched, new Counting(), SamplingListener.NONE,
        () -> polls.incrementAndGet() > 2));
    assertEquals("cancelled before step 3 of 5", e.getMessage());
    assertEquals(2, sched.stepped.size());
  }

  @Test
  void run_stochasticScheduler_drawsFromTheCallersSourceOnly() throws Exception {
    Recording sched = new Recording();
    sched.drawsNoise = true;
    Counting noise = new Counting();
    new Sampler(model, 9).run(new SamplingRequest(new int[] {1, 1, 1}, 3, 1.0, 0.0), sched, noise,
        SamplingListener.NONE, () -> false);
    assertEquals(4, noise.calls);
    assertEquals(4L * 3 * 3 * 32 * 32, noise.values);
  }

  @Test
  void validate_badRequests_failWithPreciseMessages() {
    Sampler guided = new Sampler(model, 9);
    assertEquals("class 9 is outside 0..8 (class 9 is the null class used for guidance)", assertThrows(
        IllegalArgumentException.class, () -> guided.validate(new SamplingRequest(new int[] {9}, 1, 3, 0))).getMessage());
    assertEquals("class -1 is outside 0..8 (class 9 is the null class used for guidance)", assertThrows(
        IllegalArgumentException.class, () -> guided.validate(new SamplingRequest(new int[] {-1}, 1, 3, 0))).getMessage());
    Sampler noNull = new Sampler(model, null);
    assertEquals("guidance scale 3.0 needs a null class, and this model has none: use a guidance scale of at most 1",
        assertThrows(IllegalArgumentException.class,
            () -> noNull.validate(new SamplingRequest(new int[] {1}, 1, 3, 0))).getMessage());
    assertEquals("null class 10 is not a class of the model (0..9)",
        assertThrows(IllegalArgumentException.class, () -> new Sampler(model, 10)).getMessage());
  }

  @Test
  void request_outOfRangeValues_failWithPreciseMessages() {
    assertEquals("steps must be 1..1000, got 0", assertThrows(IllegalArgumentException.class,
        () -> new SamplingRequest(new int[] {1}, 0, 3, 0)).getMessage());
    assertEquals("guidance scale must be a finite number in 0..30, got NaN", assertThrows(
        IllegalArgumentException.class, () -> new SamplingRequest(new int[] {1}, 10, Double.NaN, 0)).getMessage());
    assertEquals("guidance rescale must be a finite number in 0..1, got 1.5", assertThrows(
        IllegalArgumentException.class, () -> new SamplingRequest(new int[] {1}, 10, 3, 1.5)).getMessage());
    assertEquals("image count must be 1..256, got 0", assertThrows(IllegalArgumentException.class,
        () -> new SamplingRequest(new int[0], 10, 3, 0)).getMessage());
    assertTrue(new SamplingRequest(new int[] {1}, 10, 1.0, 0).guided() == false);
  }
}
