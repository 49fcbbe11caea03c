package dev.sampler.attestation.jwe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.attestation.AttestationException;
import dev.sampler.attestation.internal.Codec;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.MGF1ParameterSpec;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Set;
import javax.crypto.AEADBadTagException;
import javax.crypto.BadPaddingException;
import javax.crypto.Cipher;
import javax.crypto.IllegalBlockSizeException;
import javax.crypto.KeyAgreement;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import javax.crypto.spec.SecretKeySpec;

/**
 * The JWE subset a Trustee key broker speaks (PROTOCOLS.md B6, RFC 7516/7518): flattened JSON
 * serialization {@code {"protected","encrypted_key","iv","ciphertext","tag"}} (base64url without
 * padding, no {@code aad}), content encrypted with A256GCM under a random 32-byte CEK, the CEK
 * carried by {@code ECDH-ES+A256KW} (P-256 or P-521; Concat KDF with SHA-256, RFC 3394 key wrap) or
 * {@code RSA-OAEP-256}. Also the compact {@code A256KW}/{@code A256GCM} form of KServe's encrypted
 * model files (B8).
 *
 * <p>Interoperability trap (B6): the Rust reference client recomputes the GCM AAD by re-serializing
 * the header it parsed, so {@link #encrypt} emits exactly {@code {"alg":…,"enc":"A256GCM","epk":
 * {"crv","kty","x","y"}}} with no spaces. {@link #decrypt} authenticates the {@code protected}
 * string as received, which is what RFC 7516 requires.
 *
 * <p>Only JDK providers are used (SunEC ECDH, SunJCE AES/KW and AES/GCM, RSA/OAEP).
 */
public final class Jwe {
  private static final int CEK_BYTES = 32;
  private static final int IV_BYTES = 12;
  private static final int TAG_BYTES = 16;
  private static final int WRAPPED_CEK_BYTES = 40; // RFC 3394: 32-byte key + 8-byte check block
  private static final Set<String> FLATTENED_MEMBERS =
      Set.of("protected", "encrypted_key", "iv", "ciphertext", "tag", "aad");
  private static final SecureRandom RANDOM = new SecureRandom();

  private Jwe() {}

  /**
   * Encrypts {@code plaintext} to the holder of {@code recipientJwk} (a {@code tee-pubkey}, checked
   * by {@link Jwk#publicKey}): ECDH-ES+A256KW for an EC P-256/P-521 key (a fresh ephemeral key on
   * the same curve), RSA-OAEP-256 for an RSA key.
   *
   * @return the flattened JWE JSON, members in the order protected, encrypted_key, iv, ciphertext,
   *     tag
   * @throws AttestationException if the JWK is not acceptable (the message names the member and
   *     rule) or the JDK refuses an operation
   */
  public static String encrypt(byte[] plaintext, JsonNode recipientJwk) throws AttestationException {
    PublicKey recipient = Jwk.publicKey(recipientJwk);
    byte[] cek = new byte[CEK_BYTES];
    RANDOM.nextBytes(cek);
    byte[] kek = null;
    try {
      ObjectNode header = Codec.JSON.createObjectNode();
      byte[] encryptedKey;
      if (recipient instanceof ECPublicKey ec) {
        Jwk.Curve curve = Jwk.Curve.of(ec).orElseThrow();
        KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
        gen.initialize(curve.params(), RANDOM);
        KeyPair ephemeral = gen.generateKeyPair();
        kek = ecdhKek(ephemeral.getPrivate(), ec, curve);
        encryptedKey = wrap(kek, cek);
        ObjectNode epk = Jwk.ecPublicJwk((ECPublicKey) ephemeral.getPublic());
        ObjectNode ordered = Codec.JSON.createObjectNode(); // B6 order: crv, kty, x, y
        ordered.set("crv", epk.get("crv"));
        ordered.set("kty", epk.get("kty"));
        ordered.set("x", epk.get("x"));
        ordered.set("y", epk.get("y"));
        header.put("alg", Jwk.ALG_ECDH_ES_A256KW);
        header.put("enc", Jwk.ENC_A256GCM);
        header.set("epk", ordered);
      } else {
        Cipher rsa = Cipher.getInstance("RSA/ECB/OAEPPadding");
        rsa.init(Cipher.ENCRYPT_MODE, (RSAPublicKey) recipient, oaep256(), RANDOM);
        encryptedKey = rsa.doFinal(cek);
        header.put("alg", Jwk.ALG_RSA_OAEP_256);
        header.put("enc", Jwk.ENC_A256GCM);
      }
      String protectedB64 = Codec.b64url(Codec.write(header).getBytes(StandardCharsets.UTF_8));
      byte[] iv = new byte[IV_BYTES];
      RANDOM.nextBytes(iv);
      Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
      gcm.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(cek, "AES"), new GCMParameterSpec(TAG_BYTES * 8, iv));
      gcm.updateAAD(protectedB64.getBytes(StandardCharsets.US_ASCII));
      byte[] sealed = gcm.doFinal(plaintext);
      ObjectNode out = Codec.JSON.createObjectNode();
      out.put("protected", protectedB64);
      out.put("encrypted_key", Codec.b64url(encryptedKey));
      out.put("iv", Codec.b64url(iv));
      out.put("ciphertext", Codec.b64url(Arrays.copyOf(sealed, sealed.length - TAG_BYTES)));
      out.put("tag", Codec.b64url(Arrays.copyOfRange(sealed, sealed.length - TAG_BYTES, sealed.length)));
      return Codec.write(out);
    } catch (GeneralSecurityException e) {
      throw new AttestationException("JWE encrypt: the JDK refused an operation (" + e.getClass().getSimpleName() + ")", e);
    } finally {
      Codec.wipe(cek);
      Codec.wipe(kek);
    }
  }

  /**
   * Decrypts a flattened JWE JSON (B6) with the recipient's private key: an EC key (P-256/P-521) for
   * {@code ECDH-ES+A256KW}, an RSA key for {@code RSA-OAEP-256}. The GCM AAD is the {@code
   * protected} member exactly as received.
   *
   * @return the plaintext (the caller owns and should wipe it)
   * @throws AttestationException naming the step: malformed JSON or member, unsupported {@code alg}/
   *     {@code enc}/{@code crit}/{@code zip}, a key that does not fit the {@code alg}, an {@code epk}
   *     on another curve or off the curve, a CEK that does not unwrap (wrong key, tampered {@code epk}
   *     or {@code encrypted_key}), or content authentication failure (tampered ciphertext, tag, iv or
   *     protected header)
   */
  public static byte[] decrypt(String json, PrivateKey key) throws AttestationException {
    if (json == null || key == null) {
      throw new AttestationException("JWE decrypt: " + (json == null ? "JWE text" : "private key") + " is null");
    }
    JsonNode jwe =
        Codec.parse(json)
            .filter(JsonNode::isObject)
            .orElseThrow(() -> new AttestationException("JWE decrypt: not a JSON object (flattened JWE JSON expected)"));
    for (Iterator<String> it = jwe.fieldNames(); it.hasNext(); ) {
      if (!FLATTENED_MEMBERS.contains(it.next())) {
        throw new AttestationException(
            "JWE decrypt: unexpected member (allowed: protected, encrypted_key, iv, ciphertext, tag)");
      }
    }
    if (jwe.has("aad") && !jwe.get("aad").isNull()) {
      throw new AttestationException("JWE decrypt: aad is not supported (a key broker response carries none)");
    }
    String protectedB64 = member(jwe, "protected");
    byte[] encryptedKey = bytes(jwe, "encrypted_key");
    byte[] iv = bytes(jwe, "iv");
    byte[] ciphertext = bytes(jwe, "ciphertext");
    byte[] tag = bytes(jwe, "tag");
    JsonNode header = header(protectedB64);
    String alg = header.get("alg").textValue();
    byte[] cek;
    if (Jwk.ALG_ECDH_ES_A256KW.equals(alg)) {
      if (!(key instanceof ECPrivateKey ec)) {
        throw new AttestationException("JWE decrypt: alg " + alg + " needs an EC private key, got " + key.getAlgorithm());
      }
      cek = unwrapEcdh(header, ec, encryptedKey);
    } else if (Jwk.ALG_RSA_OAEP_256.equals(alg)) {
      if (!(key instanceof RSAPrivateKey rsa)) {
        throw new AttestationException("JWE decrypt: alg " + alg + " needs an RSA private key, got " + key.getAlgorithm());
      }
      cek = unwrapRsa(rsa, encryptedKey);
    } else if ("RSA1_5".equals(alg)) {
      throw new AttestationException("JWE decrypt: alg RSA1_5 is refused (deprecated PKCS#1 v1.5 key transport)");
    } else {
      throw new AttestationException(
          "JWE decrypt: alg is not supported (allowed: " + Jwk.ALG_ECDH_ES_A256KW + ", " + Jwk.ALG_RSA_OAEP_256 + ")");
    }
    try {
      return gcmOpen(cek, iv, ciphertext, tag, protectedB64);
    } finally {
      Codec.wipe(cek);
    }
  }

  /**
   * Decrypts a KServe encrypted model file (B8): JWE compact serialization with header {@code
   * {"alg":"A256KW","enc":"A256GCM"}} under a 32-byte key fetched from the key broker.
   *
   * @param compact the file's text (surrounding whitespace is ignored)
   * @param key the 32-byte key-encryption key; not retained or modified
   * @throws AttestationException naming the step: not five parts, bad base64url, an unsupported
   *     header, a key of the wrong length, a CEK that does not unwrap (wrong key), or content
   *     authentication failure
   */
  public static byte[] decryptCompactA256kw(String compact, byte[] key) throws AttestationException {
    if (compact == null || key == null) {
      throw new AttestationException("JWE compact: " + (compact == null ? "JWE text" : "key") + " is null");
    }
    if (key.length != 32) {
      throw new AttestationException("JWE compact: A256KW needs a 32-byte key, got " + key.length + " bytes");
    }
    String[] parts = compact.strip().split("\\.", -1);
    if (parts.length != 5) {
      throw new AttestationException("JWE compact: expected 5 dot-separated parts, got " + parts.length);
    }
    String[] names = {"protected header", "encrypted_key", "iv", "ciphertext", "tag"};
    byte[][] decoded = new byte[5][];
    for (int i = 0; i < 5; i++) {
      final int idx = i;
      decoded[i] =
          Codec.fromB64url(parts[i])
              .orElseThrow(() -> new AttestationException("JWE compact: " + names[idx] + " is not base64url without padding"));
    }
    JsonNode header =
        Codec.parse(decoded[0])
            .filter(JsonNode::isObject)
            .orElseThrow(() -> new AttestationException("JWE compact: protected header is not a JSON object"));
    rejectCritAndZip(header, "JWE compact");
    if (!textIs(header, "alg", Jwk.ALG_A256KW) || !textIs(header, "enc", Jwk.ENC_A256GCM)) {
      throw new AttestationException("JWE compact: header must have alg A256KW and enc A256GCM");
    }
    checkLengths(decoded[1], decoded[2], decoded[4], "JWE compact");
    byte[] cek = unwrap(key, decoded[1], "JWE compact: encrypted_key does not unwrap under the given key (wrong key or tampered encrypted_key)");
    try {
      return gcmOpen(cek, decoded[2], decoded[3], decoded[4], parts[0]);
    } finally {
      Codec.wipe(cek);
    }
  }

  private static JsonNode header(String protectedB64) throws AttestationException {
    byte[] raw =
        Codec.fromB64url(protectedB64)
            .orElseThrow(() -> new AttestationException("JWE decrypt: protected is not base64url without padding"));
    JsonNode header =
        Codec.parse(raw)
            .filter(JsonNode::isObject)
            .orElseThrow(() -> new AttestationException("JWE decrypt: protected header is not a JSON object"));
    rejectCritAndZip(header, "JWE decrypt");
    if (!header.path("alg").isTextual()) {
      throw new AttestationException("JWE decrypt: protected header has no string alg");
    }
    if (!textIs(header, "enc", Jwk.ENC_A256GCM)) {
      throw new AttestationException("JWE decrypt: enc must be " + Jwk.ENC_A256GCM);
    }
    return header;
  }

  // RFC 7516 4.1.13: a crit parameter we do not understand must fail; zip would change the
  // plaintext's meaning. Other unknown header members are ignored (RFC 7515 4).
  private static void rejectCritAndZip(JsonNode header, String step) throws AttestationException {
    if (header.has("crit") || header.has("zip")) {
      throw new AttestationException(step + ": protected header uses crit or zip, which are not supported");
    }
  }

  private static byte[] unwrapEcdh(JsonNode header, ECPrivateKey key, byte[] encryptedKey)
      throws AttestationException {
    Jwk.Curve curve =
        Jwk.Curve.of(key)
            .orElseThrow(() -> new AttestationException("JWE decrypt: the private key is not on P-256 or P-521"));
    JsonNode epk = header.get("epk");
    if (epk == null || !epk.isObject()) {
      throw new AttestationException("JWE decrypt: protected header has no epk object");
    }
    if (!textIs(epk, "kty", "EC")) {
      throw new AttestationException("JWE decrypt: epk kty must be EC");
    }
    JsonNode crvNode = epk.get("crv");
    Jwk.Curve epkCurve =
        Jwk.Curve.ofJwkName(crvNode == null ? null : crvNode.textValue())
            .orElseThrow(() -> new AttestationException("JWE decrypt: epk crv is not supported (allowed: P-256, P-521)"));
    if (epkCurve != curve) {
      throw new AttestationException(
          "JWE decrypt: epk curve " + epkCurve.jwkName() + " does not match the private key's curve " + curve.jwkName());
    }
    BigInteger x = epkCoordinate(epk, "x", curve);
    BigInteger y = epkCoordinate(epk, "y", curve);
    ECPublicKey ephemeral = Jwk.ecPublicKey(curve, x, y, "JWE decrypt: epk");
    if (encryptedKey.length != WRAPPED_CEK_BYTES) {
      throw new AttestationException(
          "JWE decrypt: encrypted_key must be " + WRAPPED_CEK_BYTES + " bytes for A256KW, got " + encryptedKey.length);
    }
    byte[] kek = null;
    try {
      kek = ecdhKek(key, ephemeral, curve);
      return unwrap(kek, encryptedKey,
          "JWE decrypt: encrypted_key does not unwrap under the ECDH-derived key (wrong recipient key, or tampered epk or encrypted_key)");
    } catch (GeneralSecurityException e) {
      throw new AttestationException("JWE decrypt: ECDH failed (" + e.getClass().getSimpleName() + ")", e);
    } finally {
      Codec.wipe(kek);
    }
  }

  private static BigInteger epkCoordinate(JsonNode epk, String name, Jwk.Curve curve)
      throws AttestationException {
    JsonNode v = epk.get(name);
    byte[] b =
        Codec.fromB64url(v == null ? null : v.textValue())
            .orElseThrow(() -> new AttestationException("JWE decrypt: epk " + name + " is not base64url without padding"));
    if (b.length != curve.coordinateBytes()) {
      throw new AttestationException(
          "JWE decrypt: epk " + name + " must be " + curve.coordinateBytes() + " bytes for " + curve.jwkName() + ", got " + b.length);
    }
    return new BigInteger(1, b);
  }

  private static byte[] unwrapRsa(RSAPrivateKey key, byte[] encryptedKey) throws AttestationException {
    byte[] cek;
    try {
      Cipher rsa = Cipher.getInstance("RSA/ECB/OAEPPadding");
      rsa.init(Cipher.DECRYPT_MODE, key, oaep256());
      cek = rsa.doFinal(encryptedKey);
    } catch (BadPaddingException | IllegalBlockSizeException e) {
      throw new AttestationException(
          "JWE decrypt: encrypted_key does not decrypt under the RSA key (wrong recipient key or tampered encrypted_key)");
    } catch (GeneralSecurityException e) {
      throw new AttestationException("JWE decrypt: RSA-OAEP-256 failed (" + e.getClass().getSimpleName() + ")", e);
    }
    if (cek.length != CEK_BYTES) {
      int n = cek.length;
      Codec.wipe(cek);
      throw new AttestationException("JWE decrypt: the CEK must be " + CEK_BYTES + " bytes for A256GCM, got " + n);
    }
    return cek;
  }

  /** Concat KDF (RFC 7518 4.6.2, NIST SP 800-56A) for ECDH-ES+A256KW with empty apu/apv. */
  private static byte[] ecdhKek(PrivateKey priv, ECPublicKey pub, Jwk.Curve curve)
      throws GeneralSecurityException {
    KeyAgreement ka = KeyAgreement.getInstance("ECDH");
    ka.init(priv);
    ka.doPhase(pub, true);
    byte[] z = ka.generateSecret(); // the x-coordinate, curve.coordinateBytes() long
    try {
      byte[] alg = Jwk.ALG_ECDH_ES_A256KW.getBytes(StandardCharsets.US_ASCII);
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(int32(1)); // round counter; 256 output bits need one SHA-256 round
      sha.update(z);
      sha.update(int32(alg.length));
      sha.update(alg);
      sha.update(int32(0)); // PartyUInfo: empty
      sha.update(int32(0)); // PartyVInfo: empty
      sha.update(int32(256)); // SuppPubInfo: keydatalen in bits
      return sha.digest();
    } finally {
      Codec.wipe(z);
    }
  }

  private static byte[] int32(int v) {
    return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
  }

  private static byte[] wrap(byte[] kek, byte[] cek) throws GeneralSecurityException {
    Cipher kw = Cipher.getInstance("AESWrap");
    kw.init(Cipher.WRAP_MODE, new SecretKeySpec(kek, "AES"));
    return kw.wrap(new SecretKeySpec(cek, "AES"));
  }

  private static byte[] unwrap(byte[] kek, byte[] wrapped, String failure) throws AttestationException {
    try {
      Cipher kw = Cipher.getInstance("AESWrap");
      kw.init(Cipher.UNWRAP_MODE, new SecretKeySpec(kek, "AES"));
      SecretKey k = (SecretKey) kw.unwrap(wrapped, "AES", Cipher.SECRET_KEY);
      byte[] cek = k.getEncoded();
      if (cek.length != CEK_BYTES) {
        int n = cek.length;
        Codec.wipe(cek);
        throw new AttestationException("JWE: the CEK must be " + CEK_BYTES + " bytes for A256GCM, got " + n);
      }
      return cek;
    } catch (InvalidKeyException e) {
      // SunJCE reports a failed RFC 3394 integrity check as InvalidKeyException.
      throw new AttestationException(failure);
    } catch (GeneralSecurityException e) {
      throw new AttestationException(failure + " (" + e.getClass().getSimpleName() + ")", e);
    }
  }

  private static byte[] gcmOpen(byte[] cek, byte[] iv, byte[] ciphertext, byte[] tag, String protectedB64)
      throws AttestationException {
    checkLengths(null, iv, tag, "JWE");
    try {
      Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
      gcm.init(Cipher.DECRYPT_MODE, new SecretKeySpec(cek, "AES"), new GCMParameterSpec(TAG_BYTES * 8, iv));
      gcm.updateAAD(protectedB64.getBytes(StandardCharsets.US_ASCII));
      byte[] sealed = new byte[ciphertext.length + TAG_BYTES];
      System.arraycopy(ciphertext, 0, sealed, 0, ciphertext.length);
      System.arraycopy(tag, 0, sealed, ciphertext.length, TAG_BYTES);
      return gcm.doFinal(sealed);
    } catch (AEADBadTagException e) {
      throw new AttestationException(
          "JWE: content authentication failed (A256GCM tag mismatch: tampered ciphertext, tag, iv or protected header)");
    } catch (GeneralSecurityException e) {
      throw new AttestationException("JWE: A256GCM decryption failed (" + e.getClass().getSimpleName() + ")", e);
    }
  }

  private static void checkLengths(byte[] encryptedKey, byte[] iv, byte[] tag, String step)
      throws AttestationException {
    if (encryptedKey != null && encryptedKey.length != WRAPPED_CEK_BYTES) {
      throw new AttestationException(
          step + ": encrypted_key must be " + WRAPPED_CEK_BYTES + " bytes for A256KW, got " + encryptedKey.length);
    }
    if (iv.length != IV_BYTES) {
      throw new AttestationException(step + ": iv must be " + IV_BYTES + " bytes for A256GCM, got " + iv.length);
    }
    if (tag.length != TAG_BYTES) {
      throw new AttestationException(step + ": tag must be " + TAG_BYTES + " bytes for A256GCM, got " + tag.length);
    }
  }

  private static OAEPParameterSpec oaep256() {
    return new OAEPParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, PSource.PSpecified.DEFAULT);
  }

  private static String member(JsonNode jwe, String name) throws AttestationException {
    JsonNode v = jwe.get(name);
    if (v == null || !v.isTextual()) {
      throw new AttestationException("JWE decrypt: member " + name + " is missing or not a string");
    }
    return v.textValue();
  }

  private static byte[] bytes(JsonNode jwe, String name) throws AttestationException {
    return Codec.fromB64url(member(jwe, name))
        .orElseThrow(() -> new AttestationException("JWE decrypt: " + name + " is not base64url without padding"));
  }

  private static boolean textIs(JsonNode node, String name, String expected) {
    JsonNode v = node.get(name);
    return v != null && v.isTextual() && expected.equals(v.textValue());
  }
}
