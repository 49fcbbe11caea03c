package dev.sampler.integrity.signing;

import dev.sampler.integrity.IntegrityException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.InvalidAlgorithmParameterException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * EC signing keys for model signatures: generation (P-256 by default, P-384, P-521) and PEM files
 * as OpenSSL and the upstream {@code model_signing} tools read and write them.
 *
 * <p>Public keys are SubjectPublicKeyInfo ({@code BEGIN PUBLIC KEY}); a pinned key may also be given
 * as an X.509 certificate ({@code BEGIN CERTIFICATE}), whose key is then used. Private keys are
 * PKCS#8 ({@code BEGIN PRIVATE KEY}) written with the public key embedded (as OpenSSL does, so
 * {@code sign} needs no separate public key file); SEC1 ({@code BEGIN EC PRIVATE KEY}) is read too.
 * Text before, between or after the PEM blocks is skipped, as in the upstream fixture keys.
 * Encrypted private keys are refused.
 *
 * <p>Private key material is never part of a message or a {@code toString()}. Copies are zeroed
 * where this class controls them; the JDK's key objects and the PEM text read from a file may keep
 * copies until collected.
 */
public final class SigningKeys {
  private static final Set<PosixFilePermission> PRIVATE = PosixFilePermissions.fromString("rw-------");
  private static final Set<PosixFilePermission> PUBLIC = PosixFilePermissions.fromString("rw-r--r--");
  /** Key files are small; anything larger is not a key file. */
  private static final long MAX_KEY_FILE = 1 << 20;

  private SigningKeys() {}

  /** Generates a fresh key pair on {@code curve} from the JDK's default {@link SecureRandom}. */
  public static KeyPair generate(EcCurve curve) {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec(curve.jdkName()), new SecureRandom());
      return g.generateKeyPair();
    } catch (NoSuchAlgorithmException | InvalidAlgorithmParameterException e) {
      throw new IllegalStateException("the JDK cannot generate " + curve.displayName() + " keys", e);
    }
  }

  /**
   * The canonical SubjectPublicKeyInfo PEM text of {@code key} (named curve, uncompressed point,
   * 64-char base64 lines, each line ending in {@code \n}): the text the model-signing key hint
   * hashes and {@link #writePublicKey} writes.
   *
   * @throws IllegalArgumentException if {@code key} is not an EC key on P-256, P-384 or P-521
   */
  public static String publicKeyPem(PublicKey key) {
    return Pem.encode("PUBLIC KEY", canonicalSpki(key));
  }

  /**
   * The key hint of the model-signing format: lowercase hex SHA-256 of {@link #publicKeyPem}.
   *
   * @throws IllegalArgumentException if {@code key} is not an EC key on a supported curve
   */
  public static String hint(PublicKey key) {
    return HexFormat.of().formatHex(Sha256.of(publicKeyPem(key).getBytes(StandardCharsets.US_ASCII)));
  }

  /** Whether two public keys are the same point on the same curve (compares canonical encodings). */
  static boolean sameKey(PublicKey a, PublicKey b) {
    return Arrays.equals(canonicalSpki(a), canonicalSpki(b));
  }

  /** DER SubjectPublicKeyInfo with a named curve, however the key object was built. */
  static byte[] canonicalSpki(PublicKey key) {
    EcCurve curve = curveOf(key);
    try {
      ECPublicKey ec = (ECPublicKey) key;
      return KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(ec.getW(), curve.params())).getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("not a valid " + curve.displayName() + " public key", e);
    }
  }

  /** The key's curve. */
  static EcCurve curveOf(PublicKey key) {
    return EcCurve.of(key).orElseThrow(() -> new IllegalArgumentException(
        "only EC keys on P-256, P-384 or P-521 are supported, not " + describe(key)));
  }

  private static String describe(PublicKey key) {
    return key == null ? "no key" : "a " + key.getAlgorithm() + " key";
  }

  /**
   * Reads the key to pin from a PEM file: the first {@code PUBLIC KEY} block, or else the key of
   * the first {@code CERTIFICATE} block.
   *
   * @throws IOException if the file cannot be read
   * @throws IntegrityException naming the file and the problem: no such block, not base64, not an
   *     EC key on a supported curve
   */
  public static PublicKey readPublicKey(Path file) throws IOException, IntegrityException {
    return parsePublicKey(readText(file), file.toString());
  }

  /**
   * Parses a public key from PEM text as {@link #readPublicKey} does; {@code source} names the
   * text in messages.
   *
   * @throws IntegrityException naming {@code source} and the problem
   */
  public static PublicKey parsePublicKey(String pemText, String source) throws IntegrityException {
    List<Pem.Block> blocks = blocks(pemText, source);
    for (Pem.Block b : blocks) {
      if (b.label().equals("PUBLIC KEY")) {
        return checkedPublicKey(spkiKey(b.der(), source), source);
      }
    }
    for (Pem.Block b : blocks) {
      if (b.label().equals("CERTIFICATE")) {
        return checkedPublicKey(certificate(b.der(), source).getPublicKey(), source);
      }
    }
    throw new IntegrityException(source + ": no PEM PUBLIC KEY or CERTIFICATE block");
  }

  /** Parses a DER X.509 certificate; {@code source} names it in messages. */
  static X509Certificate certificate(byte[] der, String source) throws IntegrityException {
    try {
      return (X509Certificate) CertificateFactory.getInstance("X.509")
          .generateCertificate(new ByteArrayInputStream(der));
    } catch (CertificateException | ClassCastException e) {
      throw new IntegrityException(source + ": not a valid X.509 certificate (" + e.getMessage() + ")");
    }
  }

  private static PublicKey spkiKey(byte[] der, String source) throws IntegrityException {
    try {
      return KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(der));
    } catch (GeneralSecurityException e) {
      throw new IntegrityException(source + ": the PUBLIC KEY block is not an EC public key"
          + " (only ECDSA P-256, P-384 and P-521 keys are supported)");
    }
  }

  private static PublicKey checkedPublicKey(PublicKey key, String source) throws IntegrityException {
    if (EcCurve.of(key).isEmpty()) {
      throw new IntegrityException(source + ": " + describe(key)
          + " is not supported (only ECDSA P-256, P-384 and P-521 keys)");
    }
    return key;
  }

  /**
   * Reads a private key from a PEM file ({@code PRIVATE KEY} PKCS#8 or {@code EC PRIVATE KEY}
   * SEC1, unencrypted).
   *
   * @throws IOException if the file cannot be read
   * @throws IntegrityException naming the file and the problem (never the key)
   */
  public static PrivateKey readPrivateKey(Path file) throws IOException, IntegrityException {
    return readKey(file).getPrivate();
  }

  /**
   * Reads a private key and the public key embedded in the same file (OpenSSL, Python's {@code
   * cryptography} and {@link #writePrivateKey} embed it).
   *
   * @throws IOException if the file cannot be read
   * @throws IntegrityException naming the file and the problem, including a file without an
   *     embedded public key
   */
  public static KeyPair readKeyPair(Path file) throws IOException, IntegrityException {
    KeyPair kp = readKey(file);
    if (kp.getPublic() == null) {
      throw new IntegrityException(file + ": the private key file does not embed its public key;"
          + " give the public key file as well");
    }
    return kp;
  }

  /** Private key with the embedded public key, or a null public key when the file has none. */
  private static KeyPair readKey(Path file) throws IOException, IntegrityException {
    String source = file.toString();
    for (Pem.Block b : blocks(readText(file), source)) {
      byte[] der = b.der();
      try {
        switch (b.label()) {
          case "PRIVATE KEY":
            return pkcs8(der, source);
          case "EC PRIVATE KEY":
            return sec1(der, source);
          case "ENCRYPTED PRIVATE KEY":
            throw new IntegrityException(source + ": encrypted private keys are not supported;"
                + " decrypt it first (e.g. openssl pkcs8 -topk8 -nocrypt)");
          default:
            break;
        }
      } finally {
        Arrays.fill(der, (byte) 0);
      }
    }
    throw new IntegrityException(source + ": no PEM PRIVATE KEY or EC PRIVATE KEY block");
  }

  private static KeyPair pkcs8(byte[] der, String source) throws IntegrityException {
    PrivateKey priv;
    Der.Tlv sec1;
    try {
      priv = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
      List<Der.Tlv> top = Der.parse(der).children();
      sec1 = Der.parse(top.get(2).value());
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new IntegrityException(source + ": the PRIVATE KEY block is not an EC private key"
          + " (only ECDSA P-256, P-384 and P-521 keys are supported)");
    }
    EcCurve curve = privateCurve(priv, source);
    return new KeyPair(embeddedPublicKey(sec1, curve, source), priv);
  }

  private static KeyPair sec1(byte[] der, String source) throws IntegrityException {
    EcCurve curve = null;
    Der.Tlv sec1;
    try {
      sec1 = Der.parse(der);
      for (Der.Tlv t : sec1.children()) {
        if (t.tag() == Der.CTX0) {
          byte[] oid = t.children().get(0).encoded();
          for (EcCurve c : EcCurve.values()) {
            if (Arrays.equals(oid, c.oidDer())) {
              curve = c;
            }
          }
        }
      }
    } catch (RuntimeException e) {
      throw new IntegrityException(source + ": the EC PRIVATE KEY block is not valid DER");
    }
    if (curve == null) {
      throw new IntegrityException(source + ": the EC PRIVATE KEY block names no supported curve"
          + " (P-256, P-384 or P-521)");
    }
    byte[] pkcs8 = Der.tlv(Der.SEQUENCE, Der.smallInt(0),
        Der.tlv(Der.SEQUENCE, Der.EC_PUBLIC_KEY_OID, curve.oidDer()), Der.tlv(Der.OCTET_STRING, der));
    try {
      PrivateKey priv = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
      privateCurve(priv, source);
      return new KeyPair(embeddedPublicKey(sec1, curve, source), priv);
    } catch (GeneralSecurityException e) {
      throw new IntegrityException(source + ": the EC PRIVATE KEY block is not a valid "
          + curve.displayName() + " private key");
    } finally {
      Arrays.fill(pkcs8, (byte) 0);
    }
  }

  private static EcCurve privateCurve(PrivateKey priv, String source) throws IntegrityException {
    if (!(priv instanceof ECPrivateKey ec) || EcCurve.of(ec.getParams()).isEmpty()) {
      throw new IntegrityException(source + ": only ECDSA P-256, P-384 and P-521 private keys are supported");
    }
    return EcCurve.of(ec.getParams()).get();
  }

  /** The {@code [1] publicKey} of a SEC1 ECPrivateKey, or null when absent. */
  private static PublicKey embeddedPublicKey(Der.Tlv sec1, EcCurve curve, String source) throws IntegrityException {
    for (Der.Tlv t : sec1.children()) {
      if (t.tag() == Der.CTX1) {
        try {
          Der.Tlv bits = t.children().get(0);
          byte[] spki = Der.tlv(Der.SEQUENCE,
              Der.tlv(Der.SEQUENCE, Der.EC_PUBLIC_KEY_OID, curve.oidDer()), bits.encoded());
          return KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(spki));
        } catch (GeneralSecurityException | RuntimeException e) {
          throw new IntegrityException(source + ": the public key embedded in the private key file is not a valid "
              + curve.displayName() + " point");
        }
      }
    }
    return null;
  }

  /**
   * Whether {@code priv} and {@code pub} form a pair: signs a fresh random challenge with one and
   * verifies it with the other.
   */
  public static boolean matches(PrivateKey priv, PublicKey pub) {
    EcCurve curve = EcCurve.of(pub).orElse(null);
    if (curve == null || !(priv instanceof ECPrivateKey ec) || EcCurve.of(ec.getParams()).orElse(null) != curve) {
      return false;
    }
    try {
      byte[] challenge = new byte[32];
      new SecureRandom().nextBytes(challenge);
      Signature s = Signature.getInstance(curve.signatureAlgorithm());
      s.initSign(priv);
      s.update(challenge);
      byte[] sig = s.sign();
      Signature v = Signature.getInstance(curve.signatureAlgorithm());
      v.initVerify(pub);
      v.update(challenge);
      return v.verify(sig);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  /**
   * Writes {@code pair}'s private key as PKCS#8 PEM with the public key embedded, atomically (a
   * temporary file in the same directory, created with mode 0600, synced, then renamed over
   * {@code file}), so no reader ever sees a partial key or a wider mode.
   *
   * @throws IOException if the file system refuses, including one without POSIX permissions
   * @throws IllegalArgumentException if the pair is not an EC pair on a supported curve
   */
  public static void writePrivateKey(Path file, KeyPair pair) throws IOException {
    if (!(pair.getPrivate() instanceof ECPrivateKey priv)) {
      throw new IllegalArgumentException("only EC private keys can be written");
    }
    EcCurve curve = curveOf(pair.getPublic());
    if (EcCurve.of(priv.getParams()).orElse(null) != curve) {
      throw new IllegalArgumentException("the private and public key are on different curves");
    }
    byte[] scalar = fixedLength(priv.getS().toByteArray(), curve.fieldBytes());
    byte[] point = Der.parse(canonicalSpki(pair.getPublic())).children().get(1).encoded();
    byte[] sec1 = Der.tlv(Der.SEQUENCE, Der.smallInt(1), Der.tlv(Der.OCTET_STRING, scalar), Der.tlv(Der.CTX1, point));
    byte[] pkcs8 = Der.tlv(Der.SEQUENCE, Der.smallInt(0),
        Der.tlv(Der.SEQUENCE, Der.EC_PUBLIC_KEY_OID, curve.oidDer()), Der.tlv(Der.OCTET_STRING, sec1));
    byte[] pem = pemBytes("PRIVATE KEY", pkcs8);
    try {
      writeAtomically(file, pem, PRIVATE);
    } finally {
      Arrays.fill(scalar, (byte) 0);
      Arrays.fill(sec1, (byte) 0);
      Arrays.fill(pkcs8, (byte) 0);
      Arrays.fill(pem, (byte) 0);
    }
  }

  /**
   * Writes {@link #publicKeyPem} of {@code key} atomically with mode 0644.
   *
   * @throws IOException if the file system refuses
   */
  public static void writePublicKey(Path file, PublicKey key) throws IOException {
    writeAtomically(file, publicKeyPem(key).getBytes(StandardCharsets.US_ASCII), PUBLIC);
  }

  /** Writes a file atomically: temporary sibling with {@code perms}, fsync, rename over the target. */
  static void writeAtomically(Path file, byte[] content, Set<PosixFilePermission> perms) throws IOException {
    Path abs = file.toAbsolutePath();
    Path dir = abs.getParent();
    Path tmp = Files.createTempFile(dir, "." + abs.getFileName() + ".", ".tmp",
        PosixFilePermissions.asFileAttribute(PRIVATE));
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
        ByteBuffer b = ByteBuffer.wrap(content);
        while (b.hasRemaining()) {
          ch.write(b);
        }
        ch.force(true);
      }
      Files.setPosixFilePermissions(tmp, perms);
      Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
  }

  /** PEM as bytes, built without an intermediate String so the caller can zero it. */
  private static byte[] pemBytes(String label, byte[] der) {
    byte[] body = Base64.getMimeEncoder(64, new byte[] {'\n'}).encode(der);
    byte[] head = ("-----BEGIN " + label + "-----\n").getBytes(StandardCharsets.US_ASCII);
    byte[] tail = ("\n-----END " + label + "-----\n").getBytes(StandardCharsets.US_ASCII);
    byte[] out = new byte[head.length + body.length + tail.length];
    System.arraycopy(head, 0, out, 0, head.length);
    System.arraycopy(body, 0, out, head.length, body.length);
    System.arraycopy(tail, 0, out, head.length + body.length, tail.length);
    Arrays.fill(body, (byte) 0);
    return out;
  }

  /** Big-endian unsigned {@code v} padded or stripped to exactly {@code len} bytes. */
  private static byte[] fixedLength(byte[] v, int len) {
    byte[] out = new byte[len];
    int copy = Math.min(v.length, len);
    System.arraycopy(v, v.length - copy, out, len - copy, copy);
    Arrays.fill(v, (byte) 0);
    return out;
  }

  private static List<Pem.Block> blocks(String text, String source) throws IntegrityException {
    try {
      return Pem.decode(text);
    } catch (IllegalArgumentException e) {
      throw new IntegrityException(source + ": " + e.getMessage());
    }
  }

  private static String readText(Path file) throws IOException, IntegrityException {
    long size = Files.size(file);
    if (size > MAX_KEY_FILE) {
      throw new IntegrityException(file + ": " + size + " bytes is too large for a key file (at most "
          + MAX_KEY_FILE + ")");
    }
    byte[] bytes = Files.readAllBytes(file);
    try {
      return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw new IntegrityException(file + ": not a PEM text file (invalid UTF-8)");
    } finally {
      Arrays.fill(bytes, (byte) 0);
    }
  }
}
