package dev.sampler.server.config;

import java.time.Duration;

/**
 * Work done before the server reports SERVING (YAML section {@code warmup}), so the first client
 * requests do not pay for class loading and JIT compilation.
 *
 * @param enabled run the warm-up at all
 * @param generations short generations per model, through the real admission and batcher path
 * @param steps steps of each warm-up generation
 * @param noise CPU time spent drawing noise so the noise stream's code reaches C2 (about 4 s)
 */
public record WarmupSettings(boolean enabled, int generations, int steps, Duration noise) {
  /** No warm-up (tests that do not measure latency). */
  public static WarmupSettings off() {
    return new WarmupSettings(false, 0, 1, Duration.ZERO);
  }
}
