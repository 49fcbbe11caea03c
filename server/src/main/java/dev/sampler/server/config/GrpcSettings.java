package dev.sampler.server.config;

/**
 * The gRPC socket (YAML section {@code grpc}).
 *
 * @param host the address to bind, e.g. {@code 127.0.0.1} or {@code 0.0.0.0}
 * @param port the TCP port; 0 picks a free one (tests), see {@code SamplerServer.grpcPort()}
 * @param maxMessageSize largest inbound message in bytes, compressed and decompressed; larger
 *     messages end the call with RESOURCE_EXHAUSTED
 * @param maxConcurrentStreams HTTP/2 streams (calls) a client may open at once on one connection
 * @param maxConnections TCP connections accepted at once (-1: no limit)
 * @param insecurePlaintext serve without TLS; allowed only on a loopback host, logged loudly
 * @param reflection serve grpc.reflection (lists the services and their schema)
 */
public record GrpcSettings(String host, int port, int maxMessageSize, int maxConcurrentStreams, int maxConnections,
    boolean insecurePlaintext, boolean reflection) {
  /** The port the server listens on unless configured. */
  public static final int DEFAULT_PORT = 50051;

  /** Largest inbound message unless configured: 4 MiB, as grpc-java's default. */
  public static final int DEFAULT_MAX_MESSAGE_SIZE = 4 << 20;

  /** A copy on another port (0: ephemeral). */
  public GrpcSettings withPort(int port) {
    return new GrpcSettings(host, port, maxMessageSize, maxConcurrentStreams, maxConnections, insecurePlaintext,
        reflection);
  }
}
