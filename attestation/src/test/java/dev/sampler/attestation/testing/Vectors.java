package dev.sampler.attestation.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECPrivateKeySpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import dev.sampler.attestation.jwe.Jwk;

/** Test vectors from src/test/resources/vectors and key import for them (tests only). */
public final class Vectors {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Vectors() {}

  /** The bytes of a resource under vectors/. */
  public static byte[] bytes(String path) {
    try (InputStream in = Vectors.class.getResourceAsStream("/vectors/" + path)) {
      if (in == null) {
        throw new IllegalStateException("missing test resource vectors/" + path);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A resource under vectors/ as UTF-8 text. */
  public static String text(String path) {
    return new String(bytes(path), StandardCharsets.UTF_8);
  }

  /** A resource under vectors/ parsed as JSON. */
  public static JsonNode json(String path) {
    try {
      return JSON.readTree(bytes(path));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** generated/kbs-rcar-vectors.json. */
  public static JsonNode rcar() {
    return json("generated/kbs-rcar-vectors.json");
  }

  /** The EC private key of a JWK with {@code d} (test keys only). */
  public static ECPrivateKey ecPrivateKey(JsonNode jwk) throws GeneralSecurityException {
    Jwk.Curve curve = Jwk.Curve.ofJwkName(jwk.get("crv").textValue()).orElseThrow();
    BigInteger d = new BigInteger(1, Base64.getUrlDecoder().decode(jwk.get("d").textValue()));
    return (ECPrivateKey) KeyFactory.getInstance("EC").generatePrivate(new ECPrivateKeySpec(d, curve.params()));
  }

  /** An RSA private key from PKCS#1 PEM ("BEGIN RSA PRIVATE KEY"), wrapped into PKCS#8 for the JDK. */
  public static PrivateKey rsaPrivateKeyPkcs1(String pem) throws GeneralSecurityException {
    String b64 = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
    byte[] pkcs1 = Base64.getDecoder().decode(b64);
    // PrivateKeyInfo ::= SEQUENCE { version 0, AlgorithmIdentifier { rsaEncryption, NULL }, OCTET STRING pkcs1 }
    byte[] algId = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
    byte[] version = {0x02, 0x01, 0x00};
    byte[] octet = tlv(0x04, pkcs1);
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(version);
    body.writeBytes(algId);
    body.writeBytes(octet);
    byte[] pkcs8 = tlv(0x30, body.toByteArray());
    return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
  }

  private static byte[] tlv(int tag, byte[] value) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(tag);
    int n = value.length;
    if (n < 0x80) {
      out.write(n);
    } else if (n < 0x100) {
      out.write(0x81);
      out.write(n);
    } else {
      out.write(0x82);
      out.write(n >> 8);
      out.write(n & 0xff);
    }
    out.writeBytes(value);
    return out.toByteArray();
  }

  /** Lowercase hex. */
  public static String hex(byte[] b) {
    return java.util.HexFormat.of().formatHex(b);
  }
}
