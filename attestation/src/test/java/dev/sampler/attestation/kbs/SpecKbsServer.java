package dev.sampler.attestation.kbs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.sampler.attestation.AttestationException;
import dev.sampler.attestation.jwe.Jwe;
import dev.sampler.attestation.jwe.Jwk;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A minimal key broker written from PROTOCOLS.md B1-B6 for testing the client's protocol
 * conformance: {@code POST /kbs/v0/auth}, {@code POST /kbs/v0/attest}, {@code GET
 * /kbs/v0/resource/<repo>/<type>/<tag>}, sessions by cookie, the sample verifier and JWE
 * encryption to the attested tee-pubkey. Tests can make an endpoint answer with a fixed status and
 * body, or stall. It is a test double only; the real reference broker is keybroker/.
 */
final class SpecKbsServer implements AutoCloseable {
  /** One request as the server saw it. */
  record Seen(String method, String path, String protocol, String contentType, String cookie, String body) {}

  private record Canned(int status, String body, boolean setCookie) {}

  private static final class Session {
    final String nonce;
    volatile JsonNode teePubkey;

    Session(String nonce) {
      this.nonce = nonce;
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();
  private final SecureRandom random = new SecureRandom();
  private final HttpServer server;
  private final String scheme;
  private final Map<String, Session> sessions = new ConcurrentHashMap<>();
  private final Map<String, byte[]> resources = new ConcurrentHashMap<>();
  private final Map<String, Canned> canned = new ConcurrentHashMap<>();
  private final Map<String, CountDownLatch> stalls = new ConcurrentHashMap<>();
  private final List<Seen> seen = new CopyOnWriteArrayList<>();
  private volatile JsonNode encryptTo; // when set, resources are encrypted to this JWK instead

  SpecKbsServer() throws IOException {
    this(null);
  }

  /** Serves https with {@code tls} when it is not null. */
  SpecKbsServer(javax.net.ssl.SSLContext tls) throws IOException {
    InetSocketAddress loopback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    if (tls == null) {
      server = HttpServer.create(loopback, 16);
    } else {
      com.sun.net.httpserver.HttpsServer https = com.sun.net.httpserver.HttpsServer.create(loopback, 16);
      https.setHttpsConfigurator(new com.sun.net.httpserver.HttpsConfigurator(tls));
      server = https;
    }
    scheme = tls == null ? "http" : "https";
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.createContext("/kbs/v0/", this::handle);
    server.start();
  }

  URI base() {
    return URI.create(scheme + "://127.0.0.1:" + server.getAddress().getPort() + "/kbs/v0");
  }

  void putResource(String path, byte[] value) {
    resources.put(path, value.clone());
  }

  /** Endpoint ("auth", "attest", "resource") answers status/body instead of following the protocol. */
  void answer(String endpoint, int status, String body) {
    canned.put(endpoint, new Canned(status, body, true));
  }

  /** Like {@link #answer} but without setting the session cookie. */
  void answerWithoutCookie(String endpoint, int status, String body) {
    canned.put(endpoint, new Canned(status, body, false));
  }

  /** Endpoint waits (at most 10 s, until {@link #close}) before answering. */
  void stall(String endpoint) {
    stalls.put(endpoint, new CountDownLatch(1));
  }

  /** Resources are encrypted to this JWK instead of the attested one ("wrong key" broker). */
  void encryptTo(JsonNode jwk) {
    encryptTo = jwk;
  }

  List<Seen> seen() {
    return List.copyOf(seen);
  }

  static String error(String variant, String detail) {
    return ErrorInformation.of(variant, detail).toJson().toString();
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      String path = ex.getRequestURI().getPath();
      seen.add(new Seen(ex.getRequestMethod(), path, ex.getProtocol(),
          ex.getRequestHeaders().getFirst("Content-Type"), ex.getRequestHeaders().getFirst("Cookie"), body));
      String endpoint =
          path.equals("/kbs/v0/auth") ? "auth"
              : path.equals("/kbs/v0/attest") ? "attest"
              : path.startsWith("/kbs/v0/resource/") ? "resource" : "other";
      CountDownLatch stall = stalls.get(endpoint);
      if (stall != null) {
        stall.await(10, TimeUnit.SECONDS);
      }
      Canned c = canned.get(endpoint);
      if (c != null) {
        if (c.setCookie) {
          setCookie(ex, newSession());
        }
        send(ex, c.status, c.body);
        return;
      }
      switch (endpoint) {
        case "auth" -> auth(ex, body);
        case "attest" -> attest(ex, body);
        case "resource" -> resource(ex, path.substring("/kbs/v0/resource/".length()));
        default -> send(ex, 404, error("InvalidRequestPath", "Request path is invalid"));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void auth(HttpExchange ex, String body) throws IOException {
    if (!ex.getRequestMethod().equals("POST")) {
      send(ex, 404, error("InvalidRequestPath", "method"));
      return;
    }
    Request req;
    try {
      req = Request.fromJson(JSON.readTree(body));
    } catch (AttestationException | IOException e) {
      send(ex, 401, error("SerdeError", "Serialize/Deserialize failed"));
      return;
    }
    if (!req.version().equals(KbsProtocol.VERSION) || !req.tee().equals("sample")) {
      send(ex, 401, error("AttestationError", "Attestation error: request"));
      return;
    }
    String id = newSession();
    setCookie(ex, id);
    send(ex, 200, Challenge.of(sessions.get(id).nonce).toJson().toString());
  }

  private void attest(HttpExchange ex, String body) throws IOException {
    Session s = session(ex);
    if (s == null) {
      send(ex, 401, error("AttestationError", "Attestation error: no session"));
      return;
    }
    try {
      Attestation a = Attestation.fromJson(JSON.readTree(body));
      if (!a.runtimeData().nonce().equals(s.nonce)) {
        throw new AttestationException("nonce mismatch");
      }
      Jwk.publicKey(a.runtimeData().teePubkey());
      byte[] expected = RcarBinding.reportData(
          s.nonce, a.runtimeData().teePubkey(), a.teeEvidence().additionalEvidence(), "sha384");
      SampleVerifier.verify(a.teeEvidence().primaryEvidence(), expected);
      s.teePubkey = a.runtimeData().teePubkey();
    } catch (AttestationException | IOException e) {
      send(ex, 401, error("AttestationError", "Attestation error: " + e.getMessage()));
      return;
    }
    ObjectNode token = JSON.createObjectNode();
    token.put("token", "e30.e30.c2ln");
    setCookie(ex, cookie(ex));
    send(ex, 200, token.toString());
  }

  private void resource(HttpExchange ex, String path) throws IOException {
    Session s = session(ex);
    if (s == null || s.teePubkey == null) {
      send(ex, 401, error("TokenNotFound", "Attestation Token not found"));
      return;
    }
    byte[] value = resources.get(path);
    if (value == null) {
      send(ex, 401, error("PluginInternalError", "Plugin internal error"));
      return;
    }
    try {
      send(ex, 200, Jwe.encrypt(value, encryptTo != null ? encryptTo : s.teePubkey));
    } catch (AttestationException e) {
      send(ex, 401, error("JweError", "JWE failed"));
    }
  }

  private String newSession() {
    byte[] n = new byte[32];
    random.nextBytes(n);
    byte[] id = new byte[16];
    random.nextBytes(id);
    String sid = HexFormat.of().formatHex(id);
    sessions.put(sid, new Session(Base64.getEncoder().encodeToString(n)));
    return sid;
  }

  private Session session(HttpExchange ex) {
    String id = cookie(ex);
    return id == null ? null : sessions.get(id);
  }

  private static String cookie(HttpExchange ex) {
    String h = ex.getRequestHeaders().getFirst("Cookie");
    if (h == null) {
      return null;
    }
    for (String part : h.split(";")) {
      String p = part.strip();
      if (p.startsWith(KbsProtocol.SESSION_COOKIE + "=")) {
        return p.substring(KbsProtocol.SESSION_COOKIE.length() + 1);
      }
    }
    return null;
  }

  private static void setCookie(HttpExchange ex, String id) {
    // Trustee's form (B1): no Path, no HttpOnly, an Expires attribute.
    ex.getResponseHeaders().add("Set-Cookie",
        KbsProtocol.SESSION_COOKIE + "=" + id + "; Expires=Thu, 01 Jan 2099 00:00:00 GMT");
  }

  private static void send(HttpExchange ex, int status, String body) throws IOException {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(status, b.length == 0 ? -1 : b.length);
    if (b.length > 0) {
      ex.getResponseBody().write(b);
    }
  }

  @Override
  public void close() {
    stalls.values().forEach(CountDownLatch::countDown);
    server.stop(0);
  }
}
