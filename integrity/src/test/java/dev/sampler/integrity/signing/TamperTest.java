package dev.sampler.integrity.signing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tampered variants of the upstream v1.1.0 fixture (and of the shipped demo model), each built in a
 * temporary copy: every one is refused with a message naming what was changed.
 */
class TamperTest {

  private static final String FIXTURE = "v1.1.0-elliptic-key";
  private static final String PINNED = "e8450dec4eb9...";

  private static byte[] fixtureBundle() throws Exception {
    return Files.readAllBytes(Fixtures.dir(FIXTURE).resolve("model.sig"));
  }

  private static String message(Executable e) {
    return assertThrows(SignatureVerificationException.class, e).getMessage();
  }

  private static void assertContains(String message, String fragment) {
    assertTrue(message.contains(fragment), "expected \"" + fragment + "\" in: " + message);
  }

  /** A copy of the fixture model, and its verified manifest. */
  private static VerifiedManifest copyFixture(Path model) throws Exception {
    Fixtures.copy(Fixtures.dir(FIXTURE), model);
    return ModelSignature.verify(model.resolve("model.sig"), Fixtures.publicKey());
  }

  // ----- the model on disk

  @Test
  void verifyDirectory_flippedByte_failsNamingTheFile(@TempDir Path tmp) throws Exception {
    Path model = tmp.resolve("m");
    VerifiedManifest m = copyFixture(model);
    byte[] b = Files.readAllBytes(model.resolve("signme-1"));
    b[3] ^= 1;
    Files.write(model.resolve("signme-1"), b);
    ModelMismatchException e = assertThrows(ModelMismatchException.class,
        () -> m.verifyDirectory(model, VerifyOptions.defaults()));
    assertContains(e.getMessage(), "the model does not match model.sig: 1 file differs: 'signme-1' (signed bc9a717db606...,"
        + " found ");
    assertEquals(List.of("signme-1"), e.mismatched());
  }

  @Test
  void verifyDirectory_extraFile_failsNamingIt(@TempDir Path tmp) throws Exception {
    Path model = tmp.resolve("m");
    VerifiedManifest m = copyFixture(model);
    Files.createDirectories(model.resolve("sub"));
    Files.writeString(model.resolve("sub/extra.json"), "{}");
    assertContains(message(() -> m.verifyDirectory(model, VerifyOptions.defaults())),
        "the model does not match model.sig: 1 file not in the signature: 'sub/extra.json'");
  }

  @Test
  void verifyDirectory_missingFile_failsNamingIt(@TempDir Path tmp) throws Exception {
    Path model = tmp.resolve("m");
    VerifiedManifest m = copyFixture(model);
    Files.delete(model.resolve("signme-2"));
    assertContains(message(() -> m.verifyDirectory(model, VerifyOptions.defaults())),
        "the model does not match model.sig: 1 file signed but missing: 'signme-2'");
  }

  @Test
  void verifyDirectory_renamedFile_failsNamingBothNames(@TempDir Path tmp) throws Exception {
    Path model = tmp.resolve("m");
    VerifiedManifest m = copyFixture(model);
    Files.move(model.resolve("signme-2"), model.resolve("signme-3"));
    assertContains(message(() -> m.verifyDirectory(model, VerifyOptions.defaults())),
        "1 file not in the signature: 'signme-3'; 1 file signed but missing: 'signme-2'");
  }

  @Test
  void verifyDirectory_manyExtraFiles_listsTenAndCountsTheRest(@TempDir Path tmp) throws Exception {
    Path model = tmp.resolve("m");
    VerifiedManifest m = copyFixture(model);
    for (int i = 10; i < 25; i++) {
      Files.writeString(model.resolve("x" + i), "x");
    }
    assertContains(message(() -> m.verifyDirectory(model, VerifyOptions.defaults())),
        "15 files not in the signature: 'x10', 'x11', 'x12', 'x13', 'x14', 'x15', 'x16', 'x17', 'x18', 'x19'"
            + " and 5 more");
  }

  @Test
  void verifyDirectory_symlinkPresent_fails(@TempDir Path tmp) throws Exception {
    Path model = tmp.resolve("m");
    VerifiedManifest m = copyFixture(model);
    Files.createSymbolicLink(model.resolve("link"), model.resolve("signme-1").toAbsolutePath());
    assertEquals(model + ": 'link' is a symbolic link, and symbolic links are not allowed"
        + " (serialization.allow_symlinks is false)", message(() -> m.verifyDirectory(model, VerifyOptions.defaults())));
  }

  @Test
  void verifyDirectory_socketPresent_fails(@TempDir Path tmp) throws Exception {
    Path model = tmp.resolve("m");
    VerifiedManifest m = copyFixture(model);
    try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      s.bind(UnixDomainSocketAddress.of(model.resolve("sock")));
      assertEquals(model + ": 'sock' is not a regular file or directory (a socket, pipe or device)",
          message(() -> m.verifyDirectory(model, VerifyOptions.defaults())));
    }
  }

  @Test
  void verifyDirectory_demoModelUnsignedConfigChange_failsNamingConfig(@TempDir Path tmp) throws Exception {
    Path demo = Fixtures.copy(Fixtures.DEMO, tmp.resolve("demo"));
    PublicKey pinned = SigningKeys.readPublicKey(Fixtures.DEMO.resolve("signer.pub.pem"));
    VerifiedManifest m = ModelSignature.verify(demo.resolve("model.sig"), pinned);
    m.verifyDirectory(demo, VerifyOptions.defaults());
    String config = Files.readString(demo.resolve("scheduler_config.json"));
    Files.writeString(demo.resolve("scheduler_config.json"), config.replaceFirst("\"num_train_timesteps\": *1000",
        "\"num_train_timesteps\": 999"));
    assertContains(message(() -> m.verifyDirectory(demo, VerifyOptions.defaults())),
        "the model does not match model.sig: 1 file differs: 'scheduler_config.json'");
  }

  @Test
  void verifyDirectory_shippedDemoModel_passes() throws Exception {
    PublicKey pinned = SigningKeys.readPublicKey(Fixtures.DEMO.resolve("signer.pub.pem"));
    VerifiedManifest m = ModelSignature.verify(Fixtures.DEMO.resolve("model.sig"), pinned);
    m.verifyDirectory(Fixtures.DEMO, VerifyOptions.defaults());
    assertTrue(m.files().containsAll(List.of("config.json", "diffusion_pytorch_model.safetensors",
        "scheduler_config.json", "classes.json")), m.files().toString());
  }

  // ----- the bundle

  @Test
  void verify_editedPayload_failsSignatureCheck() throws Exception {
    byte[] bundle = fixtureBundle();
    String statement = Fixtures.payload(bundle).replace("bc9a717db6064a32", "bc9a717db6064a33");
    assertEquals("model.sig: dsseEnvelope.signatures[0].sig does not verify against the pinned key " + PINNED
        + " (ECDSA P-384 with SHA-384 over the DSSE v1 PAE of the payload)",
        message(() -> ModelSignature.verify(Fixtures.withPayload(bundle, statement), Fixtures.publicKey())));
  }

  @Test
  void verify_editedSignature_failsSignatureCheck() throws Exception {
    byte[] bundle = Fixtures.editBundle(fixtureBundle(), b -> {
      ObjectNode sig = (ObjectNode) b.get("dsseEnvelope").get("signatures").get(0);
      byte[] s = Base64.getDecoder().decode(sig.get("sig").asText());
      s[s.length - 5] ^= 0x01; // inside s: still DER, no longer valid
      sig.put("sig", Base64.getEncoder().encodeToString(s));
      return b;
    });
    assertContains(message(() -> ModelSignature.verify(bundle, Fixtures.publicKey())),
        "model.sig: dsseEnvelope.signatures[0].sig does not verify against the pinned key " + PINNED);
  }

  @Test
  void verify_wrongPinnedKey_failsOnHint() throws Exception {
    PublicKey other = SigningKeys.generate(EcCurve.P384).getPublic();
    assertEquals("model.sig: verificationMaterial.publicKey.hint " + PINNED + " does not match the pinned key "
        + ModelSigner.abbreviate(SigningKeys.hint(other)) + " (SHA-256 of its SPKI PEM)",
        message(() -> ModelSignature.verify(fixtureBundle(), other)));
  }

  @Test
  void verify_hintMismatch_failsNamingBothHints() throws Exception {
    byte[] bundle = Fixtures.editBundle(fixtureBundle(), b -> {
      ((ObjectNode) b.get("verificationMaterial").get("publicKey")).put("hint", "3fa1" + "0".repeat(60));
      return b;
    });
    assertEquals("model.sig: verificationMaterial.publicKey.hint 3fa100000000... does not match the pinned key "
        + PINNED + " (SHA-256 of its SPKI PEM)", message(() -> ModelSignature.verify(bundle, Fixtures.publicKey())));
  }

  @Test
  void verify_wrongPayloadType_fails() throws Exception {
    byte[] bundle = Fixtures.editBundle(fixtureBundle(), b -> {
      ((ObjectNode) b.get("dsseEnvelope")).put("payloadType", "application/json");
      return b;
    });
    assertEquals("model.sig: dsseEnvelope.payloadType 'application/json' is not application/vnd.in-toto+json",
        message(() -> ModelSignature.verify(bundle, Fixtures.publicKey())));
  }

  @Test
  void verify_wrongMediaType_fails() throws Exception {
    byte[] bundle = Fixtures.editBundle(fixtureBundle(), b -> b.put("mediaType",
        "application/vnd.dev.sigstore.bundle+json;version=0.2"));
    assertEquals("model.sig: mediaType 'application/vnd.dev.sigstore.bundle+json;version=0.2' is not"
        + " application/vnd.dev.sigstore.bundle.v0.3+json", message(() -> ModelSignature.verify(bundle, Fixtures.publicKey())));
  }

  @Test
  void verify_legacyRawBytesOfAnotherKey_fails() throws Exception {
    byte[] sig = Files.readAllBytes(Fixtures.dir("v1.0.1-elliptic-key").resolve("model.sig"));
    PublicKey other = SigningKeys.generate(EcCurve.P384).getPublic();
    byte[] bundle = Fixtures.editBundle(sig, b -> {
      ((ObjectNode) b.get("verificationMaterial").get("publicKey")).put("rawBytes",
          Base64.getEncoder().encodeToString(SigningKeys.publicKeyPem(other).getBytes(StandardCharsets.US_ASCII)));
      return b;
    });
    assertEquals("model.sig: verificationMaterial.publicKey.rawBytes holds the key "
        + ModelSigner.abbreviate(SigningKeys.hint(other)) + ", not the pinned key " + PINNED,
        message(() -> ModelSignature.verify(bundle, Fixtures.publicKey())));
  }

  @Test
  void verify_certificateChainWithOtherPinnedKey_fails() throws Exception {
    byte[] sig = Files.readAllBytes(Fixtures.dir("v1.1.0-certificate").resolve("model.sig"));
    PublicKey other = SigningKeys.generate(EcCurve.P256).getPublic();
    assertEquals("model.sig: the leaf certificate's key " + PINNED + " is not the pinned key "
        + ModelSigner.abbreviate(SigningKeys.hint(other)), message(() -> ModelSignature.verify(sig, other)));
  }

  @Test
  void verify_notJson_failsWithPosition() {
    assertEquals("model.sig: the bundle is not valid JSON (line 1, column 2)",
        message(() -> ModelSignature.verify("{x".getBytes(StandardCharsets.US_ASCII), Fixtures.publicKey())));
  }

  // ----- the signed statement (re-signed with a test key so the signature holds)

  private static String resign(String statement, KeyPair kp) throws Exception {
    byte[] bundle = ModelSigner.bundle(statement.getBytes(StandardCharsets.UTF_8), kp.getPrivate(), kp.getPublic());
    return message(() -> ModelSignature.verify(bundle, kp.getPublic()));
  }

  @Test
  void verify_signedStatementEdits_failEachWithItsCheck() throws Exception {
    KeyPair kp = SigningKeys.generate(EcCurve.P256);
    String st = Fixtures.payload(fixtureBundle());
    assertEquals("model.sig: statement _type 'https://in-toto.io/Statement/v0.1' is not https://in-toto.io/Statement/v1",
        resign(st.replace("https://in-toto.io/Statement/v1", "https://in-toto.io/Statement/v0.1"), kp));
    assertEquals("model.sig: statement predicateType 'https://model_signing/signature/v0.9' is not"
        + " https://model_signing/signature/v1.0",
        resign(st.replace("https://model_signing/signature/v1.0", "https://model_signing/signature/v0.9"), kp));
    assertContains(resign(st.replace("https://model_signing/signature/v1.0", "https://model_signing/Digests/v0.1"), kp),
        "model.sig: a model_signing v0.2 signature (predicate https://model_signing/Digests/v0.1): per-file subjects"
            + " without a root digest; this format is not accepted");

    ObjectNode two = (ObjectNode) Fixtures.JSON.readTree(st);
    ArrayNode subjects = (ArrayNode) two.get("subject");
    subjects.add(subjects.get(0).deepCopy());
    assertEquals("model.sig: statement has 2 subjects; exactly one is expected", resign(two.toPrettyString(), kp));

    assertEquals("model.sig: subject.digest.sha256 000000000000... does not match the SHA-256 over the resource"
        + " digests 92745110b1ab... (the manifest is inconsistent)",
        resign(st.replace("92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4", "0".repeat(64)), kp));

    // Edits that leave the resource digests, so the root digest, as they were.
    assertEquals("model.sig: resource '../escape' is not a plain relative path (no '..', '.', empty components or"
        + " leading '/')", resignConsistent(st, "\"signme-2\"", "\"../escape\"", kp));
    assertEquals("model.sig: serialization.method 'tensors' is not files or shards",
        resignConsistent(st, "\"method\": \"files\"", "\"method\": \"tensors\"", kp));
    assertEquals("model.sig: resource 'signme-1': algorithm 'blake3' does not match serialization method files"
        + " (expected sha256)", resignConsistent(st, "\"algorithm\": \"sha256\",\n        \"name\": \"signme-1\"",
            "\"algorithm\": \"blake3\",\n        \"name\": \"signme-1\"", kp));
  }

  /** Applies an edit that leaves the resource digests (so the root digest) unchanged, re-signs, verifies. */
  private static String resignConsistent(String st, String from, String to, KeyPair kp) throws Exception {
    assertTrue(st.contains(from), "statement lacks " + from);
    return resign(st.replace(from, to), kp);
  }
}
