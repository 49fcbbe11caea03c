package dev.sampler.keybroker.token;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.spec.ECFieldFp;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.EllipticCurve;
import java.util.Base64;
import java.util.Iterator;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The TEE public keys a client may send as {@code runtime-data.tee-pubkey} (PROTOCOLS.md B4), and
 * their RFC 7638 thumbprints.
 *
 * <p>Accepted: EC {@code {"kty":"EC","crv":"P-256"|"P-521","alg":"ECDH-ES+A256KW","x","y"}} with
 * a point on the curve, and RSA {@code {"kty":"RSA","alg":"RSA-OAEP-256","n","e"}} with a modulus
 * of at least 2048 bits. Exactly these members: upstream re-serializes a typed struct, so any other
 * member would break the report-data binding. {@code RSA1_5} (PKCS#1 v1.5) is refused; P-384 is not
 * supported by upstream's JWE code.
 */
public final class Jwks {
  private static final Pattern B64U = Pattern.compile("[A-Za-z0-9_-]+");
  private static final Set<String> EC_MEMBERS = Set.of("kty", "crv", "alg", "x", "y");
  private static final Set<String> RSA_MEMBERS = Set.of("kty", "alg", "n", "e");
  private static final int MIN_RSA_BITS = 2048;
  private static final int MAX_RSA_BITS = 8192;

  private Jwks() {}

  /**
   * Checks that {@code jwk} is a TEE public key this broker can encrypt to.
   *
   * @throws IllegalArgumentException naming the member that is missing, extra or not allowed
   */
  public static void validateTeePubkey(JsonNode jwk) {
    if (jwk == null || !jwk.isObject()) {
      throw new IllegalArgumentException("runtime-data.tee-pubkey must be a JWK object");
    }
    String kty = text(jwk, "kty");
    switch (kty) {
      case "EC" -> {
        members(jwk, EC_MEMBERS, "EC {kty,crv,alg,x,y}");
        String crv = text(jwk, "crv");
        int size = switch (crv) {
          case "P-256" -> 32;
          case "P-521" -> 66;
          default -> throw new IllegalArgumentException("tee-pubkey.crv must be P-256 or P-521");
        };
        if (!"ECDH-ES+A256KW".equals(text(jwk, "alg"))) {
          throw new IllegalArgumentException("tee-pubkey.alg must be ECDH-ES+A256KW for an EC key");
        }
        BigInteger x = new BigInteger(1, coordinate(jwk, "x", size));
        BigInteger y = new BigInteger(1, coordinate(jwk, "y", size));
        if (!onCurve(crv, x, y)) {
          throw new IllegalArgumentException("tee-pubkey (x, y) is not a point on " + crv);
        }
      }
      case "RSA" -> {
        members(jwk, RSA_MEMBERS, "RSA {kty,alg,n,e}");
        String alg = text(jwk, "alg");
        if ("RSA1_5".equals(alg)) {
          throw new IllegalArgumentException("tee-pubkey.alg RSA1_5 is refused (PKCS#1 v1.5 is deprecated); use RSA-OAEP-256");
        }
        if (!"RSA-OAEP-256".equals(alg)) {
          throw new IllegalArgumentException("tee-pubkey.alg must be RSA-OAEP-256 for an RSA key");
        }
        BigInteger n = new BigInteger(1, b64u(jwk, "n"));
        BigInteger e = new BigInteger(1, b64u(jwk, "e"));
        if (n.bitLength() < MIN_RSA_BITS || n.bitLength() > MAX_RSA_BITS) {
          throw new IllegalArgumentException("tee-pubkey.n must be a " + MIN_RSA_BITS + " to " + MAX_RSA_BITS
              + " bit modulus");
        }
        if (!e.testBit(0) || e.compareTo(BigInteger.valueOf(3)) < 0 || e.bitLength() > 32) {
          throw new IllegalArgumentException("tee-pubkey.e must be an odd exponent from 3 to 2^32-1");
        }
      }
      default -> throw new IllegalArgumentException("tee-pubkey.kty must be EC or RSA");
    }
  }

  /**
   * The RFC 7638 thumbprint of a key {@link #validateTeePubkey} accepted: SHA-256 over the required
   * members in lexicographic order, without whitespace, base64url without padding.
   */
  public static String thumbprint(JsonNode jwk) {
    String canonical = switch (jwk.path("kty").asText()) {
      case "EC" -> "{\"crv\":\"" + jwk.get("crv").asText() + "\",\"kty\":\"EC\",\"x\":\"" + jwk.get("x").asText()
          + "\",\"y\":\"" + jwk.get("y").asText() + "\"}";
      case "RSA" -> "{\"e\":\"" + jwk.get("e").asText() + "\",\"kty\":\"RSA\",\"n\":\"" + jwk.get("n").asText() + "\"}";
      default -> throw new IllegalArgumentException("thumbprint needs an EC or RSA JWK");
    };
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(canonical.getBytes(StandardCharsets.US_ASCII));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(d);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 missing from the JDK", e);
    }
  }

  private static void members(JsonNode jwk, Set<String> allowed, String shape) {
    Set<String> seen = new TreeSet<>();
    for (Iterator<String> it = jwk.fieldNames(); it.hasNext(); ) {
      String m = it.next();
      if (!allowed.contains(m)) {
        throw new IllegalArgumentException("tee-pubkey has a member outside " + shape
            + " (extra members break the report-data binding)");
      }
      seen.add(m);
    }
    if (seen.size() != allowed.size()) {
      Set<String> missing = new TreeSet<>(allowed);
      missing.removeAll(seen);
      throw new IllegalArgumentException("tee-pubkey lacks " + String.join(", ", missing) + " (an " + shape + " JWK)");
    }
  }

  private static String text(JsonNode jwk, String member) {
    JsonNode v = jwk.get(member);
    if (v == null || !v.isTextual()) {
      throw new IllegalArgumentException("tee-pubkey." + member + " must be a string");
    }
    return v.asText();
  }

  private static byte[] b64u(JsonNode jwk, String member) {
    String s = text(jwk, member);
    if (s.length() > 2048 || !B64U.matcher(s).matches()) {
      throw new IllegalArgumentException("tee-pubkey." + member + " must be base64url without padding");
    }
    try {
      return Base64.getUrlDecoder().decode(s);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("tee-pubkey." + member + " must be base64url without padding");
    }
  }

  private static byte[] coordinate(JsonNode jwk, String member, int size) {
    byte[] b = b64u(jwk, member);
    if (b.length != size) {
      throw new IllegalArgumentException("tee-pubkey." + member + " must encode exactly " + size + " bytes");
    }
    return b;
  }

  private static boolean onCurve(String crv, BigInteger x, BigInteger y) {
    try {
      AlgorithmParameters ap = AlgorithmParameters.getInstance("EC");
      ap.init(new ECGenParameterSpec("P-256".equals(crv) ? "secp256r1" : "secp521r1"));
      EllipticCurve c = ap.getParameterSpec(ECParameterSpec.class).getCurve();
      BigInteger p = ((ECFieldFp) c.getField()).getP();
      if (x.signum() < 0 || x.compareTo(p) >= 0 || y.signum() < 0 || y.compareTo(p) >= 0) {
        return false;
      }
      BigInteger lhs = y.multiply(y).mod(p);
      BigInteger rhs = x.pow(3).add(c.getA().multiply(x)).add(c.getB()).mod(p);
      return lhs.equals(rhs);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK lacks curve " + crv, e);
    }
  }
}
