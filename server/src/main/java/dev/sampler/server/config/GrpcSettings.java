package dev.sampler.server.config;

import java.time.Duration;
import java.util.Objects;

/**
 * The gRPC socket (YAML section {@code grpc}).
 *
 * @param host the address to bind, e.g. {@code 127.0.0.1} or {@code 0.0.0.0}
 * @param port the TCP port; 0 picks a free one (tests), see {@code SamplerServer.grpcPort()}
 * @param maxMessageSize largest inbound message in bytes, compressed and decompressed; larger
 *     messages end the call with RESOURCE_EXHAUSTED
 * @param maxConcurrentStreams HTTP/2 streams (calls) a client may open on one connection. Helidon
 *     4.5.0 never releases a gRPC stream that ended normally (its gRPC handler writes the trailers
 *     past the stream's own state machine, so the stream is not deactivated): the limit therefore
 *     counts every call a connection has ever carried, and the call after it fails UNAVAILABLE
 *     (GOAWAY REFUSED_STREAM). The default, {@link #DEFAULT_MAX_CONCURRENT_STREAMS}, is set so a
 *     long-lived client connection lasts; real concurrency is bounded by admission (per-tenant
 *     concurrency and the queue), not by this setting. See server/README.md, known defects
 * @param maxConnections TCP connections accepted at once (-1: no limit)
 * @param insecurePlaintext serve without TLS; allowed only on a loopback host, logged loudly
 * @param reflection serve grpc.reflection (lists the services and their schema)
 * @param maxRapidResets HTTP/2 rapid-reset defence (CVE-2023-44487): a client that resets more
 *     streams than this within {@code rapidResetPeriod} gets GOAWAY ENHANCE_YOUR_CALM and its
 *     connection is closed (Helidon 4.5 counts every client reset of a gRPC stream, cancellations
 *     included: see {@link #DEFAULT_MAX_RAPID_RESETS}); -1 turns the check off
 * @param rapidResetPeriod the window {@code maxRapidResets} is counted in
 * @param idleTimeout a connection with no open stream and no traffic for this long is closed
 *     (slow-loris defence; checked every quarter of it, at most every 2 minutes). Connections with
 *     open streams, such as a Generate call waiting in the queue, are never idle
 */
public record GrpcSettings(String host, int port, int maxMessageSize, int maxConcurrentStreams, int maxConnections,
    boolean insecurePlaintext, boolean reflection, int maxRapidResets, Duration rapidResetPeriod,
    Duration idleTimeout) {
  /** The port the server listens on unless configured. */
  public static final int DEFAULT_PORT = 50051;

  /** Streams per connection unless configured (see {@code maxConcurrentStreams}). */
  public static final int DEFAULT_MAX_CONCURRENT_STREAMS = 1 << 20;

  /** Largest inbound message unless configured: 4 MiB, as grpc-java's default. */
  public static final int DEFAULT_MAX_MESSAGE_SIZE = 4 << 20;

  /**
   * Rapid resets allowed per period unless configured: 200 per 10 s, four times Helidon's 50.
   * Helidon 4.5 counts EVERY client reset of a gRPC stream as rapid, even after the server has
   * answered (its check looks at the HTTP/2 stream's own write state, which the gRPC handler does
   * not advance), so each cancelled call and each client-side deadline counts; at 50 a gateway that
   * cancels a few dozen calls in 10 s on one connection would lose the connection and every call on
   * it (seen in e2e AbuseE2eTest's cancel storm). 200 per 10 s still stops an attack (which needs
   * thousands of resets per second) within the first few hundred streams.
   */
  public static final int DEFAULT_MAX_RAPID_RESETS = 200;

  /** The rapid-reset counting window unless configured (Helidon's default). */
  public static final Duration DEFAULT_RAPID_RESET_PERIOD = Duration.ofSeconds(10);

  /** Idle connections are closed after this unless configured (Helidon's default). */
  public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(5);

  /** Checks the durations. */
  public GrpcSettings {
    Objects.requireNonNull(rapidResetPeriod, "rapidResetPeriod");
    Objects.requireNonNull(idleTimeout, "idleTimeout");
  }

  /** Settings with the default rapid-reset and idle-connection limits. */
  public GrpcSettings(String host, int port, int maxMessageSize, int maxConcurrentStreams, int maxConnections,
      boolean insecurePlaintext, boolean reflection) {
    this(host, port, maxMessageSize, maxConcurrentStreams, maxConnections, insecurePlaintext, reflection,
        DEFAULT_MAX_RAPID_RESETS, DEFAULT_RAPID_RESET_PERIOD, DEFAULT_IDLE_TIMEOUT);
  }

  /** A copy on another port (0: ephemeral). */
  public GrpcSettings withPort(int port) {
    return new GrpcSettings(host, port, maxMessageSize, maxConcurrentStreams, maxConnections, insecurePlaintext,
        reflection, maxRapidResets, rapidResetPeriod, idleTimeout);
  }

  /** How often idle connections are looked for: a quarter of the timeout, between 1 s and 2 min. */
  public Duration idleCheckPeriod() {
    Duration q = idleTimeout.dividedBy(4);
    Duration min = Duration.ofSeconds(1);
    Duration max = Duration.ofMinutes(2);
    return q.compareTo(min) < 0 ? min : q.compareTo(max) > 0 ? max : q;
  }
}
