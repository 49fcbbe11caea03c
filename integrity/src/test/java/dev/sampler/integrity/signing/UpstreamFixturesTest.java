package dev.sampler.integrity.signing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every upstream model-transparency fixture: the ones a current verifier accepts verify here with
 * the fixture key (signature and model directory), and the legacy v0.2 one is refused.
 */
class UpstreamFixturesTest {

  private static final String SIGNME_1 = "bc9a717db6064a32cbe9eae6fc40651dd6d36ef1757183f590eff2b1765d7ebc";
  private static final String SIGNME_2 = "32dcb1f8e1ae52d5963e56a6ba06ab58b424c15ed2a6b70d2feca1d089370028";

  private static VerifiedManifest verify(String fixture) throws Exception {
    return ModelSignature.verify(Fixtures.dir(fixture).resolve("model.sig"), Fixtures.publicKey());
  }

  @Test
  void fixtureKey_hint_isUpstreamHint() throws Exception {
    assertEquals(Fixtures.HINT, SigningKeys.hint(Fixtures.publicKey()));
    assertEquals(EcCurve.P384, EcCurve.of(Fixtures.publicKey()).orElseThrow());
  }

  @Test
  void verify_v110EllipticKey_acceptsSignatureAndModel() throws Exception {
    VerifiedManifest m = verify("v1.1.0-elliptic-key");
    assertTrue(m.rootDigest().startsWith("92745110b1ab"), m.rootDigest());
    assertEquals("v1.1.0-elliptic-key", m.subjectName());
    assertEquals(List.of("signme-1", "signme-2"), List.copyOf(m.resources().keySet()));
    assertEquals(new ResourceDigest("sha256", SIGNME_1), m.resources().get("signme-1"));
    assertEquals(new ResourceDigest("sha256", SIGNME_2), m.resources().get("signme-2"));
    Serialization s = m.serialization();
    assertEquals(Serialization.Method.FILES, s.method());
    assertEquals(false, s.allowSymlinks());
    assertEquals(List.of(".git", "model.sig", "ignore-me", ".gitattributes", ".gitignore", ".github"), s.ignorePaths());
    assertEquals(List.of(), m.warnings());
    // The recorded ignore_paths cover ignore-me: no caller option needed.
    m.verifyDirectory(Fixtures.dir("v1.1.0-elliptic-key"), VerifyOptions.defaults());
  }

  @Test
  void verify_v101EllipticKey_acceptsWithLegacyKeyWarning() throws Exception {
    VerifiedManifest m = verify("v1.0.1-elliptic-key");
    assertTrue(m.rootDigest().startsWith("92745110b1ab"), m.rootDigest());
    assertEquals(1, m.warnings().size(), m.warnings().toString());
    assertTrue(m.warnings().get(0).contains("legacy verification material (publicKey.rawBytes"), m.warnings().toString());
    assertEquals(List.of(), m.serialization().ignorePaths());
    m.verifyDirectory(Fixtures.dir("v1.0.1-elliptic-key"), VerifyOptions.defaults().withIgnorePaths(List.of("ignore-me")));
  }

  @Test
  void verifyDirectory_v101WithoutCallerIgnore_reportsIgnoreMeAsExtra() throws Exception {
    VerifiedManifest m = verify("v1.0.1-elliptic-key");
    ModelMismatchException e = assertThrows(ModelMismatchException.class,
        () -> m.verifyDirectory(Fixtures.dir("v1.0.1-elliptic-key"), VerifyOptions.defaults()));
    assertTrue(e.getMessage().contains("1 file not in the signature: 'ignore-me'"), e.getMessage());
    assertEquals(List.of("ignore-me"), e.extra());
  }

  @Test
  void verify_singleFileFixtures_acceptResourceDot() throws Exception {
    for (String f : List.of("v1.0.0-elliptic-key", "v0.3.1-elliptic-key")) {
      VerifiedManifest m = verify(f);
      assertTrue(m.rootDigest().startsWith("afa48c8674af"), f + ": " + m.rootDigest());
      assertEquals(List.of("."), List.copyOf(m.resources().keySet()), f);
      assertEquals(new ExpectedDigests.WholeFile(SIGNME_1), m.expectedDigests("."));
      assertEquals(1, m.warnings().size(), f); // rawBytes
      m.verifyDirectory(Fixtures.dir(f).resolve("signme-1"), VerifyOptions.defaults());
    }
  }

  @Test
  void verify_certificateFixtures_acceptLeafWithPinnedKey() throws Exception {
    VerifiedManifest m = verify("v1.1.0-certificate");
    assertTrue(m.rootDigest().startsWith("61d4849d9d90"), m.rootDigest());
    assertEquals(List.of(), m.warnings());
    m.verifyDirectory(Fixtures.dir("v1.1.0-certificate"), VerifyOptions.defaults());
    List<String> failures = new ArrayList<>();
    for (String f : List.of("v1.0.1-certificate", "v1.0.0-certificate", "v0.3.1-certificate")) {
      try {
        verify(f).verifyDirectory(Fixtures.dir(f), VerifyOptions.defaults().withIgnorePaths(List.of("ignore-me")));
      } catch (Exception e) {
        failures.add(f + ": " + e.getMessage());
      }
    }
    assertEquals(List.of(), failures);
  }

  @Test
  void verify_pinnedKeyFromCertificateFile_accepts() throws Exception {
    PublicKey fromCert = SigningKeys.readPublicKey(Fixtures.CERTIFICATE);
    assertEquals(Fixtures.HINT, SigningKeys.hint(fromCert));
    ModelSignature.verify(Fixtures.dir("v1.1.0-certificate").resolve("model.sig"), fromCert)
        .verifyDirectory(Fixtures.dir("v1.1.0-certificate"), VerifyOptions.defaults());
    ModelSignature.verify(Fixtures.dir("v1.1.0-elliptic-key").resolve("model.sig"), fromCert);
  }

  @Test
  void verify_v020Certificate_rejectedAsLegacy() throws Exception {
    SignatureVerificationException e = assertThrows(SignatureVerificationException.class, () -> verify("v0.2.0-certificate"));
    assertEquals("model.sig: a model_signing v0.2 signature (predicate https://model_signing/Digests/v0.1): its"
        + " signature verifies only over the pre-1.0 DSSE encoding (\"DSSEV1\" with the Python repr of the payload,"
        + " SHA-256); this format is not accepted, re-sign the model with model_signing >= 1.0 or bin/sampler sign",
        e.getMessage());
  }

  @Test
  void readKeyPair_fixtureSec1KeyWithPreamble_matchesPublicKey() throws Exception {
    KeyPair kp = SigningKeys.readKeyPair(Fixtures.PRIVATE_KEY);
    assertEquals(Fixtures.HINT, SigningKeys.hint(kp.getPublic()));
    assertTrue(SigningKeys.matches(kp.getPrivate(), Fixtures.publicKey()));
  }

  @Test
  void sign_fixtureModelWithFixtureKey_reproducesUpstreamStatement(@org.junit.jupiter.api.io.TempDir Path tmp)
      throws Exception {
    // Same model, key, ignore paths and signature file as upstream's v1.1.0 fixture: the statement
    // differs only in key order (upstream's comes from a protobuf Struct), so compare parsed.
    Path model = Fixtures.copy(Fixtures.dir("v1.1.0-elliptic-key"), tmp.resolve("v1.1.0-elliptic-key"));
    KeyPair kp = SigningKeys.readKeyPair(Fixtures.PRIVATE_KEY);
    byte[] bundle = ModelSigner.sign(model, kp.getPrivate(), kp.getPublic(), SignOptions.defaults()
        .withIgnorePaths(List.of("ignore-me")).withSignatureFile(model.resolve("model.sig")));
    var ours = Fixtures.JSON.readTree(Fixtures.payload(bundle));
    var theirs = Fixtures.JSON.readTree(Fixtures.payload(java.nio.file.Files.readAllBytes(model.resolve("model.sig"))));
    assertEquals(theirs.get("subject"), ours.get("subject"));
    assertEquals(theirs.get("predicate").get("resources"), ours.get("predicate").get("resources"));
    assertEquals(
        List.of(".git", ".gitattributes", ".github", ".gitignore", "ignore-me", "model.sig"),
        ModelSignature.verify(bundle, kp.getPublic()).serialization().ignorePaths());
    ModelSignature.verify(bundle, Fixtures.publicKey()).verifyDirectory(model, VerifyOptions.defaults());
  }
}
