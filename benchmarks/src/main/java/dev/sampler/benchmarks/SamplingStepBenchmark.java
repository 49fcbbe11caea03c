package dev.sampler.benchmarks;

import dev.sampler.engine.backend.BackendOptions;
import dev.sampler.engine.backend.Backends;
import dev.sampler.engine.backend.TensorBackend;
import dev.sampler.engine.sampling.DiffusionPipeline;
import dev.sampler.engine.sampling.StreamNoise;
import dev.sampler.engine.schedule.NoiseScheduler;
import dev.sampler.engine.schedule.Schedulers;
import dev.sampler.rng.NoiseStream;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What noise costs inside a denoising step: {@code step} is one guided step of the demo model as
 * the Sampler runs it (scale input, one UNet forward over the conditional and null-class rows,
 * guidance, an Euler ancestral step that draws fresh noise for every image) and
 * {@code noiseForOneStep} draws the same amount of noise from the same kind of stream. Their ratio,
 * from one run, is the noise share of a step.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class SamplingStepBenchmark {

  @Param({"1", "8"})
  public int images;

  @Param({"2"})
  public int threads;

  private TensorBackend backend;
  private DiffusionPipeline pipeline;
  private NoiseScheduler scheduler;
  private NoiseStream stream;
  private StreamNoise noise;
  private double[] latents;
  private double[] timesteps;
  private int index;
  private float[] input;
  private float[] ts;
  private long[] labels;
  private double[] eps;
  private double[] noiseBuffer;
  private int per;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    backend = Backends.create("cpu", BackendOptions.threads(threads));
    pipeline = DiffusionPipeline.load(BenchModels.DEMO, backend);
    scheduler = Schedulers.named("euler-ancestral", pipeline.schedulerConfig());
    stream = NoiseStream.fromOsEntropy(new NoiseStream.Personalization("bench", "sampling-step"));
    noise = new StreamNoise(stream);
    per = 3 * pipeline.model().sampleHeight() * pipeline.model().sampleWidth();
    input = new float[2 * images * per];
    ts = new float[2 * images];
    labels = new long[2 * images];
    for (int k = 0; k < images; k++) {
      labels[k] = k % 9;
      labels[images + k] = pipeline.classes().nullClass();
    }
    eps = new double[images * per];
    noiseBuffer = new double[images * per];
    restart();
  }

  private void restart() {
    scheduler.setTimesteps(30);
    timesteps = scheduler.timesteps();
    latents = new double[images * per];
    noise.fill(latents);
    double s = scheduler.initNoiseSigma();
    for (int i = 0; i < latents.length; i++) {
      latents[i] *= s;
    }
    index = 0;
  }

  @Benchmark
  public double[] step() {
    if (index == timesteps.length) {
      restart();
    }
    double t = timesteps[index++];
    double[] scaled = scheduler.scaleModelInput(latents, t);
    for (int i = 0; i < scaled.length; i++) {
      input[i] = (float) scaled[i];
      input[scaled.length + i] = (float) scaled[i];
    }
    java.util.Arrays.fill(ts, (float) t);
    float[] out = pipeline.model().forward(input, 2 * images, ts, labels);
    int n = images * per;
    for (int i = 0; i < n; i++) {
      double u = out[n + i];
      eps[i] = u + 3.0 * (out[i] - u);
    }
    latents = scheduler.step(eps, t, latents, noise).prevSample();
    return latents;
  }

  @Benchmark
  public double[] noiseForOneStep() {
    noise.fill(noiseBuffer);
    return noiseBuffer;
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    stream.close();
    pipeline.close();
    backend.close();
  }
}
