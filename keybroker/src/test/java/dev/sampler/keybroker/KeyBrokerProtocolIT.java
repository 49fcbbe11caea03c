package dev.sampler.keybroker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sampler.attestation.SampleEvidenceProvider;
import dev.sampler.attestation.TeeKeyPair;
import dev.sampler.attestation.kbs.KbsClient;
import dev.sampler.attestation.kbs.KbsException;
import dev.sampler.attestation.kbs.ResourceId;
import dev.sampler.keybroker.testing.BrokerProcess;
import dev.sampler.keybroker.testing.RawKbs;
import dev.sampler.keybroker.testing.SvnEvidence;
import dev.sampler.keybroker.token.Jwks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The broker as its own process (dev-software key store, --allow-sample-tee), driven by the real
 * KbsClient where a correct client suffices and by hand (java.net.http) where the test must send
 * what a correct client never would. One test per failure mode; the exact refusal is asserted.
 */
class KeyBrokerProtocolIT {
  private static final byte[] DEMO_KEY = bytes(32, 7);
  private static final byte[] SNP_KEY = bytes(32, 99);

  @TempDir static Path dir;
  private static BrokerProcess broker;
  private static RawKbs raw;
  private static Path audit;

  @BeforeAll
  static void start() throws Exception {
    audit = dir.resolve("audit.jsonl");
    String keys = "sampler/model/demo " + Base64.getEncoder().encodeToString(DEMO_KEY) + "\n"
        + "sampler/model/snp-only " + Base64.getEncoder().encodeToString(SNP_KEY) + "\n\n";
    broker = BrokerProcess.serve(dir, List.of("--policy", policy().toString(), "--keystore", "dev-software",
        "--allow-sample-tee", "--audit-log", audit.toString(),
        // this class makes well over the default burst of requests from one address within seconds;
        // the limiter itself is tested in BrokerLimitsIT with a tiny limit
        "--rate-limit-burst", "100000", "--rate-limit-per-minute", "6000000"), Map.of(), keys);
    raw = new RawKbs(broker.base());
  }

  @AfterAll
  static void stop() throws Exception {
    if (raw != null) {
      raw.close();
    }
    if (broker != null) {
      broker.close();
    }
  }

  static Path policy() throws Exception {
    return Path.of(KeyBrokerProtocolIT.class.getResource("/policies/it-policy.json").toURI());
  }

  @Test
  void fetchResource_kbsClientWithSampleEvidence_returnsTheStoredKey() throws Exception {
    try (KbsClient client = new KbsClient(broker.base(), new SampleEvidenceProvider(true), Duration.ofSeconds(20))) {
      assertArrayEquals(DEMO_KEY, client.fetchResource(new ResourceId("sampler", "model", "demo")));
    }
    String log = Files.readString(audit);
    assertTrue(log.contains("\"event\":\"resource\""), log);
    assertTrue(log.contains("\"key_id\":\"sampler/model/demo\",\"key_version\":1,\"decision\":\"allow\""), log);
    assertTrue(broker.stderr().contains("INSECURE: --allow-sample-tee"), "the sample tee is announced loudly");
    assertTrue(broker.stderr().contains("INSECURE: --keystore dev-software"), "the dev key store is announced");
  }

  @Test
  void attest_nonceReplayed_refusedAsAlreadyUsed() throws Exception {
    TeeKeyPair keys = TeeKeyPair.generate();
    RawKbs.Challenge c = raw.auth("sample");
    String body = RawKbs.attestation(c.nonce(), keys.publicJwk());
    RawKbs.Reply first = raw.post("/attest", body, c.cookie());
    assertEquals(200, first.status(), first.body());
    assertTrue(first.json().path("token").isTextual());
    assertEquals(c.cookie(), first.cookie().orElseThrow(), "attest re-sets the session cookie");

    RawKbs.Reply again = raw.post("/attest", body, c.cookie());
    assertRefused(again, 401, "AttestationError",
        "nonce already used (a challenge is good for one /attest; POST /kbs/v0/auth for a new one)");

    RawKbs.Challenge other = raw.auth("sample");
    RawKbs.Reply replayed = raw.post("/attest", body, other.cookie());
    assertRefused(replayed, 401, "AttestationError",
        "nonce already used (a challenge is good for one /attest; POST /kbs/v0/auth for a new one)");
  }

  @Test
  void attest_evidenceBoundToAnotherKey_refusedAndNonceSpent() throws Exception {
    TeeKeyPair sent = TeeKeyPair.generate();
    TeeKeyPair other = TeeKeyPair.generate();
    RawKbs.Challenge c = raw.auth("sample");
    RawKbs.Reply r = raw.post("/attest",
        RawKbs.attestation(c.nonce(), sent.publicJwk(), "1", c.nonce(), other.publicJwk()), c.cookie());
    assertRefused(r, 401, "AttestationError", "sample evidence: report_data does not match the expected binding"
        + " digest (evidence bound to another nonce or key)");
    RawKbs.Reply retry = raw.post("/attest", RawKbs.attestation(c.nonce(), sent.publicJwk()), c.cookie());
    assertRefused(retry, 401, "AttestationError",
        "nonce already used (a challenge is good for one /attest; POST /kbs/v0/auth for a new one)");
    RawKbs.Reply resource = raw.get("/resource/sampler/model/demo", c.cookie(), null);
    assertRefused(resource, 401, "TokenNotFound", "session is not attested: POST /kbs/v0/attest first");
  }

  @Test
  void attest_nonceOfAnotherLiveSession_refusedAsMismatch() throws Exception {
    TeeKeyPair keys = TeeKeyPair.generate();
    RawKbs.Challenge a = raw.auth("sample");
    RawKbs.Challenge b = raw.auth("sample");
    RawKbs.Reply r = raw.post("/attest", RawKbs.attestation(b.nonce(), keys.publicJwk()), a.cookie());
    assertRefused(r, 401, "AttestationError", "nonce does not match this session's challenge");
  }

  @Test
  void resource_svnNotInPolicy_policyDeny() throws Exception {
    try (KbsClient client = new KbsClient(broker.base(), new SvnEvidence("3"), Duration.ofSeconds(20))) {
      KbsException e = assertThrows(KbsException.class,
          () -> client.fetchResource(new ResourceId("sampler", "model", "demo")));
      assertEquals(KbsException.Step.RESOURCE, e.step());
      assertEquals(401, e.httpStatus());
      assertEquals("PolicyDeny", e.errorType());
    }
    TeeKeyPair keys = TeeKeyPair.generate();
    RawKbs.Challenge c = raw.auth("sample");
    assertEquals(200, raw.post("/attest", RawKbs.attestation(c.nonce(), keys.publicJwk(), "3", c.nonce(),
        keys.publicJwk()), c.cookie()).status());
    assertRefused(raw.get("/resource/sampler/model/demo", c.cookie(), null), 401, "PolicyDeny",
        "sample evidence svn is not one of the policy's sample.allowed-svns");
  }

  @Test
  void resource_svnAllowedButNotByTheRule_policyDeny() throws Exception {
    RawKbs.Challenge c = attested("2");
    assertRefused(raw.get("/resource/sampler/model/demo", c.cookie(), null), 401, "PolicyDeny",
        "claim 'svn' is not one of the values the rule for this resource allows");
  }

  @Test
  void resource_notAllowedForTheTee_policyDeny() throws Exception {
    RawKbs.Challenge c = attested("1");
    assertRefused(raw.get("/resource/sampler/model/snp-only", c.cookie(), null), 401, "PolicyDeny",
        "the policy's rule for this resource does not allow tee 'sample'");
    assertRefused(raw.get("/resource/sampler/model/no-rule", c.cookie(), null), 401, "PolicyDeny",
        "the policy has no rule for this resource");
  }

  @Test
  void resource_unknownToTheStore_pluginInternalError() throws Exception {
    RawKbs.Challenge c = attested("1");
    assertRefused(raw.get("/resource/sampler/model/nokey", c.cookie(), null), 401, "PluginInternalError",
        "no key is stored for this resource");
  }

  @Test
  void resource_bearerToken_releasesKeyToTheTokensKey_andTamperedTokenRefused() throws Exception {
    TeeKeyPair keys = TeeKeyPair.generate();
    RawKbs.Challenge c = raw.auth("sample");
    RawKbs.Reply att = raw.post("/attest", RawKbs.attestation(c.nonce(), keys.publicJwk()), c.cookie());
    assertEquals(200, att.status(), att.body());
    String token = att.json().get("token").asText();
    JsonNode claims = RawKbs.JSON.readTree(Base64.getUrlDecoder().decode(token.split("\\.")[1]));
    assertEquals(keys.publicJwk(), claims.at("/submods/cpu0/ear.veraison.annotated-evidence/runtime_data_claims/tee-pubkey"));
    assertEquals("affirming", claims.at("/submods/cpu0/ear.status").asText());
    assertEquals("tag:github.com,2024:confidential-containers/Trustee", claims.get("eat_profile").asText());
    assertTrue(claims.get("exp").asLong() > claims.get("iat").asLong());

    RawKbs.Reply ok = raw.get("/resource/sampler/model/demo", null, token);
    assertEquals(200, ok.status(), ok.body());
    assertEquals(List.of("protected", "encrypted_key", "iv", "ciphertext", "tag"), names(ok.json()));
    assertArrayEquals(DEMO_KEY, keys.decrypt(ok.body()));

    String[] parts = token.split("\\.");
    String forgedClaims = Base64.getUrlEncoder().withoutPadding().encodeToString(
        new String(Base64.getUrlDecoder().decode(parts[1])).replace("\"affirming\"", "\"affirminG\"").getBytes());
    assertRefused(raw.get("/resource/sampler/model/demo", null, parts[0] + "." + forgedClaims + "." + parts[2]),
        401, "TokenVerifierError", "token signature does not verify under this broker's signing key (issued by"
            + " another broker or before a restart, or altered)");
  }

  @Test
  void attest_teeWithoutVerifier_refusedNamingTheTee() throws Exception {
    TeeKeyPair keys = TeeKeyPair.generate();
    RawKbs.Challenge c = raw.auth("snp");
    assertRefused(raw.post("/attest", RawKbs.attestation(c.nonce(), keys.publicJwk()), c.cookie()), 401,
        "AttestationError", "no verifier for tee 'snp' in this reference broker (it verifies sample evidence only,"
            + " and only with --allow-sample-tee)");
  }

  /** Malformed and misdirected requests: each gets its precise refusal. */
  @Test
  void requests_malformed_eachRefusedPrecisely() throws Exception {
    TeeKeyPair keys = TeeKeyPair.generate();
    RawKbs.Challenge live = raw.auth("sample");
    String good = RawKbs.attestation(live.nonce(), keys.publicJwk());
    record Case(String name, RawKbs.Reply reply, int status, String variant, String detail) {}
    List<Case> cases = new ArrayList<>();
    cases.add(new Case("auth not JSON", raw.post("/auth", "{\"version\":", null), 401, "AttestationError",
        "request body is not valid JSON (expected a KBS Request object)"));
    cases.add(new Case("auth empty", raw.post("/auth", "", null), 401, "AttestationError",
        "request body is empty (expected a KBS Request JSON object)"));
    cases.add(new Case("auth array", raw.post("/auth", "[]", null), 401, "AttestationError",
        "request body must be a JSON object (a KBS Request)"));
    cases.add(new Case("auth old version", raw.post("/auth", "{\"version\":\"0.1.1\",\"tee\":\"sample\"}", null),
        401, "AttestationError", "Request.version must be 0.4.0 (the KBS protocol version this broker speaks)"));
    cases.add(new Case("auth version missing", raw.post("/auth", "{\"tee\":\"sample\"}", null), 401,
        "AttestationError", "Request.version must be a string"));
    cases.add(new Case("auth unknown tee", raw.post("/auth", "{\"version\":\"0.4.0\",\"tee\":\"<script>\"}", null),
        401, "AttestationError", "Request.tee is not one of " + Tees.ALL));
    cases.add(new Case("auth unknown member", raw.post("/auth",
        "{\"version\":\"0.4.0\",\"tee\":\"sample\",\"x\":1}", null), 401, "AttestationError",
        "Request has an unknown member (allowed: [extra-params, tee, version])"));
    cases.add(new Case("auth duplicate member", raw.post("/auth",
        "{\"version\":\"0.4.0\",\"version\":\"0.4.0\",\"tee\":\"sample\"}", null), 401, "AttestationError",
        "request body is not valid JSON (expected a KBS Request object)"));
    cases.add(new Case("auth no sha384", raw.post("/auth", "{\"version\":\"0.4.0\",\"tee\":\"sample\","
        + "\"extra-params\":{\"supported-hash-algorithms\":[\"sm3\"]}}", null), 401, "AttestationError",
        "Request.extra-params.supported-hash-algorithms lacks sha384, which this broker's binding uses for every tee"));
    cases.add(new Case("attest no cookie", raw.post("/attest", good, null), 401, "AttestationError",
        "no kbs-session-id cookie: POST /kbs/v0/auth first"));
    cases.add(new Case("attest bad cookie", raw.post("/attest", good, "not-hex"), 401, "AttestationError",
        "kbs-session-id cookie must be 32 lowercase hex digits"));
    cases.add(new Case("attest unknown session", raw.post("/attest", good, "0123456789abcdef0123456789abcdef"), 401,
        "AttestationError", "session not found (never issued, or expired and removed): POST /kbs/v0/auth again"));
    cases.add(new Case("attest not JSON", raw.post("/attest", "{", live.cookie()), 401, "AttestationError",
        "request body is not valid JSON (expected a KBS Attestation object)"));
    cases.add(new Case("attest init-data", raw.post("/attest", good.replace("\"init-data\":null",
        "\"init-data\":{\"format\":\"toml\",\"body\":\"\"}"), live.cookie()), 401, "AttestationError",
        "Attestation.init-data is not supported by this reference broker (send null)"));
    cases.add(new Case("attest extra jwk member", raw.post("/attest", good.replace("\"kty\":\"EC\"",
        "\"kty\":\"EC\",\"kid\":\"k\""), live.cookie()), 401, "AttestationError",
        "Attestation.runtime-data.tee-pubkey has a member outside EC {kty,crv,alg,x,y} (extra members break the"
            + " report-data binding)"));
    cases.add(new Case("attest P-384", raw.post("/attest", good.replace("\"P-256\"", "\"P-384\""), live.cookie()),
        401, "AttestationError", "Attestation.runtime-data.tee-pubkey.crv must be P-256 or P-521"));
    cases.add(new Case("attest runtime-data missing", raw.post("/attest",
        "{\"init-data\":null,\"tee-evidence\":{}}", live.cookie()), 401, "AttestationError",
        "Attestation.runtime-data must be an object"));
    cases.add(new Case("attest additional evidence", raw.post("/attest", good.replace(
        "\"additional_evidence\":\"\"", "\"additional_evidence\":\"{}\""), live.cookie()), 401, "AttestationError",
        "Attestation.tee-evidence.additional_evidence is not supported by this reference broker (send \"\")"));
    cases.add(new Case("resource bad segment", raw.get("/resource/sampler/mo%2Fdel/demo", null, null), 404,
        "InvalidRequestPath", "resource path segment 'type' must match [A-Za-z0-9_-][A-Za-z0-9_.-]* and be at most"
            + " 128 characters"));
    cases.add(new Case("resource two segments", raw.get("/resource/sampler/demo", null, null), 404,
        "InvalidRequestPath", "resource path must have exactly three segments repo/type/tag"));
    cases.add(new Case("resource no credentials", raw.get("/resource/sampler/model/demo", null, null), 401,
        "TokenNotFound", "no attested kbs-session-id cookie and no Authorization: Bearer token"));
    cases.add(new Case("resource bad bearer", raw.get("/resource/sampler/model/demo", null, "abc"), 401,
        "TokenVerifierError", "token is not a compact JWS (three base64url parts) of at most 32768 characters"));
    cases.add(new Case("auth by GET", raw.get("/auth", null, null), 404, "InvalidRequestPath",
        "this path answers POST only"));
    cases.add(new Case("unknown path", raw.get("/token", null, null), 404, "InvalidRequestPath",
        "this broker serves POST /kbs/v0/auth, POST /kbs/v0/attest and GET /kbs/v0/resource/<repo>/<type>/<tag> only"));
    List<String> failures = new ArrayList<>();
    for (Case c : cases) {
      String got = c.reply().status() + " " + c.reply().variant() + " " + c.reply().detail();
      String want = c.status() + " " + c.variant() + " " + c.detail();
      if (!got.equals(want)) {
        failures.add(c.name() + ":\n  want " + want + "\n  got  " + got);
      }
    }
    assertEquals(List.of(), failures);
    // None of these used the live session's nonce: it still attests.
    assertEquals(200, raw.post("/attest", good, live.cookie()).status());
    assertEquals("{\"status\":\"UP\"}", raw.getAbsolute("/health").body());
  }

  @Test
  void auditLog_attestAndRelease_recordThumbprintAndSessionHashNotTheId() throws Exception {
    TeeKeyPair keys = TeeKeyPair.generate();
    RawKbs.Challenge c = raw.auth("sample");
    assertEquals(200, raw.post("/attest", RawKbs.attestation(c.nonce(), keys.publicJwk()), c.cookie()).status());
    assertEquals(200, raw.get("/resource/sampler/model/demo", c.cookie(), null).status());
    String thumb = Jwks.thumbprint(keys.publicJwk());
    List<JsonNode> lines = new ArrayList<>();
    for (String l : Files.readAllLines(audit)) {
      lines.add(RawKbs.JSON.readTree(l));
    }
    JsonNode release = lines.stream().filter(l -> thumb.equals(l.path("tee_pubkey_thumbprint").asText())
        && l.path("event").asText().equals("resource")).findFirst().orElseThrow();
    assertEquals(List.of("time", "event", "client", "session", "tee", "tee_pubkey_thumbprint", "resource", "key_id",
        "key_version", "decision", "reason"), names(release));
    assertEquals("127.0.0.1", release.get("client").asText());
    assertEquals("allow", release.get("decision").asText());
    assertTrue(release.get("session").asText().matches("sha256:[0-9a-f]{16}"));
    assertTrue(lines.stream().anyMatch(l -> thumb.equals(l.path("tee_pubkey_thumbprint").asText())
        && l.path("event").asText().equals("attest") && l.path("decision").asText().equals("allow")));
    assertTrue(!Files.readString(audit).contains(c.cookie()), "the session id itself is never logged");
    assertNotNull(release.get("time"));
  }

  private static RawKbs.Challenge attested(String svn) throws Exception {
    TeeKeyPair keys = TeeKeyPair.generate();
    RawKbs.Challenge c = raw.auth("sample");
    RawKbs.Reply r = raw.post("/attest", RawKbs.attestation(c.nonce(), keys.publicJwk(), svn, c.nonce(),
        keys.publicJwk()), c.cookie());
    assertEquals(200, r.status(), r.body());
    return c;
  }

  static void assertRefused(RawKbs.Reply r, int status, String variant, String detail) {
    assertEquals(status + " " + variant + " " + detail, r.status() + " " + r.variant() + " " + r.detail(), r.body());
  }

  private static List<String> names(JsonNode n) {
    List<String> out = new ArrayList<>();
    n.fieldNames().forEachRemaining(out::add);
    return out;
  }

  static byte[] bytes(int n, int seed) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (seed * 31 + i * 7);
    }
    return b;
  }
}
