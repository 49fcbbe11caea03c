package dev.sampler.server.observe;

import dev.sampler.scheduler.AdmissionEvent;
import dev.sampler.scheduler.AdmissionEventSink;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * The server's metrics, rendered in the Prometheus text exposition format (version 0.0.4).
 * Counters are kept here (admission events arrive through {@link #record}, gRPC calls through
 * {@link #requestCounter()}); gauges and the batchers' counters are read when scraped. No metric
 * carries a tenant, request id or any request content as a label.
 */
public final class Metrics implements AdmissionEventSink {
  /** Content type of {@link #scrape()}. */
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private record Family(String name, String type, String help) {}

  private final Map<String, Family> families = new ConcurrentHashMap<>();
  private final Map<String, Map<String, LongAdder>> counters = new ConcurrentHashMap<>();
  private final List<Sampled> sampled = new CopyOnWriteArrayList<>();

  /** A metric read at scrape time: label set (rendered) to value. */
  private record Sampled(Family family, Supplier<Map<String, Double>> values) {}

  /** An empty registry with the server's counter families declared. */
  public Metrics() {
    declare("sampler_admission_events_total", "counter",
        "Admission decisions and job outcomes, by event (admitted, rejected, started, dropped, completed, failed,"
            + " throttled) and status code");
    declare("sampler_grpc_requests_total", "counter", "gRPC calls finished, by method and status code");
    declare("sampler_oversized_messages_total", "counter",
        "Requests refused because a message exceeded grpc.max-message-size");
    declare("sampler_integrity_drift_total", "counter",
        "Runtime re-verifications that found drift (weights as loaded or signed files on disk)");
    // Counters without labels exist from the start, so a scrape shows 0 rather than nothing.
    for (String c : new String[] {"sampler_oversized_messages_total", "sampler_integrity_drift_total"}) {
      counters.computeIfAbsent(c, n -> new ConcurrentHashMap<>()).put("", new LongAdder());
    }
  }

  private Family declare(String name, String type, String help) {
    return families.computeIfAbsent(name, n -> new Family(n, type, help));
  }

  /** Adds one to counter {@code name} with labels given as name/value pairs. */
  public void increment(String name, String... labels) {
    counters.computeIfAbsent(name, n -> new ConcurrentHashMap<>())
        .computeIfAbsent(labels(labels), l -> new LongAdder())
        .increment();
  }

  /**
   * Registers a metric whose values are read at scrape time.
   *
   * @param type "gauge" or "counter"
   * @param values label set ({@link #labels}) to value
   */
  public void sampled(String name, String type, String help, Supplier<Map<String, Double>> values) {
    sampled.add(new Sampled(declare(name, type, help), values));
  }

  /** A gauge without labels. */
  public void gauge(String name, String help, Supplier<Double> value) {
    sampled(name, "gauge", help, () -> Map.of("", value.get()));
  }

  /** Counts one admission event. */
  @Override
  public void record(AdmissionEvent event) {
    String kind = event.getClass().getSimpleName().toLowerCase(Locale.ROOT);
    String code = switch (event) {
      case AdmissionEvent.Rejected r -> r.code().name();
      case AdmissionEvent.Dropped d -> d.code().name();
      case AdmissionEvent.Failed f -> f.code().name();
      case AdmissionEvent.Completed c -> "OK";
      default -> "";
    };
    if (code.isEmpty()) {
      increment("sampler_admission_events_total", "event", kind);
    } else {
      increment("sampler_admission_events_total", "event", kind, "code", code);
    }
  }

  /** Counts one request refused for its size. */
  public void oversized() {
    increment("sampler_oversized_messages_total");
  }

  /** An interceptor (install it outermost) counting every finished call by method and status code. */
  public ServerInterceptor requestCounter() {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        String method = call.getMethodDescriptor().getFullMethodName();
        AtomicBoolean counted = new AtomicBoolean();
        return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
          @Override
          public void close(Status status, Metadata trailers) {
            if (counted.compareAndSet(false, true)) {
              increment("sampler_grpc_requests_total", "method", method, "code", status.getCode().name());
            }
            super.close(status, trailers);
          }
        }, headers);
      }
    };
  }

  /** A rendered label set from name/value pairs (values escaped as the format requires). */
  public static String labels(String... pairs) {
    if (pairs.length == 0) {
      return "";
    }
    StringBuilder b = new StringBuilder("{");
    for (int i = 0; i + 1 < pairs.length; i += 2) {
      if (i > 0) {
        b.append(',');
      }
      b.append(pairs[i]).append("=\"")
          .append(pairs[i + 1].replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")).append('"');
    }
    return b.append('}').toString();
  }

  /** The current values in the Prometheus text format, families sorted by name. */
  public String scrape() {
    Map<String, Map<String, Double>> values = new TreeMap<>();
    for (Map.Entry<String, Map<String, LongAdder>> c : counters.entrySet()) {
      Map<String, Double> m = values.computeIfAbsent(c.getKey(), k -> new TreeMap<>());
      c.getValue().forEach((l, v) -> m.put(l, (double) v.sum()));
    }
    for (Sampled s : sampled) {
      Map<String, Double> m = values.computeIfAbsent(s.family().name(), k -> new TreeMap<>());
      try {
        m.putAll(s.values().get());
      } catch (RuntimeException e) {
        // a gauge whose source is closing is left out of this scrape
      }
    }
    for (Family f : families.values()) {
      values.computeIfAbsent(f.name(), k -> new TreeMap<>());
    }
    StringBuilder out = new StringBuilder();
    for (Map.Entry<String, Map<String, Double>> e : values.entrySet()) {
      Family f = families.get(e.getKey());
      out.append("# HELP ").append(f.name()).append(' ').append(f.help()).append('\n');
      out.append("# TYPE ").append(f.name()).append(' ').append(f.type()).append('\n');
      for (Map.Entry<String, Double> v : e.getValue().entrySet()) {
        out.append(f.name()).append(v.getKey()).append(' ').append(format(v.getValue())).append('\n');
      }
    }
    return out.toString();
  }

  private static String format(double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return Long.toString((long) v);
    }
    return Double.isNaN(v) ? "NaN" : Double.toString(v);
  }

  /** The names of the declared families (for tests and docs). */
  public List<String> names() {
    return new ArrayList<>(new TreeMap<>(families).keySet());
  }
}
