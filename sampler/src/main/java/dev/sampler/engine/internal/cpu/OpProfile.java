package dev.sampler.engine.internal.cpu;

import java.util.LinkedHashMap;
import java.util.Map;

/** Wall-clock time per operation kind (single-threaded use, like the backend's methods). */
final class OpProfile {
  private final Map<String, long[]> ops = new LinkedHashMap<>();

  void add(String op, long nanos) {
    long[] c = ops.computeIfAbsent(op, k -> new long[2]);
    c[0]++;
    c[1] += nanos;
  }

  void reset() {
    ops.clear();
  }

  String report() {
    long total = 0;
    for (long[] c : ops.values()) {
      total += c[1];
    }
    StringBuilder sb = new StringBuilder(String.format("%-22s %8s %10s %10s %6s%n", "op", "calls", "total ms", "mean us", "share"));
    final long tot = Math.max(1, total);
    ops.entrySet().stream()
        .sorted((a, b) -> Long.compare(b.getValue()[1], a.getValue()[1]))
        .forEach(e -> sb.append(String.format("%-22s %8d %10.2f %10.1f %5.1f%%%n", e.getKey(), e.getValue()[0],
            e.getValue()[1] / 1e6, e.getValue()[1] / 1e3 / e.getValue()[0], 100.0 * e.getValue()[1] / tot)));
    sb.append(String.format("%-22s %8s %10.2f%n", "total", "", total / 1e6));
    return sb.toString();
  }
}
