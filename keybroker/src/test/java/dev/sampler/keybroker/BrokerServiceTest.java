package dev.sampler.keybroker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sampler.attestation.TeeKeyPair;
import dev.sampler.keybroker.audit.AuditLog;
import dev.sampler.keybroker.keystore.InsecureDevKeyStore;
import dev.sampler.keybroker.keystore.StoreException;
import dev.sampler.keybroker.policy.Policy;
import dev.sampler.keybroker.session.RateLimiter;
import dev.sampler.keybroker.session.SessionTable;
import dev.sampler.keybroker.testing.RawKbs;
import dev.sampler.keybroker.token.EarTokens;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The protocol logic in-process with a controllable clock: the order of the attest checks (cookie,
 * session, body, nonce, evidence) as PROTOCOLS.md B4 gives it, each shown by a request that breaks
 * that check and every later one.
 */
class BrokerServiceTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));
  private final InstantSource clock = () -> now.get();
  private final ByteArrayOutputStream auditBytes = new ByteArrayOutputStream();
  private final BrokerService service;

  BrokerServiceTest() throws Exception {
    Policy policy = Policy.parse("""
        {"allowed-tees":["sample"],"sample":{"allowed-svns":["1"]},
         "resources":{"sampler/model/demo":{"allowed-tees":["sample"]}}}
        """.getBytes(StandardCharsets.UTF_8), "inline");
    service = new BrokerService(new BrokerService.Parts(policy, new SessionTable(Duration.ofMinutes(5), 100, clock),
        new RateLimiter(1000, 1000, 100, System::nanoTime),
        EarTokens.generate(Duration.ofMinutes(5), clock, policy.id(), "test"),
        InsecureDevKeyStore.read(new BufferedReader(new StringReader("sampler/model/demo AQIDBA==\n"))),
        AuditLog.toStream(new PrintStream(auditBytes, true, StandardCharsets.UTF_8), clock), true, clock));
  }

  private HttpReply call(String method, String path, String cookie, String body) {
    return service.handle(new HttpCall(method, "/kbs/v0" + path, "192.0.2.1",
        cookie == null ? List.of() : List.of("theme=dark; kbs-session-id=" + cookie), Optional.empty(),
        body.getBytes(StandardCharsets.UTF_8)));
  }

  private static String detail(HttpReply r) throws Exception {
    JsonNode n = JSON.readTree(r.body());
    return r.status() + " " + n.get("type").asText().substring(KbsError.TYPE_PREFIX.length()) + " "
        + n.get("detail").asText();
  }

  private RawKbs.Challenge auth() throws Exception {
    HttpReply r = call("POST", "/auth", null, "{\"version\":\"0.4.0\",\"tee\":\"sample\",\"extra-params\":\"\"}");
    assertEquals(200, r.status());
    String cookie = r.headers().get("Set-Cookie");
    assertTrue(cookie.matches("kbs-session-id=[0-9a-f]{32}; Expires=Thu, 1 Jan 2026 00:[0-9]{2}:00 GMT"), cookie);
    return new RawKbs.Challenge(cookie.substring(15, 47), JSON.readTree(r.body()).get("nonce").asText());
  }

  @Test
  void attest_eachCheckBroken_earliestCheckAnswers() throws Exception {
    TeeKeyPair keys = TeeKeyPair.generate();
    String garbage = "{not json";
    assertEquals("401 AttestationError no kbs-session-id cookie: POST /kbs/v0/auth first",
        detail(call("POST", "/attest", null, garbage)));
    assertEquals("401 AttestationError session not found (never issued, or expired and removed): POST /kbs/v0/auth"
        + " again", detail(call("POST", "/attest", "00000000000000000000000000000000", garbage)));
    RawKbs.Challenge expired = auth();
    now.set(now.get().plusSeconds(300));
    assertEquals("401 AttestationError session expired (sessions last 300 s): POST /kbs/v0/auth again",
        detail(call("POST", "/attest", expired.cookie(), garbage)));
    RawKbs.Challenge live = auth();
    assertEquals("401 AttestationError request body is not valid JSON (expected a KBS Attestation object)",
        detail(call("POST", "/attest", live.cookie(), garbage)));
    String wrongNonceBadEvidence = RawKbs.attestation("AAAA", keys.publicJwk(), "1", "BBBB", keys.publicJwk());
    assertEquals("401 AttestationError nonce does not match this session's challenge",
        detail(call("POST", "/attest", live.cookie(), wrongNonceBadEvidence)));
    String badEvidence = RawKbs.attestation(live.nonce(), keys.publicJwk(), "1", "BBBB", keys.publicJwk());
    assertEquals("401 AttestationError sample evidence: report_data does not match the expected binding digest"
        + " (evidence bound to another nonce or key)", detail(call("POST", "/attest", live.cookie(), badEvidence)));

    RawKbs.Challenge ok = auth();
    HttpReply att = call("POST", "/attest", ok.cookie(), RawKbs.attestation(ok.nonce(), keys.publicJwk()));
    assertEquals(200, att.status());
    HttpReply res = call("GET", "/resource/sampler/model/demo", ok.cookie(), "");
    assertEquals(200, res.status());
    assertEquals(List.of(1, 2, 3, 4), toList(keys.decrypt(new String(res.body(), StandardCharsets.UTF_8))));
    now.set(now.get().plusSeconds(300));
    assertEquals("401 TokenNotFound session expired: attest again",
        detail(call("GET", "/resource/sampler/model/demo", ok.cookie(), "")));
    String audit = auditBytes.toString(StandardCharsets.UTF_8);
    assertEquals(12, audit.lines().count(), audit);
    assertTrue(audit.contains("\"client\":\"192.0.2.1\""));
  }

  @Test
  void devKeyStore_badStdinLine_refusedByLineNumberWithoutContent() {
    StoreException e = assertThrows(StoreException.class, () -> InsecureDevKeyStore.read(
        new BufferedReader(new StringReader("a/b/c AQID\na/b/c2 not-base64-secret\n"))));
    assertEquals("keystore dev-software: stdin line 2: key is not standard base64", e.getMessage());
    e = assertThrows(StoreException.class, () -> InsecureDevKeyStore.read(new BufferedReader(new StringReader(
        "a/b AQID\n"))));
    assertEquals("keystore dev-software: stdin line 1: resource path must have exactly three segments repo/type/tag",
        e.getMessage());
  }

  private static List<Integer> toList(byte[] b) {
    return java.util.stream.IntStream.range(0, b.length).mapToObj(i -> (int) b[i]).toList();
  }
}
