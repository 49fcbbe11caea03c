package dev.sampler.server.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** ES256 compact JWS verification and the JWT claim checks, on a fixed clock. */
class GatewayTokenVerifierTest {
  static final Instant NOW = Instant.parse("2026-11-27T12:00:00Z");
  static KeyPair key;
  static KeyPair other;
  static GatewayTokenVerifier verifier;

  @BeforeAll
  static void keys() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    key = g.generateKeyPair();
    other = g.generateKeyPair();
    verifier = new GatewayTokenVerifier((ECPublicKey) key.getPublic(), "sampler", Optional.of("gw"),
        Duration.ofSeconds(30), () -> NOW);
  }

  static String token(Map<String, ?> claims) throws Exception {
    return Es256Jws.sign(claims, key.getPrivate());
  }

  static Map<String, Object> claims(Object... extra) {
    Map<String, Object> m = new java.util.HashMap<>(Map.of("sub", "acme", "aud", "sampler", "iss", "gw",
        "exp", NOW.getEpochSecond() + 60));
    for (int i = 0; i < extra.length; i += 2) {
      if (extra[i + 1] == null) {
        m.remove((String) extra[i]);
      } else {
        m.put((String) extra[i], extra[i + 1]);
      }
    }
    return m;
  }

  static String b64(String json) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
  }

  void assertRefused(String token, String message) {
    AuthenticationException e = assertThrows(AuthenticationException.class, () -> verifier.verify(token));
    assertEquals(message, e.getMessage());
  }

  @Test
  void verify_validToken_returnsTheSubjectAsTenant() throws Exception {
    assertEquals("acme", verifier.verify(token(claims())).id());
    assertEquals("acme", verifier.verify(token(claims("aud", List.of("other", "sampler")))).id());
    assertEquals("acme", verifier.verify(token(claims("exp", NOW.getEpochSecond() - 29))).id(), "within the skew");
    assertEquals("acme", verifier.verify(token(claims("nbf", NOW.getEpochSecond() + 29))).id(), "within the skew");
  }

  @Test
  void verify_claimsOutOfBounds_refusedSayingWhich() throws Exception {
    assertRefused(token(claims("exp", NOW.getEpochSecond() - 31)), "gateway token: expired");
    assertRefused(token(claims("exp", null)),
        "gateway token: the exp claim (expiry, seconds since the epoch) is required");
    assertRefused(token(claims("nbf", NOW.getEpochSecond() + 31)), "gateway token: not valid yet (nbf)");
    assertRefused(token(claims("aud", "other")), "gateway token: the aud claim does not include \"sampler\"");
    assertRefused(token(claims("aud", null)), "gateway token: the aud claim does not include \"sampler\"");
    assertRefused(token(claims("iss", "someone")), "gateway token: the iss claim is not \"gw\"");
    assertRefused(token(claims("sub", null)), "gateway token: the sub claim (the tenant) is required");
    assertRefused(token(claims("sub", "bad tenant!")),
        "gateway token: the sub claim is not a valid tenant id (1..128 characters from [A-Za-z0-9._:@/-])");
  }

  @Test
  void verify_forgedOrMalformedTokens_refusedBeforeAnyClaimIsTrusted() throws Exception {
    String good = token(claims());
    String[] p = good.split("\\.");
    assertRefused(Es256Jws.sign(claims(), other.getPrivate()),
        "gateway token: the signature does not verify against the gateway key");
    assertRefused(p[0] + "." + b64("{\"sub\":\"root\",\"aud\":\"sampler\",\"iss\":\"gw\",\"exp\":9999999999}") + "."
        + p[2], "gateway token: the signature does not verify against the gateway key");
    assertRefused(b64("{\"alg\":\"none\"}") + "." + p[1] + ".", "gateway token: the header's alg must be ES256");
    assertRefused(b64("{\"alg\":\"HS256\"}") + "." + p[1] + "." + p[2], "gateway token: the header's alg must be ES256");
    assertRefused(b64("{\"alg\":\"ES256\",\"crit\":[\"x\"]}") + "." + p[1] + "." + p[2],
        "gateway token: critical header extensions are not supported");
    assertRefused(b64("{\"alg\":\"ES256\",\"alg\":\"none\"}") + "." + p[1] + "." + p[2],
        "gateway token: the header is not JSON");
    assertRefused(p[0] + "." + p[1] + "." + p[2].substring(4), "gateway token: an ES256 signature has 64 bytes, got 61");
    assertRefused(p[0] + "." + p[1], "gateway token: not a compact JWS (three base64url parts separated by dots)");
    assertRefused(p[0] + "=." + p[1] + "." + p[2], "gateway token: a part is not unpadded base64url");
    assertRefused("x".repeat(5000), "gateway token: longer than 4096 characters");
  }
}
