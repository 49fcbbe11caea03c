package dev.sampler.benchmarks;

import java.util.LinkedHashMap;
import java.util.Map;

/** The {@code --name value} command lines of the main-method benchmarks. */
final class BenchOptions {
  private BenchOptions() {}

  /** The pairs in order; anything else is a usage error naming the argument. */
  static Map<String, String> parse(String[] args) {
    Map<String, String> o = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (!args[i].startsWith("--") || i + 1 == args.length) {
        throw new IllegalArgumentException("usage: --name value ...; got " + args[i]);
      }
      o.put(args[i].substring(2), args[++i]);
    }
    return o;
  }
}
