package dev.sampler.attestation.jwe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.attestation.AttestationException;
import dev.sampler.attestation.testing.Vectors;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * JWE against the generated KBS vectors (kbs-rcar-vectors.json, cross-checked upstream of this
 * repo with jwcrypto), round trips of both key-management algorithms, and tampering.
 */
class JweTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final byte[] PLAIN = "this is a test data".getBytes(StandardCharsets.UTF_8);

  private static JsonNode vector(String name) {
    return Vectors.rcar().get(name);
  }

  private static PrivateKey ecVectorKey() throws Exception {
    return Vectors.ecPrivateKey(vector("kbs_response_ecdh_es_a256kw_p256").get("recipient_private_jwk_TEST_ONLY"));
  }

  private static PrivateKey rsaVectorKey() throws Exception {
    return Vectors.rsaPrivateKeyPkcs1(
        vector("kbs_response_rsa_oaep_256").get("recipient_private_key_pkcs1_pem_TEST_ONLY").textValue());
  }

  private static String responseOf(String name) throws Exception {
    return JSON.writeValueAsString(vector(name).get("response"));
  }

  @Test
  void decrypt_ecdhEsVector_givesPlaintext() throws Exception {
    JsonNode v = vector("kbs_response_ecdh_es_a256kw_p256");
    byte[] out = Jwe.decrypt(responseOf("kbs_response_ecdh_es_a256kw_p256"), ecVectorKey());
    assertEquals(v.get("plaintext_utf8").textValue(), new String(out, StandardCharsets.UTF_8));
    // The protected member decodes to exactly the documented header text (B6 key order).
    String protectedJson = new String(
        Base64.getUrlDecoder().decode(v.get("response").get("protected").textValue()), StandardCharsets.UTF_8);
    assertEquals(v.get("protected_header_json").textValue(), protectedJson);
  }

  @Test
  void decrypt_rsaOaep256Vector_givesPlaintext() throws Exception {
    JsonNode v = vector("kbs_response_rsa_oaep_256");
    byte[] out = Jwe.decrypt(responseOf("kbs_response_rsa_oaep_256"), rsaVectorKey());
    assertEquals(v.get("plaintext_utf8").textValue(), new String(out, StandardCharsets.UTF_8));
  }

  @Test
  void decryptCompactA256kw_kserveVector_givesPlaintext() throws Exception {
    JsonNode v = vector("kserve_model_file_a256kw_a256gcm");
    byte[] key = HexFormat.of().parseHex(v.get("kbs_resource_raw_key_hex_TEST_ONLY").textValue());
    byte[] out = Jwe.decryptCompactA256kw(v.get("file_content_compact_jwe").textValue(), key);
    assertEquals(v.get("plaintext_utf8").textValue(), new String(out, StandardCharsets.UTF_8));
  }

  @Test
  void decryptCompactA256kw_wrongKey_failsAtUnwrap() {
    JsonNode v = vector("kserve_model_file_a256kw_a256gcm");
    AttestationException e = assertThrows(AttestationException.class,
        () -> Jwe.decryptCompactA256kw(v.get("file_content_compact_jwe").textValue(), new byte[32]));
    assertEquals("JWE compact: encrypted_key does not unwrap under the given key (wrong key or tampered encrypted_key)",
        e.getMessage());
  }

  @Test
  void decryptCompactA256kw_shortKey_failsNamingLength() {
    AttestationException e = assertThrows(AttestationException.class,
        () -> Jwe.decryptCompactA256kw("a.b.c.d.e", new byte[16]));
    assertEquals("JWE compact: A256KW needs a 32-byte key, got 16 bytes", e.getMessage());
  }

  @Test
  void decryptCompactA256kw_tamperedCiphertext_failsAuthentication() {
    JsonNode v = vector("kserve_model_file_a256kw_a256gcm");
    byte[] key = HexFormat.of().parseHex(v.get("kbs_resource_raw_key_hex_TEST_ONLY").textValue());
    String[] p = v.get("file_content_compact_jwe").textValue().split("\\.");
    p[3] = flipFirst(p[3]);
    AttestationException e = assertThrows(AttestationException.class,
        () -> Jwe.decryptCompactA256kw(String.join(".", p), key));
    assertEquals(TAG_FAILURE, e.getMessage());
  }

  private static final String TAG_FAILURE =
      "JWE: content authentication failed (A256GCM tag mismatch: tampered ciphertext, tag, iv or protected header)";

  @Test
  void encryptDecrypt_p256_roundTrips() throws Exception {
    KeyPair kp = ec("secp256r1");
    JsonNode jwk = Jwk.ecPublicJwk((ECPublicKey) kp.getPublic());
    String jwe = Jwe.encrypt(PLAIN, jwk);
    assertArrayEquals(PLAIN, Jwe.decrypt(jwe, kp.getPrivate()));
    assertMemberOrder(JSON.readTree(jwe), List.of("protected", "encrypted_key", "iv", "ciphertext", "tag"));
    String header = protectedHeader(jwe);
    assertTrue(header.matches(
        "\\{\"alg\":\"ECDH-ES\\+A256KW\",\"enc\":\"A256GCM\",\"epk\":\\{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"[A-Za-z0-9_-]{43}\",\"y\":\"[A-Za-z0-9_-]{43}\"}}"),
        header);
  }

  @Test
  void encryptDecrypt_p521_roundTrips() throws Exception {
    KeyPair kp = ec("secp521r1");
    JsonNode jwk = Jwk.ecPublicJwk((ECPublicKey) kp.getPublic());
    assertEquals(88, jwk.get("x").textValue().length()); // 66 bytes
    String jwe = Jwe.encrypt(PLAIN, jwk);
    assertArrayEquals(PLAIN, Jwe.decrypt(jwe, kp.getPrivate()));
    assertTrue(protectedHeader(jwe).contains("\"epk\":{\"crv\":\"P-521\",\"kty\":\"EC\",\"x\":"));
  }

  @Test
  void encryptDecrypt_rsaOaep256_roundTrips() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    KeyPair kp = g.generateKeyPair();
    String jwe = Jwe.encrypt(PLAIN, rsaJwk((RSAPublicKey) kp.getPublic(), "RSA-OAEP-256"));
    assertArrayEquals(PLAIN, Jwe.decrypt(jwe, kp.getPrivate()));
    assertEquals("{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\"}", protectedHeader(jwe));
  }

  @Test
  void encryptDecrypt_vectorRecipientKeys_roundTrip() throws Exception {
    JsonNode ecPriv = vector("kbs_response_ecdh_es_a256kw_p256").get("recipient_private_jwk_TEST_ONLY");
    ObjectNode ecPub = ((ObjectNode) ecPriv.deepCopy());
    ecPub.remove("d");
    assertArrayEquals(PLAIN, Jwe.decrypt(Jwe.encrypt(PLAIN, ecPub), ecVectorKey()));
    JsonNode rsaPub = vector("kbs_response_rsa_oaep_256").get("recipient_public_jwk");
    assertArrayEquals(PLAIN, Jwe.decrypt(Jwe.encrypt(PLAIN, rsaPub), rsaVectorKey()));
  }

  @Test
  void encrypt_emptyPlaintext_roundTrips() throws Exception {
    KeyPair kp = ec("secp256r1");
    String jwe = Jwe.encrypt(new byte[0], Jwk.ecPublicJwk((ECPublicKey) kp.getPublic()));
    assertArrayEquals(new byte[0], Jwe.decrypt(jwe, kp.getPrivate()));
  }

  @Test
  void decrypt_tamperedTag_failsAuthentication() throws Exception {
    ObjectNode r = (ObjectNode) vector("kbs_response_ecdh_es_a256kw_p256").get("response").deepCopy();
    r.put("tag", flipFirst(r.get("tag").textValue()));
    AttestationException e = assertThrows(AttestationException.class, () -> Jwe.decrypt(r.toString(), ecVectorKey()));
    assertEquals(TAG_FAILURE, e.getMessage());
  }

  @Test
  void decrypt_tamperedCiphertext_failsAuthentication() throws Exception {
    ObjectNode r = (ObjectNode) vector("kbs_response_rsa_oaep_256").get("response").deepCopy();
    r.put("ciphertext", flipFirst(r.get("ciphertext").textValue()));
    AttestationException e = assertThrows(AttestationException.class, () -> Jwe.decrypt(r.toString(), rsaVectorKey()));
    assertEquals(TAG_FAILURE, e.getMessage());
  }

  @Test
  void decrypt_protectedHeaderChangedButSameKeys_failsAuthentication() throws Exception {
    // Same alg/enc/epk (so the CEK still unwraps), different bytes: the AAD no longer matches.
    JsonNode v = vector("kbs_response_ecdh_es_a256kw_p256");
    ObjectNode r = (ObjectNode) v.get("response").deepCopy();
    String header = v.get("protected_header_json").textValue();
    String reordered = header.replace("{\"alg\":\"ECDH-ES+A256KW\",\"enc\":\"A256GCM\",", "{\"enc\":\"A256GCM\",\"alg\":\"ECDH-ES+A256KW\",");
    r.put("protected", Base64.getUrlEncoder().withoutPadding().encodeToString(reordered.getBytes(StandardCharsets.UTF_8)));
    AttestationException e = assertThrows(AttestationException.class, () -> Jwe.decrypt(r.toString(), ecVectorKey()));
    assertEquals(TAG_FAILURE, e.getMessage());
  }

  @Test
  void decrypt_protectedHeaderRsaAlgSwapped_failsForKeyType() throws Exception {
    ObjectNode r = (ObjectNode) vector("kbs_response_rsa_oaep_256").get("response").deepCopy();
    r.put("protected", b64url("{\"alg\":\"ECDH-ES+A256KW\",\"enc\":\"A256GCM\"}"));
    AttestationException e = assertThrows(AttestationException.class, () -> Jwe.decrypt(r.toString(), rsaVectorKey()));
    assertEquals("JWE decrypt: alg ECDH-ES+A256KW needs an EC private key, got RSA", e.getMessage());
  }

  @Test
  void decrypt_wrongEcKey_failsAtUnwrap() throws Exception {
    AttestationException e = assertThrows(AttestationException.class,
        () -> Jwe.decrypt(responseOf("kbs_response_ecdh_es_a256kw_p256"), ec("secp256r1").getPrivate()));
    assertEquals("JWE decrypt: encrypted_key does not unwrap under the ECDH-derived key"
        + " (wrong recipient key, or tampered epk or encrypted_key)", e.getMessage());
  }

  @Test
  void decrypt_wrongRsaKey_failsAtKeyDecryption() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    AttestationException e = assertThrows(AttestationException.class,
        () -> Jwe.decrypt(responseOf("kbs_response_rsa_oaep_256"), g.generateKeyPair().getPrivate()));
    assertEquals("JWE decrypt: encrypted_key does not decrypt under the RSA key"
        + " (wrong recipient key or tampered encrypted_key)", e.getMessage());
  }

  @Test
  void decrypt_wrongCurveKey_failsNamingBothCurves() throws Exception {
    AttestationException e = assertThrows(AttestationException.class,
        () -> Jwe.decrypt(responseOf("kbs_response_ecdh_es_a256kw_p256"), ec("secp521r1").getPrivate()));
    assertEquals("JWE decrypt: epk curve P-256 does not match the private key's curve P-521", e.getMessage());
  }

  @Test
  void decrypt_epkOffCurve_fails() throws Exception {
    JsonNode v = vector("kbs_response_ecdh_es_a256kw_p256");
    ObjectNode header = (ObjectNode) JSON.readTree(v.get("protected_header_json").textValue());
    ObjectNode epk = (ObjectNode) header.get("epk");
    epk.put("y", epk.get("x").textValue()); // (x, x) is not on P-256
    ObjectNode r = (ObjectNode) v.get("response").deepCopy();
    r.put("protected", b64url(header.toString()));
    AttestationException e = assertThrows(AttestationException.class, () -> Jwe.decrypt(r.toString(), ecVectorKey()));
    assertEquals("JWE decrypt: epk: point (x, y) is not on curve P-256", e.getMessage());
  }

  @Test
  void decrypt_unexpectedMemberOrAad_fails() throws Exception {
    ObjectNode r = (ObjectNode) vector("kbs_response_ecdh_es_a256kw_p256").get("response").deepCopy();
    r.put("aad", "AAAA");
    AttestationException e = assertThrows(AttestationException.class, () -> Jwe.decrypt(r.toString(), ecVectorKey()));
    assertEquals("JWE decrypt: aad is not supported (a key broker response carries none)", e.getMessage());
    r.remove("aad");
    r.putObject("header").put("alg", "dir");
    e = assertThrows(AttestationException.class, () -> Jwe.decrypt(r.toString(), ecVectorKey()));
    assertEquals("JWE decrypt: unexpected member (allowed: protected, encrypted_key, iv, ciphertext, tag)", e.getMessage());
  }

  @Test
  void decrypt_garbage_failsAsNotJson() throws Exception {
    AttestationException e = assertThrows(AttestationException.class, () -> Jwe.decrypt("<html>", ecVectorKey()));
    assertEquals("JWE decrypt: not a JSON object (flattened JWE JSON expected)", e.getMessage());
  }

  @Test
  void decrypt_paddedBase64_fails() throws Exception {
    ObjectNode r = (ObjectNode) vector("kbs_response_ecdh_es_a256kw_p256").get("response").deepCopy();
    r.put("iv", r.get("iv").textValue() + "==");
    AttestationException e = assertThrows(AttestationException.class, () -> Jwe.decrypt(r.toString(), ecVectorKey()));
    assertEquals("JWE decrypt: iv is not base64url without padding", e.getMessage());
  }

  @Test
  void encrypt_rsa15Jwk_refused() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    AttestationException e = assertThrows(AttestationException.class,
        () -> Jwe.encrypt(PLAIN, rsaJwk((RSAPublicKey) g.generateKeyPair().getPublic(), "RSA1_5")));
    assertEquals("JWK: RSA alg RSA1_5 is refused (PKCS#1 v1.5 key transport is deprecated); use RSA-OAEP-256", e.getMessage());
  }

  @Test
  void encrypt_jwkWithExtraMember_refused() throws Exception {
    ObjectNode jwk = Jwk.ecPublicJwk((ECPublicKey) ec("secp256r1").getPublic());
    jwk.put("kid", "k1");
    AttestationException e = assertThrows(AttestationException.class, () -> Jwe.encrypt(PLAIN, jwk));
    assertEquals("JWK: EC key has an unexpected member (allowed exactly: kty, crv, alg, x, y)", e.getMessage());
  }

  @Test
  void encrypt_p384Jwk_refused() throws Exception {
    ObjectNode jwk = JSON.createObjectNode();
    jwk.put("kty", "EC").put("crv", "P-384").put("alg", "ECDH-ES+A256KW").put("x", "AA").put("y", "AA");
    AttestationException e = assertThrows(AttestationException.class, () -> Jwe.encrypt(PLAIN, jwk));
    assertEquals("JWK: crv is not supported (allowed: P-256, P-521)", e.getMessage());
  }

  @Test
  void encrypt_offCurvePoint_refused() throws Exception {
    ObjectNode jwk = Jwk.ecPublicJwk((ECPublicKey) ec("secp256r1").getPublic());
    jwk.put("y", jwk.get("x").textValue());
    AttestationException e = assertThrows(AttestationException.class, () -> Jwe.encrypt(PLAIN, jwk));
    assertEquals("JWK: point (x, y) is not on curve P-256", e.getMessage());
  }

  @Test
  void encrypt_shortCoordinate_refusedNamingLength() throws Exception {
    ObjectNode jwk = Jwk.ecPublicJwk((ECPublicKey) ec("secp256r1").getPublic());
    jwk.put("x", "AAAA");
    AttestationException e = assertThrows(AttestationException.class, () -> Jwe.encrypt(PLAIN, jwk));
    assertEquals("JWK: x must be 32 bytes for P-256, got 3", e.getMessage());
  }

  private static KeyPair ec(String curve) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec(curve));
    return g.generateKeyPair();
  }

  private static ObjectNode rsaJwk(RSAPublicKey k, String alg) {
    ObjectNode jwk = JSON.createObjectNode();
    jwk.put("kty", "RSA");
    jwk.put("alg", alg);
    jwk.put("n", Base64.getUrlEncoder().withoutPadding().encodeToString(unsigned(k.getModulus().toByteArray())));
    jwk.put("e", Base64.getUrlEncoder().withoutPadding().encodeToString(unsigned(k.getPublicExponent().toByteArray())));
    return jwk;
  }

  private static byte[] unsigned(byte[] b) {
    return b.length > 1 && b[0] == 0 ? java.util.Arrays.copyOfRange(b, 1, b.length) : b;
  }

  private static String protectedHeader(String jwe) throws Exception {
    return new String(Base64.getUrlDecoder().decode(JSON.readTree(jwe).get("protected").textValue()), StandardCharsets.UTF_8);
  }

  private static String b64url(String s) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  // Flips one bit of the first byte while keeping canonical base64url.
  private static String flipFirst(String b64url) {
    byte[] b = Base64.getUrlDecoder().decode(b64url);
    b[0] ^= 1;
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  private static void assertMemberOrder(JsonNode node, List<String> expected) {
    List<String> names = new java.util.ArrayList<>();
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      names.add(it.next());
    }
    assertEquals(expected, names);
  }
}
