package dev.sampler.attestation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sampler.attestation.jwe.Jwe;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

class TeeKeyPairTest {
  @Test
  void publicJwk_fresh_hasExactlyTheRcarMembersInOrder() {
    JsonNode jwk = TeeKeyPair.generate().publicJwk();
    List<String> names = new ArrayList<>();
    jwk.fieldNames().forEachRemaining(names::add);
    assertEquals(List.of("kty", "crv", "alg", "x", "y"), names);
    assertEquals("EC", jwk.get("kty").textValue());
    assertEquals("P-256", jwk.get("crv").textValue());
    assertEquals("ECDH-ES+A256KW", jwk.get("alg").textValue());
    for (String c : List.of("x", "y")) {
      String v = jwk.get(c).textValue();
      assertTrue(v.matches("[A-Za-z0-9_-]{43}"), c);
      assertEquals(32, Base64.getUrlDecoder().decode(v).length);
    }
  }

  @Test
  void generate_twice_givesDifferentKeys() {
    assertNotEquals(TeeKeyPair.generate().publicJwk(), TeeKeyPair.generate().publicJwk());
  }

  @Test
  void decrypt_jweToItsPublicKey_roundTrips() throws Exception {
    TeeKeyPair kp = TeeKeyPair.generate();
    byte[] secret = {1, 2, 3, 4, 5};
    assertArrayEquals(secret, kp.decrypt(Jwe.encrypt(secret, kp.publicJwk())));
  }

  @Test
  void decrypt_afterDestroy_failsAndPublicJwkRemains() throws Exception {
    TeeKeyPair kp = TeeKeyPair.generate();
    String jwe = Jwe.encrypt(new byte[] {9}, kp.publicJwk());
    kp.destroy();
    kp.destroy(); // idempotent
    assertTrue(kp.isDestroyed());
    AttestationException e = assertThrows(AttestationException.class, () -> kp.decrypt(jwe));
    assertEquals("JWE decrypt: the TEE key pair was destroyed", e.getMessage());
    assertEquals("P-256", kp.publicJwk().get("crv").textValue());
  }

  @Test
  void toString_neverShowsKeyMaterial() {
    TeeKeyPair kp = TeeKeyPair.generate();
    assertEquals("TeeKeyPair[P-256, private key redacted]", kp.toString());
    assertFalse(kp.toString().contains(kp.publicJwk().get("x").textValue()));
  }
}
