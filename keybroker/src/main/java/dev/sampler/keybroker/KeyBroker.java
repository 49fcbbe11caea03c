package dev.sampler.keybroker;

import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.helidon.webserver.http1.Http1Config;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * The broker's HTTP/1.1 server (Helidon SE WebServer, plain HTTP: front it with a TLS proxy for
 * anything but loopback): every request goes to one {@link BrokerService}. Request bodies are
 * bounded by {@link BrokerService#MAX_BODY}; responses are JSON with {@code Cache-Control:
 * no-store}.
 */
public final class KeyBroker implements AutoCloseable {
  /**
   * Where and how to listen.
   *
   * @param host the address to bind (default 127.0.0.1)
   * @param port the port; 0 picks a free one
   * @param maxConnections most simultaneous TCP connections
   * @param idleTimeout how long an idle connection is kept
   */
  public record Listen(String host, int port, int maxConnections, Duration idleTimeout) {
    /** Validates. */
    public Listen {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be 0 to 65535");
      }
      if (maxConnections < 1) {
        throw new IllegalArgumentException("max connections must be >= 1");
      }
    }
  }

  private final WebServer server;
  private final String host;

  private KeyBroker(WebServer server, String host) {
    this.server = server;
    this.host = host;
  }

  /**
   * Binds and starts serving {@code service}.
   *
   * @throws IllegalStateException when the socket cannot be bound (Helidon's message)
   */
  public static KeyBroker start(Listen listen, BrokerService service) {
    WebServer server = WebServer.builder()
        .shutdownHook(false) // KeyBrokerMain stops it, then closes the key store and audit log
        .featuresDiscoverServices(false)
        .protocolsDiscoverServices(false)
        .addProtocol(Http1Config.create()) // HTTP/1.1 only
        .host(listen.host())
        .port(listen.port())
        .maxTcpConnections(listen.maxConnections())
        .idleConnectionTimeout(listen.idleTimeout())
        .routing(r -> r.any((req, res) -> serve(service, req, res)))
        .build()
        .start();
    return new KeyBroker(server, listen.host());
  }

  /** The bound port. */
  public int port() {
    return server.port();
  }

  /** {@code http://host:port/kbs/v0}, the base a KBS client takes. */
  public URI baseUri() {
    String h = host.contains(":") ? "[" + host + "]" : host;
    return URI.create("http://" + h + ":" + port() + BrokerService.PREFIX);
  }

  /** Stops the server (in-flight requests are cut off). */
  @Override
  public void close() {
    server.stop();
  }

  private static void serve(BrokerService service, ServerRequest req, ServerResponse res) {
    String client = clientAddress(req.remotePeer().address());
    String method = req.prologue().method().text();
    String path = req.path().rawPath();
    HttpReply reply;
    Optional<byte[]> body = readBody(req);
    if (body.isEmpty()) {
      reply = HttpReply.error(new KbsError(KbsError.Variant.AttestationError,
          "request body is larger than " + BrokerService.MAX_BODY + " bytes"));
    } else {
      reply = service.handle(new HttpCall(method, path, client, req.headers().values(HeaderNames.COOKIE),
          req.headers().first(HeaderNames.AUTHORIZATION), body.get()));
    }
    res.status(Status.create(reply.status()));
    res.header(HeaderNames.CONTENT_TYPE, "application/json");
    res.header(HeaderNames.CACHE_CONTROL, "no-store");
    for (Map.Entry<String, String> h : reply.headers().entrySet()) {
      res.header(HeaderNames.create(h.getKey()), h.getValue());
    }
    res.send(reply.body());
  }

  /** The body, or empty when it is larger than the limit. */
  private static Optional<byte[]> readBody(ServerRequest req) {
    var length = req.headers().contentLength();
    if (length.isPresent() && length.getAsLong() > BrokerService.MAX_BODY) {
      return Optional.empty();
    }
    if (!req.content().hasEntity()) {
      return Optional.of(new byte[0]);
    }
    try (InputStream in = req.content().inputStream()) {
      byte[] b = in.readNBytes(BrokerService.MAX_BODY + 1);
      return b.length > BrokerService.MAX_BODY ? Optional.empty() : Optional.of(b);
    } catch (IOException e) {
      return Optional.of(new byte[0]);
    }
  }

  private static String clientAddress(SocketAddress a) {
    if (a instanceof InetSocketAddress isa) {
      InetAddress ia = isa.getAddress();
      return ia != null ? ia.getHostAddress() : isa.getHostString();
    }
    return String.valueOf(a);
  }
}
