package dev.sampler.keybroker.token;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.attestation.TeeKeyPair;
import org.junit.jupiter.api.Test;

class JwksTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** RFC 7638 section 3.1: the example RSA key and its SHA-256 thumbprint. */
  private static final String RFC7638_N = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
  private static final String RFC7638_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

  private static ObjectNode rsa(String alg) {
    ObjectNode k = JSON.createObjectNode();
    k.put("kty", "RSA");
    k.put("alg", alg);
    k.put("n", RFC7638_N);
    k.put("e", "AQAB");
    return k;
  }

  /** The TEE key of /work/shared/fixtures/generated/kbs-rcar-vectors.json (rcar_sample, public part). */
  private static ObjectNode vectorEcKey() {
    ObjectNode k = JSON.createObjectNode();
    k.put("kty", "EC");
    k.put("crv", "P-256");
    k.put("alg", "ECDH-ES+A256KW");
    k.put("x", "nsnXDJHNhjc3Ur_23Se6Q__iqKI_yDTOGZj6RUkUrRQ");
    k.put("y", "4TXU1B2O-sW2an7nmeQC_HtkE2CwW76GnWp9TxMcXZU");
    return k;
  }

  @Test
  void thumbprint_rfc7638Example_matchesTheRfc() {
    Jwks.validateTeePubkey(rsa("RSA-OAEP-256"));
    assertEquals(RFC7638_THUMBPRINT, Jwks.thumbprint(rsa("RSA-OAEP-256")));
  }

  @Test
  void thumbprint_ecVectorKey_matchesPythonHashlib() {
    Jwks.validateTeePubkey(vectorEcKey());
    // computed independently: base64url(sha256('{"crv":"P-256","kty":"EC","x":"...","y":"..."}')) in Python
    assertEquals("s6DZS8KupnLI_kpvXhms7jPry8JABFZO_WHZ2kC3Aco", Jwks.thumbprint(vectorEcKey()));
  }

  @Test
  void validate_teeKeyPairOfAttestation_accepted() {
    Jwks.validateTeePubkey(TeeKeyPair.generate().publicJwk());
  }

  @Test
  void validate_badKeys_refusedNamingTheMember() {
    ObjectNode extra = vectorEcKey();
    extra.put("kid", "1");
    ObjectNode missing = vectorEcKey();
    missing.remove("alg");
    ObjectNode p384 = vectorEcKey();
    p384.put("crv", "P-384");
    ObjectNode offCurve = vectorEcKey();
    offCurve.put("y", "4TXU1B2O-sW2an7nmeQC_HtkE2CwW76GnWp9TxMcXZY");
    ObjectNode shortX = vectorEcKey();
    shortX.put("x", "AAAA");
    ObjectNode padded = vectorEcKey();
    padded.put("x", "nsnXDJHNhjc3Ur_23Se6Q__iqKI_yDTOGZj6RUkUrRQ=");
    ObjectNode oct = JSON.createObjectNode();
    oct.put("kty", "oct");
    ObjectNode shortRsa = rsa("RSA-OAEP-256");
    shortRsa.put("n", RFC7638_N.substring(0, 100));
    assertMessage("tee-pubkey has a member outside EC {kty,crv,alg,x,y} (extra members break the report-data binding)",
        extra);
    assertMessage("tee-pubkey lacks alg (an EC {kty,crv,alg,x,y} JWK)", missing);
    assertMessage("tee-pubkey.crv must be P-256 or P-521", p384);
    assertMessage("tee-pubkey (x, y) is not a point on P-256", offCurve);
    assertMessage("tee-pubkey.x must encode exactly 32 bytes", shortX);
    assertMessage("tee-pubkey.x must be base64url without padding", padded);
    assertMessage("tee-pubkey.kty must be EC or RSA", oct);
    assertMessage("tee-pubkey.alg RSA1_5 is refused (PKCS#1 v1.5 is deprecated); use RSA-OAEP-256", rsa("RSA1_5"));
    assertMessage("tee-pubkey.n must be a 2048 to 8192 bit modulus", shortRsa);
    assertMessage("runtime-data.tee-pubkey must be a JWK object", JSON.getNodeFactory().textNode("k"));
  }

  private static void assertMessage(String message, com.fasterxml.jackson.databind.JsonNode jwk) {
    assertEquals(message, assertThrows(IllegalArgumentException.class, () -> Jwks.validateTeePubkey(jwk)).getMessage());
  }
}
