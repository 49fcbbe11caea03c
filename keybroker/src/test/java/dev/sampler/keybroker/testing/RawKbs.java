package dev.sampler.keybroker.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.attestation.kbs.RcarBinding;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;

/**
 * A hand-driven KBS client over java.net.http for tests that must send what a correct client
 * never would (wrong nonce, another key's binding, malformed JSON). Loopback only, 20 s timeouts.
 */
public final class RawKbs implements AutoCloseable {
  /** The JSON mapper the tests share. */
  public static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(20);

  /**
   * One response.
   *
   * @param status the HTTP status
   * @param body the body text
   * @param response the raw response (headers)
   */
  public record Reply(int status, String body, HttpResponse<String> response) {
    /** The body as JSON. */
    public JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new AssertionError("body is not JSON: " + body, e);
      }
    }

    /** The error Variant from the {@code type} URI, or null. */
    public String variant() {
      String t = json().path("type").asText("");
      return t.startsWith(dev.sampler.keybroker.KbsError.TYPE_PREFIX)
          ? t.substring(dev.sampler.keybroker.KbsError.TYPE_PREFIX.length()) : null;
    }

    /** The error detail. */
    public String detail() {
      return json().path("detail").asText(null);
    }

    /** The {@code kbs-session-id} value from Set-Cookie, if any. */
    public Optional<String> cookie() {
      return response.headers().allValues("set-cookie").stream()
          .map(h -> h.split(";", 2)[0].strip())
          .filter(c -> c.startsWith("kbs-session-id="))
          .map(c -> c.substring("kbs-session-id=".length()))
          .findFirst();
    }
  }

  /**
   * A session after {@code /auth}.
   *
   * @param cookie the session id
   * @param nonce the challenge nonce
   */
  public record Challenge(String cookie, String nonce) {}

  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(TIMEOUT).build();
  private final URI base;

  /** A client for the broker at {@code base} ({@code http://127.0.0.1:PORT/kbs/v0}). */
  public RawKbs(URI base) {
    this.base = base;
  }

  /** POSTs {@code body} to {@code base + path} with the cookie when not null. */
  public Reply post(String path, String body, String cookie) throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(TIMEOUT)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
    if (cookie != null) {
      b.header("Cookie", "kbs-session-id=" + cookie);
    }
    return send(b.build());
  }

  /** GETs {@code base + path} with the cookie and bearer token when not null. */
  public Reply get(String path, String cookie, String bearer) throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(TIMEOUT).GET();
    if (cookie != null) {
      b.header("Cookie", "kbs-session-id=" + cookie);
    }
    if (bearer != null) {
      b.header("Authorization", "Bearer " + bearer);
    }
    return send(b.build());
  }

  /** GETs an absolute path on the broker's host (for /health and unknown paths). */
  public Reply getAbsolute(String path) throws IOException, InterruptedException {
    return send(HttpRequest.newBuilder(base.resolve(path)).timeout(TIMEOUT).GET().build());
  }

  /** {@code POST /auth} for {@code tee}; asserts 200 and returns the session. */
  public Challenge auth(String tee) throws IOException, InterruptedException {
    Reply r = post("/auth", "{\"version\":\"0.4.0\",\"tee\":\"" + tee
        + "\",\"extra-params\":{\"supported-hash-algorithms\":[\"sha256\",\"sha384\",\"sha512\",\"sm3\"]}}", null);
    assertEquals(200, r.status(), r.body());
    return new Challenge(r.cookie().orElseThrow(), r.json().get("nonce").asText());
  }

  /** An Attestation body: {@code nonce}, {@code teePubkey}, sample evidence over {@code boundTo}'s binding. */
  public static String attestation(String nonce, JsonNode teePubkey, String svn, String bindNonce, JsonNode bindKey) {
    byte[] rd = RcarBinding.reportData(bindNonce, bindKey);
    ObjectNode a = JSON.createObjectNode();
    a.putNull("init-data");
    ObjectNode rt = a.putObject("runtime-data");
    rt.put("nonce", nonce);
    rt.set("tee-pubkey", teePubkey);
    ObjectNode ev = a.putObject("tee-evidence");
    ObjectNode pe = ev.putObject("primary_evidence");
    pe.put("svn", svn);
    pe.put("report_data", Base64.getEncoder().encodeToString(rd));
    ev.put("additional_evidence", "");
    return a.toString();
  }

  /** A correct Attestation body for {@code nonce} and {@code teePubkey} with svn 1. */
  public static String attestation(String nonce, JsonNode teePubkey) {
    return attestation(nonce, teePubkey, "1", nonce, teePubkey);
  }

  private Reply send(HttpRequest r) throws IOException, InterruptedException {
    HttpResponse<String> resp = http.send(r, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    return new Reply(resp.statusCode(), resp.body(), resp);
  }

  @Override
  public void close() {
    http.close();
  }
}
