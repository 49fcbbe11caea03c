package dev.sampler.keybroker.token;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.attestation.TeeKeyPair;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class EarTokensTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));
  private final InstantSource clock = () -> now.get();
  private final ObjectNode teeKey = TeeKeyPair.generate().publicJwk();

  private static ObjectNode claims(String svn) {
    ObjectNode c = JSON.createObjectNode();
    c.put("svn", svn);
    return c;
  }

  @Test
  void issue_sampleAttestation_hasTheB5Layout() throws Exception {
    EarTokens t = EarTokens.generate(Duration.ofMinutes(5), clock, "pol-1", "sampler-keybroker test");
    String token = t.issue("sample", claims("1"), teeKey, "nonce-b64", new byte[] {1, 2}, true);
    String[] p = token.split("\\.");
    JsonNode h = JSON.readTree(Base64.getUrlDecoder().decode(p[0]));
    assertEquals("ES256", h.get("alg").asText());
    assertEquals(t.publicJwk(), h.get("jwk"));
    JsonNode c = JSON.readTree(Base64.getUrlDecoder().decode(p[1]));
    assertEquals("tag:github.com,2024:confidential-containers/Trustee", c.get("eat_profile").asText());
    assertEquals(1767225600L, c.get("iat").asLong());
    assertEquals(1767225600L + 300, c.get("exp").asLong());
    assertEquals("sampler-keybroker test", c.at("/ear.verifier-id/build").asText());
    JsonNode cpu0 = c.at("/submods/cpu0");
    assertEquals("affirming", cpu0.get("ear.status").asText());
    assertEquals("pol-1", cpu0.get("ear.appraisal-policy-id").asText());
    assertEquals(8, cpu0.get("ear.trustworthiness-vector").size());
    JsonNode ev = cpu0.get("ear.veraison.annotated-evidence");
    assertEquals(teeKey, ev.at("/runtime_data_claims/tee-pubkey"));
    assertEquals("nonce-b64", ev.at("/runtime_data_claims/nonce").asText());
    assertEquals("0102", ev.get("report_data").asText());
    assertEquals("1", ev.at("/sample/svn").asText());
    assertTrue(ev.get("init_data").isNull());
    assertEquals(64, Base64.getUrlDecoder().decode(p[2]).length, "ES256 signature is r||s");

    EarTokens.Verified v = t.verify(token);
    assertEquals("sample", v.tee());
    assertEquals(teeKey, v.teePubkey());
    assertTrue(v.affirming());
  }

  @Test
  void verify_contraindicated_reportsIt() throws Exception {
    EarTokens t = EarTokens.generate(Duration.ofMinutes(5), clock, "p", "b");
    assertFalse(t.verify(t.issue("sample", claims("9"), teeKey, "n", new byte[1], false)).affirming());
  }

  @Test
  void verify_expiredTamperedForeignOrAlgNone_refusedPrecisely() {
    EarTokens t = EarTokens.generate(Duration.ofSeconds(60), clock, "p", "b");
    EarTokens other = EarTokens.generate(Duration.ofSeconds(60), clock, "p", "b");
    String token = t.issue("sample", claims("1"), teeKey, "n", new byte[1], true);
    String[] p = token.split("\\.");

    String tampered = p[0] + "." + b64(new String(Base64.getUrlDecoder().decode(p[1]), StandardCharsets.UTF_8)
        .replace("\"svn\":\"1\"", "\"svn\":\"2\"")) + "." + p[2];
    String foreign = other.issue("sample", claims("1"), teeKey, "n", new byte[1], true);
    String none = b64("{\"alg\":\"none\"}") + "." + p[1] + "." + p[2];
    assertEquals("token signature does not verify under this broker's signing key (issued by another broker or before"
        + " a restart, or altered)", assertThrows(TokenException.class, () -> t.verify(tampered)).getMessage());
    assertEquals("token signature does not verify under this broker's signing key (issued by another broker or before"
        + " a restart, or altered)", assertThrows(TokenException.class, () -> t.verify(foreign)).getMessage());
    assertEquals("token header alg must be ES256", assertThrows(TokenException.class, () -> t.verify(none)).getMessage());
    assertEquals("token is not a compact JWS (three base64url parts) of at most 32768 characters",
        assertThrows(TokenException.class, () -> t.verify(p[0] + "." + p[1] + ".")).getMessage());

    now.set(now.get().plusSeconds(60));
    assertEquals("token expired", assertThrows(TokenException.class, () -> t.verify(token)).getMessage());
  }

  private static String b64(String s) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }
}
