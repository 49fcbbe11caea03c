package dev.sampler.attestation.kbs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sampler.attestation.AttestationException;
import dev.sampler.attestation.EvidenceProvider;
import dev.sampler.attestation.SampleEvidenceProvider;
import dev.sampler.attestation.TeeKeyPair;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The client's RCAR protocol conformance and error mapping against {@link SpecKbsServer}, a small
 * in-test broker written from PROTOCOLS.md B1-B6 (loopback only). The integration with the real
 * reference broker process lives in keybroker/.
 */
class KbsClientTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ResourceId ID = ResourceId.parse("kbs:///default/key/model-key");
  private static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  private SpecKbsServer kbs;

  @BeforeEach
  void start() throws Exception {
    kbs = new SpecKbsServer();
    kbs.putResource(ID.path(), SECRET);
  }

  @AfterEach
  void stop() {
    kbs.close();
  }

  private KbsClient client(EvidenceProvider p, Duration timeout) {
    return new KbsClient(kbs.base(), p, timeout);
  }

  private KbsException fetchFails(EvidenceProvider p, Duration timeout) {
    try (KbsClient c = client(p, timeout)) {
      return assertThrows(KbsException.class, () -> c.fetchResource(ID));
    }
  }

  private KbsException fetchFails() {
    return fetchFails(new SampleEvidenceProvider(true), TIMEOUT);
  }

  @Test
  void fetchResource_sampleTee_returnsPlaintextAfterConformantHandshake() throws Exception {
    byte[] got;
    try (KbsClient c = client(new SampleEvidenceProvider(true), TIMEOUT)) {
      got = c.fetchResource(ID);
    }
    assertArrayEquals(SECRET, got);

    List<SpecKbsServer.Seen> seen = kbs.seen();
    assertEquals(3, seen.size());
    SpecKbsServer.Seen auth = seen.get(0);
    SpecKbsServer.Seen attest = seen.get(1);
    SpecKbsServer.Seen resource = seen.get(2);
    for (SpecKbsServer.Seen s : seen) {
      assertEquals("HTTP/1.1", s.protocol());
    }
    assertEquals("POST /kbs/v0/auth", auth.method() + " " + auth.path());
    assertEquals("application/json", auth.contentType());
    assertNull(auth.cookie());
    assertEquals(Request.of("sample").toJson(), JSON.readTree(auth.body()));

    assertEquals("POST /kbs/v0/attest", attest.method() + " " + attest.path());
    assertTrue(attest.cookie().matches("kbs-session-id=[0-9a-f]{32}"), attest.cookie());
    JsonNode body = JSON.readTree(attest.body());
    List<String> top = new ArrayList<>();
    body.fieldNames().forEachRemaining(top::add);
    assertEquals(List.of("init-data", "runtime-data", "tee-evidence"), top);
    assertTrue(body.get("init-data").isNull());
    JsonNode jwk = body.get("runtime-data").get("tee-pubkey");
    List<String> members = new ArrayList<>();
    jwk.fieldNames().forEachRemaining(members::add);
    assertEquals(List.of("kty", "crv", "alg", "x", "y"), members);
    assertEquals("", body.get("tee-evidence").get("additional_evidence").textValue());
    // The evidence binds exactly this nonce and key (what the server verified, recomputed here).
    byte[] rd = RcarBinding.reportData(body.get("runtime-data").get("nonce").textValue(), jwk);
    SampleVerifier.verify(body.get("tee-evidence").get("primary_evidence"), rd);

    assertEquals("GET /kbs/v0/resource/default/key/model-key", resource.method() + " " + resource.path());
    assertEquals(attest.cookie(), resource.cookie());
  }

  @ParameterizedTest
  @ValueSource(strings = {"AttestationError", "TokenNotFound", "PolicyDeny", "PluginInternalError"})
  void fetchResource_resource401WithVariant_failsAtResourceNamingVariant(String variant) {
    kbs.answer("resource", 401, SpecKbsServer.error(variant, "detail that must not leak"));
    KbsException e = fetchFails();
    assertEquals(KbsException.Step.RESOURCE, e.step());
    assertEquals(401, e.httpStatus());
    assertEquals(variant, e.errorType());
    assertEquals("key broker RESOURCE failed: HTTP 401 " + variant + ": the broker refused GET "
        + kbs.base() + "/resource/default/key/model-key", e.getMessage());
    assertFalse(e.getMessage().contains("detail that must not leak"));
  }

  @Test
  void fetchResource_auth401_failsAtAuth() {
    kbs.answer("auth", 401, SpecKbsServer.error("AttestationError", "Attestation error: request"));
    KbsException e = fetchFails();
    assertEquals(KbsException.Step.AUTH, e.step());
    assertEquals("key broker AUTH failed: HTTP 401 AttestationError: the broker refused POST " + kbs.base() + "/auth",
        e.getMessage());
  }

  @Test
  void fetchResource_evidenceBoundToAnotherKey_brokerRefusesAttest() {
    // A provider that ignores the binding it is given and binds a different key instead.
    EvidenceProvider other = new EvidenceProvider() {
      @Override
      public String tee() {
        return "sample";
      }

      @Override
      public JsonNode evidence(byte[] reportData) throws AttestationException {
        byte[] wrong = RcarBinding.reportData("AAAA", TeeKeyPair.generate().publicJwk());
        return new SampleEvidenceProvider(true).evidence(wrong);
      }
    };
    KbsException e = fetchFails(other, TIMEOUT);
    assertEquals(KbsException.Step.ATTEST, e.step());
    assertEquals(401, e.httpStatus());
    assertEquals("AttestationError", e.errorType());
  }

  @Test
  void fetchResource_unknownResource_401PluginInternalError() throws Exception {
    try (KbsClient c = client(new SampleEvidenceProvider(true), TIMEOUT)) {
      KbsException e = assertThrows(KbsException.class, () -> c.fetchResource(ResourceId.parse("kbs:///default/key/absent")));
      assertEquals(KbsException.Step.RESOURCE, e.step());
      assertEquals("PluginInternalError", e.errorType());
    }
  }

  @Test
  void fetchResource_404InvalidRequestPath_mapsStatusAndVariant() {
    kbs.answer("resource", 404, SpecKbsServer.error("InvalidRequestPath", "Request path is invalid"));
    KbsException e = fetchFails();
    assertEquals(KbsException.Step.RESOURCE, e.step());
    assertEquals(404, e.httpStatus());
    assertEquals("InvalidRequestPath", e.errorType());
  }

  @Test
  void fetchResource_wrongBasePath_404WithoutKbsBody() {
    try (KbsClient c = new KbsClient(URI.create(kbs.base().toString().replace("/kbs/v0", "/kbs/v1")),
        new SampleEvidenceProvider(true), TIMEOUT)) {
      KbsException e = assertThrows(KbsException.class, () -> c.fetchResource(ID));
      assertEquals(KbsException.Step.AUTH, e.step());
      assertEquals(404, e.httpStatus());
      assertNull(e.errorType());
      assertTrue(e.getMessage().endsWith("/kbs/v1/auth (no KBS error body)"), e.getMessage());
    }
  }

  @Test
  void fetchResource_garbageChallenge_failsAtAuthWithoutEchoingBody() {
    kbs.answer("auth", 200, "<html>secret-looking garbage</html>");
    KbsException e = fetchFails();
    assertEquals(KbsException.Step.AUTH, e.step());
    assertEquals(200, e.httpStatus());
    assertEquals("key broker AUTH failed: HTTP 200: the Challenge is not a JSON object", e.getMessage());
  }

  @Test
  void fetchResource_garbage401Body_hasNoVariant() {
    kbs.answer("attest", 401, "not json");
    KbsException e = fetchFails();
    assertEquals(KbsException.Step.ATTEST, e.step());
    assertEquals(401, e.httpStatus());
    assertNull(e.errorType());
    assertEquals("key broker ATTEST failed: HTTP 401: the broker refused POST " + kbs.base() + "/attest (no KBS error body)",
        e.getMessage());
  }

  @Test
  void fetchResource_foreignErrorType_hasNoVariant() {
    kbs.answer("attest", 401, "{\"type\":\"https://example.com/errors/Evil\",\"detail\":\"x\"}");
    assertNull(fetchFails().errorType());
  }

  @Test
  void fetchResource_garbageResource_failsAtUnwrap() {
    kbs.answer("resource", 200, "{\"protected\":\"x\"}");
    KbsException e = fetchFails();
    assertEquals(KbsException.Step.UNWRAP, e.step());
    assertEquals("key broker UNWRAP failed: HTTP 200: JWE decrypt: member encrypted_key is missing or not a string"
        + " (resource kbs:///default/key/model-key)", e.getMessage());
  }

  @Test
  void fetchResource_resourceEncryptedToAnotherKey_failsAtUnwrap() {
    kbs.encryptTo(TeeKeyPair.generate().publicJwk());
    KbsException e = fetchFails();
    assertEquals(KbsException.Step.UNWRAP, e.step());
    assertTrue(e.getMessage().contains("does not unwrap under the ECDH-derived key"), e.getMessage());
  }

  @Test
  void fetchResource_noSessionCookie_failsAtAuth() throws Exception {
    kbs.answerWithoutCookie("auth", 200, Challenge.of("bm9uY2U=").toJson().toString());
    KbsException e = fetchFails();
    assertEquals(KbsException.Step.AUTH, e.step());
    assertEquals("key broker AUTH failed: HTTP 200: the response sets no valid kbs-session-id cookie", e.getMessage());
  }

  @Test
  void fetchResource_providerWithoutDevFlag_failsAtAttestBeforeSending() {
    KbsException e = fetchFails(new SampleEvidenceProvider(false), TIMEOUT);
    assertEquals(KbsException.Step.ATTEST, e.step());
    assertEquals(0, e.httpStatus());
    assertTrue(e.getMessage().startsWith("key broker ATTEST failed: evidence collection failed: sample evidence: refused"),
        e.getMessage());
    assertEquals(1, kbs.seen().size()); // only /auth went out
  }

  @Test
  void fetchResource_brokerStalls_timesOutAtThatStep() {
    kbs.stall("attest");
    KbsException e = fetchFails(new SampleEvidenceProvider(true), Duration.ofMillis(300));
    assertEquals(KbsException.Step.ATTEST, e.step());
    assertEquals(0, e.httpStatus());
    assertEquals("key broker ATTEST failed: no complete response to POST " + kbs.base() + "/attest within PT0.3S",
        e.getMessage());
  }

  @Test
  void fetchResource_connectionRefused_failsAtConnectNamingUrl() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    URI base = URI.create("http://127.0.0.1:" + port + "/kbs/v0");
    try (KbsClient c = new KbsClient(base, new SampleEvidenceProvider(true), TIMEOUT)) {
      KbsException e = assertThrows(KbsException.class, () -> c.fetchResource(ID));
      assertEquals(KbsException.Step.CONNECT, e.step());
      assertEquals(0, e.httpStatus());
      assertNull(e.errorType());
      assertEquals("key broker at " + base + " is not reachable: connection refused (step CONNECT, POST " + base + "/auth)",
          e.getMessage());
    }
  }

  @Test
  void constructor_plainHttpToNonLoopback_refused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new KbsClient(URI.create("http://kbs.example:8080/kbs/v0"), new SampleEvidenceProvider(true), TIMEOUT));
    assertEquals("key broker URL uses plain http to a non-loopback host; use https"
        + " (http is allowed only for localhost, 127.0.0.0/8 and ::1)", e.getMessage());
    new KbsClient(URI.create("http://[::1]:8080/kbs/v0/"), new SampleEvidenceProvider(true), TIMEOUT).close();
    new KbsClient(URI.create("https://kbs.example:8080/kbs/v0"), new SampleEvidenceProvider(true), TIMEOUT).close();
  }
}
