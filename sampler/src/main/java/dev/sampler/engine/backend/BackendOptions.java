package dev.sampler.engine.backend;

import java.util.Map;

/**
 * Settings for creating a backend.
 *
 * @param threads compute threads the backend may use (including the calling thread), at least 1
 * @param properties backend-specific settings; a backend rejects keys it does not know
 */
public record BackendOptions(int threads, Map<String, String> properties) {
  public BackendOptions {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1: " + threads);
    }
    properties = Map.copyOf(properties);
  }

  /** {@code threads} threads, no backend-specific settings. */
  public static BackendOptions threads(int threads) {
    return new BackendOptions(threads, Map.of());
  }

  /** A copy with one more backend-specific setting. */
  public BackendOptions with(String key, String value) {
    var m = new java.util.HashMap<>(properties);
    m.put(key, value);
    return new BackendOptions(threads, m);
  }
}
