package dev.sampler.integrity.signing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sampler.integrity.IntegrityException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Key generation and PEM files: what is written reads back, and bad key files are refused precisely. */
class SigningKeysTest {

  @Test
  void writeRead_eachCurve_roundTripsWithEmbeddedPublicKey(@TempDir Path tmp) throws Exception {
    for (EcCurve curve : EcCurve.values()) {
      KeyPair kp = SigningKeys.generate(curve);
      Path priv = tmp.resolve(curve + ".key");
      Path pub = tmp.resolve(curve + ".pub");
      SigningKeys.writePrivateKey(priv, kp);
      SigningKeys.writePublicKey(pub, kp.getPublic());
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(priv)));
      assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(pub)));
      assertTrue(Files.readString(priv).startsWith("-----BEGIN PRIVATE KEY-----\n"));
      assertEquals(SigningKeys.publicKeyPem(kp.getPublic()), Files.readString(pub));
      KeyPair back = SigningKeys.readKeyPair(priv);
      assertArrayEquals(kp.getPublic().getEncoded(), back.getPublic().getEncoded());
      assertTrue(SigningKeys.matches(back.getPrivate(), SigningKeys.readPublicKey(pub)), curve.toString());
      assertEquals(curve, EcCurve.of(back.getPublic()).orElseThrow());
    }
    try (var s = Files.list(tmp)) {
      assertEquals(6, s.count(), "no temporary files left behind");
    }
  }

  @Test
  void publicKeyPem_isCanonicalSpkiPem() {
    String pem = SigningKeys.publicKeyPem(SigningKeys.generate(EcCurve.P384).getPublic());
    assertTrue(pem.matches("-----BEGIN PUBLIC KEY-----\n([A-Za-z0-9+/]{64}\n)*[A-Za-z0-9+/=]{1,64}\n-----END PUBLIC KEY-----\n"),
        pem);
  }

  @Test
  void readPublicKey_badFiles_refusedNamingTheFile(@TempDir Path tmp) throws Exception {
    Path f = tmp.resolve("k.pem");
    Files.writeString(f, "no pem here");
    assertEquals(f + ": no PEM PUBLIC KEY or CERTIFICATE block",
        assertThrows(IntegrityException.class, () -> SigningKeys.readPublicKey(f)).getMessage());
    KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
    rsa.initialize(2048);
    Files.writeString(f, Pem.encode("PUBLIC KEY", rsa.generateKeyPair().getPublic().getEncoded()));
    assertEquals(f + ": the PUBLIC KEY block is not an EC public key (only ECDSA P-256, P-384 and P-521 keys are"
        + " supported)", assertThrows(IntegrityException.class, () -> SigningKeys.readPublicKey(f)).getMessage());
    Files.writeString(f, "-----BEGIN PUBLIC KEY-----\nMFkw\n");
    assertEquals(f + ": PEM block 'PUBLIC KEY' has no matching END line",
        assertThrows(IntegrityException.class, () -> SigningKeys.readPublicKey(f)).getMessage());
  }

  @Test
  void readPrivateKey_encrypted_refused(@TempDir Path tmp) throws Exception {
    Path f = tmp.resolve("k.pem");
    Files.writeString(f, Pem.encode("ENCRYPTED PRIVATE KEY", new byte[] {0x30, 0x00}));
    assertEquals(f + ": encrypted private keys are not supported; decrypt it first (e.g. openssl pkcs8 -topk8 -nocrypt)",
        assertThrows(IntegrityException.class, () -> SigningKeys.readPrivateKey(f)).getMessage());
  }

  @Test
  void readKeyPair_jdkPkcs8WithoutPublicKey_asksForIt(@TempDir Path tmp) throws Exception {
    Path f = tmp.resolve("k.pem");
    KeyPair kp = SigningKeys.generate(EcCurve.P256);
    Files.writeString(f, Pem.encode("PRIVATE KEY", kp.getPrivate().getEncoded())); // the JDK omits the public key
    assertTrue(SigningKeys.matches(SigningKeys.readPrivateKey(f), kp.getPublic()));
    assertEquals(f + ": the private key file does not embed its public key; give the public key file as well",
        assertThrows(IntegrityException.class, () -> SigningKeys.readKeyPair(f)).getMessage());
  }

  @Test
  void curveNamed_acceptsCommonSpellings() {
    assertEquals(EcCurve.P256, EcCurve.named("P-256"));
    assertEquals(EcCurve.P384, EcCurve.named("p384"));
    assertEquals(EcCurve.P521, EcCurve.named("secp521r1"));
    assertEquals("unknown curve 'P-224' (allowed: P-256, P-384, P-521)",
        assertThrows(IllegalArgumentException.class, () -> EcCurve.named("P-224")).getMessage());
  }

  @Test
  void pae_isDsseV1() {
    assertArrayEquals("DSSEv1 28 application/vnd.in-toto+json 2 {}".getBytes(),
        Dsse.pae("application/vnd.in-toto+json", "{}".getBytes()));
    assertEquals("b'a\\'\"b\\n\\xff'", Dsse.pythonBytesRepr(new byte[] {'a', '\'', '"', 'b', '\n', (byte) 0xff}));
    assertEquals("b\"it's\"", Dsse.pythonBytesRepr("it's".getBytes()));
  }
}
