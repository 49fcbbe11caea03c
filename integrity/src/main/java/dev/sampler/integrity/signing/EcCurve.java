package dev.sampler.integrity.signing;

import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.interfaces.ECKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.util.Locale;
import java.util.Optional;

/**
 * The elliptic curves a model signature may use, each with the digest the OpenSSF model-signing
 * format pairs with it (P-256 with SHA-256, P-384 with SHA-384, P-521 with SHA-512), as in the
 * Sigstore key details {@code PKIX_ECDSA_P256_SHA_256} and so on.
 */
public enum EcCurve {
  /** NIST P-256 (secp256r1) with SHA-256; the default for new keys. */
  P256("P-256", "secp256r1", "SHA256withECDSA", "PKIX_ECDSA_P256_SHA_256", 32,
      new byte[] {0x06, 0x08, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x03, 0x01, 0x07}),
  /** NIST P-384 (secp384r1) with SHA-384 (the upstream fixtures' key). */
  P384("P-384", "secp384r1", "SHA384withECDSA", "PKIX_ECDSA_P384_SHA_384", 48,
      new byte[] {0x06, 0x05, 0x2b, (byte) 0x81, 0x04, 0x00, 0x22}),
  /** NIST P-521 (secp521r1) with SHA-512. */
  P521("P-521", "secp521r1", "SHA512withECDSA", "PKIX_ECDSA_P521_SHA_512", 66,
      new byte[] {0x06, 0x05, 0x2b, (byte) 0x81, 0x04, 0x00, 0x23});

  private final String displayName;
  private final String jdkName;
  private final String signatureAlgorithm;
  private final String keyDetails;
  private final int fieldBytes;
  private final byte[] oidDer;
  private final ECParameterSpec params;

  EcCurve(String displayName, String jdkName, String signatureAlgorithm, String keyDetails, int fieldBytes,
      byte[] oidDer) {
    this.displayName = displayName;
    this.jdkName = jdkName;
    this.signatureAlgorithm = signatureAlgorithm;
    this.keyDetails = keyDetails;
    this.fieldBytes = fieldBytes;
    this.oidDer = oidDer;
    try {
      AlgorithmParameters p = AlgorithmParameters.getInstance("EC");
      p.init(new ECGenParameterSpec(jdkName));
      this.params = p.getParameterSpec(ECParameterSpec.class);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK does not know the curve " + jdkName, e);
    }
  }

  /** The NIST name, e.g. {@code P-256}. */
  public String displayName() {
    return displayName;
  }

  /** The JDK's standard name, e.g. {@code secp256r1}. */
  public String jdkName() {
    return jdkName;
  }

  /** The JCA signature algorithm: ECDSA with this curve's digest, DER-encoded signatures. */
  public String signatureAlgorithm() {
    return signatureAlgorithm;
  }

  /** The digest ECDSA uses on this curve: {@code SHA-256}, {@code SHA-384} or {@code SHA-512}. */
  public String digestName() {
    return "SHA-" + signatureAlgorithm.substring(3, 6);
  }

  /** The Sigstore {@code keyDetails} value for this curve, e.g. {@code PKIX_ECDSA_P384_SHA_384}. */
  public String keyDetails() {
    return keyDetails;
  }

  /** Bytes of a field element (and of a private scalar): 32, 48 or 66. */
  int fieldBytes() {
    return fieldBytes;
  }

  /** The DER encoding (tag, length, value) of the curve's object identifier. */
  byte[] oidDer() {
    return oidDer.clone();
  }

  /** The curve's domain parameters. */
  ECParameterSpec params() {
    return params;
  }

  /**
   * The curve called {@code name}: {@code P-256}, {@code P256}, {@code secp256r1} and the like,
   * case-insensitive.
   *
   * @throws IllegalArgumentException for any other name; the message lists the accepted ones
   */
  public static EcCurve named(String name) {
    String n = name == null ? "" : name.trim().toUpperCase(Locale.ROOT).replace("-", "");
    for (EcCurve c : values()) {
      if (n.equals(c.displayName.replace("-", "")) || n.equals(c.jdkName.toUpperCase(Locale.ROOT))) {
        return c;
      }
    }
    throw new IllegalArgumentException("unknown curve " + dev.sampler.integrity.Untrusted.quote(name)
        + " (allowed: P-256, P-384, P-521)");
  }

  /** The curve of an EC key, or empty when the key is not an EC key on one of these curves. */
  public static Optional<EcCurve> of(PublicKey key) {
    if (!(key instanceof ECKey ec)) {
      return Optional.empty();
    }
    return of(ec.getParams());
  }

  /** The curve with these domain parameters, or empty when they are not one of the three. */
  static Optional<EcCurve> of(ECParameterSpec spec) {
    if (spec == null) {
      return Optional.empty();
    }
    for (EcCurve c : values()) {
      ECParameterSpec p = c.params;
      if (p.getOrder().equals(spec.getOrder())
          && p.getCofactor() == spec.getCofactor()
          && p.getGenerator().equals(spec.getGenerator())
          && p.getCurve().equals(spec.getCurve())) {
        return Optional.of(c);
      }
    }
    return Optional.empty();
  }
}
