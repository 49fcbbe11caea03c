package dev.sampler.benchmarks.load;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the load driver saw, per tenant: latencies of completed requests, terminal statuses, and
 * every violation of the stream contract (a lost response, a duplicate, an event out of order, a
 * wrong status). Thread-safe.
 */
final class LoadStats {
  /** One finished call. */
  record Call(String tenant, String phase, String status, long latencyNanos, int images) {}

  final ConcurrentLinkedQueue<Call> calls = new ConcurrentLinkedQueue<>();
  final ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
  final Map<String, Boolean> terminals = new ConcurrentHashMap<>();
  final AtomicLong sent = new AtomicLong();

  void sent(String requestId) {
    sent.incrementAndGet();
    if (terminals.putIfAbsent(requestId, Boolean.FALSE) != null) {
      violations.add("request id sent twice by the driver: " + requestId);
    }
  }

  /** Records the one terminal outcome of {@code requestId}; a second one is a duplicate. */
  void terminal(String requestId, Call call) {
    Boolean prev = terminals.replace(requestId, Boolean.TRUE);
    if (prev == null) {
      violations.add("terminal outcome for a request the driver never sent: " + requestId);
    } else if (prev) {
      violations.add("duplicate terminal outcome for " + requestId);
    }
    calls.add(call);
  }

  void violation(String what) {
    violations.add(what);
  }

  long lost() {
    return terminals.values().stream().filter(v -> !v).count();
  }

  /** Nearest-rank percentile in milliseconds of the completed calls matching the filter. */
  static double percentileMs(List<Long> sortedNanos, double p) {
    if (sortedNanos.isEmpty()) {
      return Double.NaN;
    }
    int rank = (int) Math.ceil(p / 100.0 * sortedNanos.size());
    return sortedNanos.get(Math.max(0, Math.min(sortedNanos.size() - 1, rank - 1))) / 1e6;
  }

  List<Long> latencies(String tenant, String phase) {
    List<Long> out = new ArrayList<>();
    for (Call c : calls) {
      if ("OK".equals(c.status()) && (tenant == null || c.tenant().equals(tenant))
          && (phase == null || c.phase().equals(phase))) {
        out.add(c.latencyNanos());
      }
    }
    Collections.sort(out);
    return out;
  }

  Map<String, Long> statusCounts(String phase) {
    Map<String, Long> m = new TreeMap<>();
    for (Call c : calls) {
      if (phase == null || c.phase().equals(phase)) {
        m.merge(c.status(), 1L, Long::sum);
      }
    }
    return m;
  }

  long images(String phase) {
    long n = 0;
    for (Call c : calls) {
      if ("OK".equals(c.status()) && (phase == null || c.phase().equals(phase))) {
        n += c.images();
      }
    }
    return n;
  }
}
