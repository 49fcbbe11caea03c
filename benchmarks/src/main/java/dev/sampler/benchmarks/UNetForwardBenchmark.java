package dev.sampler.benchmarks;

import dev.sampler.engine.backend.BackendOptions;
import dev.sampler.engine.backend.Backends;
import dev.sampler.engine.backend.TensorBackend;
import dev.sampler.engine.unet.UNet2DModel;
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
 * One UNet2DModel forward pass of the demo architecture (32x32, channels 32/64/64) on the CPU
 * backend, at batch 1 and 8. The model is {@code models/demo} when it has weights, else the
 * random-init test model of the same architecture ({@code -p modelDir=...} overrides).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
    "--add-modules=jdk.incubator.vector", "-Xmx2g"})
public class UNetForwardBenchmark {
  @Param({"1", "8"})
  public int batch;

  /** Compute threads of the backend; 2 = the cores of the reference machine. */
  @Param({"2"})
  public int threads;

  /** The cpu backend's convolution engine: java or onednn. */
  @Param({"java"})
  public String conv;

  @Param({""})
  public String modelDir;

  private TensorBackend backend;
  private UNet2DModel model;
  private float[] sample;
  private float[] timesteps;
  private long[] labels;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    backend = Backends.create("cpu", BackendOptions.threads(threads).with("conv", conv));
    model = UNet2DModel.load(BenchModels.resolve(modelDir), backend);
    var c = model.config();
    int h = model.sampleHeight(), w = model.sampleWidth();
    sample = BenchModels.sample(batch * c.inChannels() * h * w, 42);
    timesteps = BenchModels.timesteps(batch);
    labels = BenchModels.labels(batch, c.numClassEmbeds());
  }

  @Benchmark
  public float[] forward() {
    return model.forward(sample, batch, timesteps, labels);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    model.close();
    backend.close();
  }
}
