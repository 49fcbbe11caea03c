package dev.sampler.server.auth;

import io.helidon.common.configurable.Resource;
import io.helidon.common.pki.Keys;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** Reads PEM files: certificates, private keys (through Helidon's PEM reader) and EC public keys. */
public final class Pem {
  private Pem() {}

  /**
   * All certificates in {@code file}, in order.
   *
   * @throws IOException if the file cannot be read or holds no certificate
   */
  public static List<X509Certificate> certificates(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      List<X509Certificate> out = new ArrayList<>();
      for (var c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        out.add((X509Certificate) c);
      }
      if (out.isEmpty()) {
        throw new IOException(file + ": no PEM certificate found");
      }
      return out;
    } catch (GeneralSecurityException e) {
      throw new IOException(file + ": not a PEM certificate file: " + e.getMessage(), e);
    }
  }

  /**
   * The unencrypted private key in {@code file} (PKCS#8, PKCS#1 RSA or SEC1 EC PEM).
   *
   * @throws IOException if the file cannot be read or holds no usable key (the message never
   *     contains key material)
   */
  public static PrivateKey privateKey(Path file) throws IOException {
    if (!Files.isReadable(file)) {
      throw new IOException(file + ": not readable");
    }
    try {
      return Keys.builder().pem(p -> p.key(Resource.create(file))).build().privateKey()
          .orElseThrow(() -> new IOException(file + ": no PEM private key found"));
    } catch (RuntimeException e) {
      throw new IOException(file + ": not a readable PEM private key (PKCS#8, PKCS#1 or SEC1, unencrypted)", e);
    }
  }

  /**
   * The EC P-256 public key in {@code file} ({@code BEGIN PUBLIC KEY}, SubjectPublicKeyInfo).
   *
   * @throws IOException if the file cannot be read, is not PEM, or holds another kind of key
   */
  public static ECPublicKey ecP256PublicKey(Path file) throws IOException {
    String text = Files.readString(file, StandardCharsets.US_ASCII);
    int begin = text.indexOf("-----BEGIN PUBLIC KEY-----");
    int end = text.indexOf("-----END PUBLIC KEY-----");
    if (begin < 0 || end < begin) {
      throw new IOException(file + ": expected a PEM public key (-----BEGIN PUBLIC KEY-----)");
    }
    String b64 = text.substring(begin + "-----BEGIN PUBLIC KEY-----".length(), end).replaceAll("\\s", "");
    try {
      var key = KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(b64)));
      ECPublicKey ec = (ECPublicKey) key;
      if (ec.getParams().getCurve().getField().getFieldSize() != 256) {
        throw new IOException(file + ": ES256 needs a P-256 key, got a " + ec.getParams().getCurve().getField()
            .getFieldSize() + "-bit curve");
      }
      return ec;
    } catch (IllegalArgumentException | GeneralSecurityException | ClassCastException e) {
      throw new IOException(file + ": not an EC public key in SubjectPublicKeyInfo PEM", e);
    }
  }
}
