package dev.sampler.attestation.jwe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.attestation.AttestationException;
import dev.sampler.attestation.internal.Codec;
import java.math.BigInteger;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.interfaces.ECKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECFieldFp;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.EllipticCurve;
import java.security.spec.RSAPublicKeySpec;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The public JWKs an RCAR {@code tee-pubkey} may carry (B4): EC {@code {"kty":"EC","crv":"P-256"|
 * "P-521","alg":"ECDH-ES+A256KW","x","y"}} and RSA {@code {"kty":"RSA","alg":"RSA-OAEP-256","n",
 * "e"}}, with exactly those members: the broker binds the report data to the JWK it re-serializes,
 * so an extra member would make the two sides hash different bytes.
 *
 * <p>RSA1_5 (PKCS#1 v1.5 key transport) is refused although Trustee accepts it: it is deprecated
 * and padding-oracle prone. P-384 is refused because Trustee's JWE code cannot encrypt to it.
 */
public final class Jwk {
  /** JWE key management: ECDH-ES with Concat KDF, CEK wrapped with AES-256 key wrap. */
  public static final String ALG_ECDH_ES_A256KW = "ECDH-ES+A256KW";
  /** JWE key management: RSAES-OAEP with SHA-256 and MGF1-SHA-256. */
  public static final String ALG_RSA_OAEP_256 = "RSA-OAEP-256";
  /** JWE key management: direct AES-256 key wrap with a shared key (KServe files, B8). */
  public static final String ALG_A256KW = "A256KW";
  /** JWE content encryption: AES-256-GCM. */
  public static final String ENC_A256GCM = "A256GCM";

  /** Smallest RSA modulus accepted, in bits. */
  public static final int MIN_RSA_BITS = 2048;

  private static final List<String> EC_MEMBERS = List.of("kty", "crv", "alg", "x", "y");
  private static final List<String> RSA_MEMBERS = List.of("kty", "alg", "n", "e");

  private Jwk() {}

  /** The NIST curves the RCAR JWE supports. */
  public enum Curve {
    /** NIST P-256 (secp256r1), 32-byte coordinates. */
    P256("P-256", "secp256r1", 32),
    /** NIST P-521 (secp521r1), 66-byte coordinates. */
    P521("P-521", "secp521r1", 66);

    private final String jwkName;
    private final String stdName;
    private final int coordinateBytes;
    private final ECParameterSpec params;

    Curve(String jwkName, String stdName, int coordinateBytes) {
      this.jwkName = jwkName;
      this.stdName = stdName;
      this.coordinateBytes = coordinateBytes;
      try {
        AlgorithmParameters p = AlgorithmParameters.getInstance("EC");
        p.init(new ECGenParameterSpec(stdName));
        this.params = p.getParameterSpec(ECParameterSpec.class);
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("the JDK has no " + stdName, e);
      }
    }

    /** The JWK {@code crv} name, e.g. {@code "P-256"}. */
    public String jwkName() {
      return jwkName;
    }

    /** The JDK's standard name, e.g. {@code "secp256r1"}. */
    public String stdName() {
      return stdName;
    }

    /** Bytes per affine coordinate in a JWK (and the ECDH shared secret's length). */
    public int coordinateBytes() {
      return coordinateBytes;
    }

    /** The curve's domain parameters. */
    public ECParameterSpec params() {
      return params;
    }

    /** The curve named {@code crv} in a JWK, if supported. */
    public static Optional<Curve> ofJwkName(String crv) {
      for (Curve c : values()) {
        if (c.jwkName.equals(crv)) {
          return Optional.of(c);
        }
      }
      return Optional.empty();
    }

    /** The curve of an EC key, if it is one of these. */
    public static Optional<Curve> of(ECKey key) {
      EllipticCurve curve = key.getParams().getCurve();
      for (Curve c : values()) {
        if (c.params.getCurve().equals(curve)
            && c.params.getGenerator().equals(key.getParams().getGenerator())) {
          return Optional.of(c);
        }
      }
      return Optional.empty();
    }
  }

  /**
   * The public key a {@code tee-pubkey} JWK names, after checking it has exactly the members listed
   * above, a supported curve and algorithm, canonical base64url values, coordinates of the curve's
   * size that lie on the curve, or an RSA modulus of at least {@value #MIN_RSA_BITS} bits.
   *
   * @throws AttestationException naming the offending member and the rule (never its value)
   */
  public static PublicKey publicKey(JsonNode jwk) throws AttestationException {
    if (jwk == null || !jwk.isObject()) {
      throw fail("must be a JSON object");
    }
    JsonNode kty = jwk.get("kty");
    if (kty == null || !kty.isTextual()) {
      throw fail("kty must be the string \"EC\" or \"RSA\"");
    }
    return switch (kty.textValue()) {
      case "EC" -> ecPublicKey(jwk);
      case "RSA" -> rsaPublicKey(jwk);
      default -> throw fail("kty must be \"EC\" or \"RSA\"");
    };
  }

  /**
   * The JWK of an EC public key on P-256 or P-521, members in the order kty, crv, alg, x, y (alg
   * {@value #ALG_ECDH_ES_A256KW}); coordinates left-padded to the curve's size.
   *
   * @throws IllegalArgumentException if the key is on another curve
   */
  public static ObjectNode ecPublicJwk(ECPublicKey key) {
    Curve curve =
        Curve.of(key).orElseThrow(() -> new IllegalArgumentException("EC key is not on P-256 or P-521"));
    ObjectNode jwk = Codec.JSON.createObjectNode();
    jwk.put("kty", "EC");
    jwk.put("crv", curve.jwkName());
    jwk.put("alg", ALG_ECDH_ES_A256KW);
    jwk.put("x", Codec.b64url(fixed(key.getW().getAffineX(), curve.coordinateBytes())));
    jwk.put("y", Codec.b64url(fixed(key.getW().getAffineY(), curve.coordinateBytes())));
    return jwk;
  }

  /** {@code v} as exactly {@code len} big-endian bytes (v must fit). */
  static byte[] fixed(BigInteger v, int len) {
    byte[] raw = v.toByteArray();
    byte[] out = new byte[len];
    int start = raw.length > len ? raw.length - len : 0; // drop the sign byte
    System.arraycopy(raw, start, out, len - (raw.length - start), raw.length - start);
    return out;
  }

  private static PublicKey ecPublicKey(JsonNode jwk) throws AttestationException {
    exactMembers(jwk, EC_MEMBERS, "EC");
    String crv = text(jwk, "crv");
    Curve curve =
        Curve.ofJwkName(crv).orElseThrow(() -> fail("crv is not supported (allowed: P-256, P-521)"));
    if (!ALG_ECDH_ES_A256KW.equals(text(jwk, "alg"))) {
      throw fail("alg of an EC key must be " + ALG_ECDH_ES_A256KW);
    }
    BigInteger x = coordinate(jwk, "x", curve);
    BigInteger y = coordinate(jwk, "y", curve);
    return ecPublicKey(curve, x, y, "JWK");
  }

  /**
   * An EC public key from affine coordinates, after checking the point lies on the curve (the JDK
   * would otherwise let an invalid-curve point reach ECDH).
   *
   * @param what names the key in the message ("JWK", "JWE epk")
   * @throws AttestationException if the point is not on the curve
   */
  static ECPublicKey ecPublicKey(Curve curve, BigInteger x, BigInteger y, String what)
      throws AttestationException {
    ECParameterSpec params = curve.params();
    BigInteger p = ((ECFieldFp) params.getCurve().getField()).getP();
    BigInteger a = params.getCurve().getA();
    BigInteger b = params.getCurve().getB();
    boolean inField = x.signum() >= 0 && y.signum() >= 0 && x.compareTo(p) < 0 && y.compareTo(p) < 0;
    if (!inField || !y.multiply(y).subtract(x.pow(3).add(a.multiply(x)).add(b)).mod(p).equals(BigInteger.ZERO)) {
      throw new AttestationException(what + ": point (x, y) is not on curve " + curve.jwkName());
    }
    try {
      return (ECPublicKey)
          KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(new ECPoint(x, y), params));
    } catch (GeneralSecurityException e) {
      throw new AttestationException(what + ": the JDK refused the " + curve.jwkName() + " point", e);
    }
  }

  private static BigInteger coordinate(JsonNode jwk, String name, Curve curve)
      throws AttestationException {
    byte[] b =
        Codec.fromB64url(text(jwk, name))
            .orElseThrow(() -> fail(name + " must be base64url without padding"));
    if (b.length != curve.coordinateBytes()) {
      throw fail(
          name + " must be " + curve.coordinateBytes() + " bytes for " + curve.jwkName() + ", got " + b.length);
    }
    return new BigInteger(1, b);
  }

  private static PublicKey rsaPublicKey(JsonNode jwk) throws AttestationException {
    exactMembers(jwk, RSA_MEMBERS, "RSA");
    String alg = text(jwk, "alg");
    if ("RSA1_5".equals(alg)) {
      throw fail("RSA alg RSA1_5 is refused (PKCS#1 v1.5 key transport is deprecated); use " + ALG_RSA_OAEP_256);
    }
    if (!ALG_RSA_OAEP_256.equals(alg)) {
      throw fail("alg of an RSA key must be " + ALG_RSA_OAEP_256);
    }
    BigInteger n =
        new BigInteger(1, Codec.fromB64url(text(jwk, "n")).orElseThrow(() -> fail("n must be base64url without padding")));
    BigInteger e =
        new BigInteger(1, Codec.fromB64url(text(jwk, "e")).orElseThrow(() -> fail("e must be base64url without padding")));
    if (n.bitLength() < MIN_RSA_BITS) {
      throw fail("RSA modulus must have at least " + MIN_RSA_BITS + " bits, got " + n.bitLength());
    }
    if (e.compareTo(BigInteger.valueOf(3)) < 0 || !e.testBit(0)) {
      throw fail("RSA exponent e must be odd and at least 3");
    }
    try {
      return KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(n, e));
    } catch (GeneralSecurityException ex) {
      throw new AttestationException("JWK: the JDK refused the RSA key", ex);
    }
  }

  private static void exactMembers(JsonNode jwk, List<String> allowed, String kty)
      throws AttestationException {
    Set<String> seen = new java.util.HashSet<>();
    for (Iterator<String> it = jwk.fieldNames(); it.hasNext(); ) {
      String name = it.next();
      if (!allowed.contains(name)) {
        throw fail(kty + " key has an unexpected member (allowed exactly: " + String.join(", ", allowed) + ")");
      }
      seen.add(name);
    }
    for (String name : allowed) {
      if (!seen.contains(name)) {
        throw fail(kty + " key is missing member " + name);
      }
      if (!jwk.get(name).isTextual()) {
        throw fail("member " + name + " must be a string");
      }
    }
  }

  private static String text(JsonNode jwk, String name) {
    return jwk.get(name).textValue();
  }

  private static AttestationException fail(String why) {
    return new AttestationException("JWK: " + why);
  }
}
