package dev.sampler.benchmarks;

import dev.sampler.engine.backend.BackendOptions;
import dev.sampler.engine.backend.Backends;
import dev.sampler.engine.backend.TensorBackend;
import dev.sampler.engine.unet.UNet2DModel;

/**
 * Where a forward pass spends its time: runs warm-up forwards, then times {@code iterations}
 * forwards with the backend's per-operation profile on and prints the table (and the plain
 * wall-clock per forward without profiling, for comparison).
 *
 * <p>Usage: {@code java <jvm flags> -cp benchmarks.jar dev.sampler.benchmarks.ProfileUNet [batch]
 * [threads] [conv] [iterations] [modelDir]}
 */
public final class ProfileUNet {
  private ProfileUNet() {}

  public static void main(String[] args) throws Exception {
    int batch = args.length > 0 ? Integer.parseInt(args[0]) : 1;
    int threads = args.length > 1 ? Integer.parseInt(args[1]) : 2;
    String conv = args.length > 2 ? args[2] : "java";
    int iterations = args.length > 3 ? Integer.parseInt(args[3]) : 20;
    String dir = args.length > 4 ? args[4] : "";
    for (boolean profile : new boolean[] {false, true}) {
      try (TensorBackend backend = Backends.create("cpu",
              BackendOptions.threads(threads).with("conv", conv).with("profile", Boolean.toString(profile)));
          UNet2DModel model = UNet2DModel.load(BenchModels.resolve(dir), backend)) {
        if (!profile) {
          System.out.println(backend.description());
          System.out.print(model.summary());
        }
        var c = model.config();
        float[] sample = BenchModels.sample(batch * c.inChannels() * model.sampleHeight() * model.sampleWidth(), 42);
        float[] t = BenchModels.timesteps(batch);
        long[] labels = BenchModels.labels(batch, c.numClassEmbeds());
        // warm up (the JIT compiles the kernels) for at least 3 s and 10 forwards
        long warm = System.nanoTime();
        for (int i = 0; i < 10 || System.nanoTime() - warm < 3_000_000_000L; i++) {
          model.forward(sample, batch, t, labels);
        }
        backend.resetProfile();
        var mx = java.lang.management.ManagementFactory.getThreadMXBean();
        long c0 = mx.getCurrentThreadCpuTime();
        long t0 = System.nanoTime();
        double best = Double.MAX_VALUE;
        for (int i = 0; i < iterations; i++) {
          long s = System.nanoTime();
          model.forward(sample, batch, t, labels);
          best = Math.min(best, (System.nanoTime() - s) / 1e6);
        }
        double ms = (System.nanoTime() - t0) / 1e6 / iterations;
        double cpu = (mx.getCurrentThreadCpuTime() - c0) / 1e6 / iterations;
        System.out.printf("batch %d, %d threads, conv=%s, profile=%s: %.2f ms per forward (best %.2f; calling "
            + "thread CPU %.2f ms)%n", batch, threads, conv, profile, ms, best, cpu);
        if (profile) {
          System.out.println("per-operation time over " + iterations + " forwards:");
          System.out.print(backend.profile());
        }
      }
    }
  }
}
