package dev.sampler.server.config;

/**
 * The observability socket (YAML section {@code observe}): HTTP/1.1 only, serving {@code
 * /health/live}, {@code /health/ready} and {@code /metrics}; never gRPC.
 *
 * @param enabled open the socket
 * @param host the address to bind (loopback by default: metrics name tenants)
 * @param port the TCP port; 0 picks a free one
 */
public record ObserveSettings(boolean enabled, String host, int port) {
  /** The port unless configured (the OpenTelemetry Prometheus exporter's customary port). */
  public static final int DEFAULT_PORT = 9464;

  /** A copy on another port (0: ephemeral). */
  public ObserveSettings withPort(int port) {
    return new ObserveSettings(enabled, host, port);
  }
}
