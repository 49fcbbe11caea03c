package dev.sampler.benchmarks;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** Where the benchmarks find a model, and their fixed inputs. */
final class BenchModels {
  static final Path DEMO = Path.of("models/demo");
  static final Path RANDOM_DEMO = Path.of("sampler/src/test/resources/models/random-demo");

  private BenchModels() {}

  /**
   * {@code explicit} if given, else {@code models/demo} when it has weights, else the random-init
   * test model of the same architecture. Paths are relative to the repository root (the working
   * directory of bench-unet.sh).
   */
  static Path resolve(String explicit) {
    if (explicit != null && !explicit.isEmpty()) {
      return Path.of(explicit);
    }
    if (Files.isRegularFile(DEMO.resolve("diffusion_pytorch_model.safetensors"))) {
      return DEMO;
    }
    if (Files.isRegularFile(RANDOM_DEMO.resolve("diffusion_pytorch_model.safetensors"))) {
      return RANDOM_DEMO;
    }
    throw new IllegalStateException("no model: run from the repository root (looked for " + DEMO + " and "
        + RANDOM_DEMO + ")");
  }

  /** Standard-normal-ish inputs from a fixed seed (the values do not matter for timing). */
  static float[] sample(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) (r.nextDouble() * 2 - 1) * 1.7f;
    }
    return a;
  }

  static float[] timesteps(int batch) {
    float[] t = new float[batch];
    for (int i = 0; i < batch; i++) {
      t[i] = (i * 997 + 13) % 1000;
    }
    return t;
  }

  static long[] labels(int batch, Integer classes) {
    if (classes == null) {
      return null;
    }
    long[] l = new long[batch];
    for (int i = 0; i < batch; i++) {
      l[i] = i % classes;
    }
    return l;
  }
}
