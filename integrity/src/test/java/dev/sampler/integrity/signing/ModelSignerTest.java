package dev.sampler.integrity.signing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sampler.integrity.IntegrityException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sign, then verify: files and shards, every curve, empty files, nested directories, single files. */
class ModelSignerTest {

  /** A model with nested directories, an empty file, a dotfile and a file spanning several shards. */
  private static Path model(Path tmp) throws Exception {
    Path m = Files.createDirectories(tmp.resolve("model"));
    Files.createDirectories(m.resolve("a/b/c"));
    Files.writeString(m.resolve("config.json"), "{\"x\": 1}\n");
    Files.write(m.resolve("a/empty"), new byte[0]);
    Files.writeString(m.resolve("a/b/c/deep.txt"), "deep");
    Files.writeString(m.resolve(".hidden"), "dotfiles are part of the model");
    byte[] w = new byte[100];
    new Random(7).nextBytes(w);
    Files.write(m.resolve("weights.bin"), w);
    Files.createDirectories(m.resolve(".git"));
    Files.writeString(m.resolve(".git/HEAD"), "ref: refs/heads/main\n");
    return m;
  }

  @Test
  void sign_filesMethodEachCurve_verifies(@TempDir Path tmp) throws Exception {
    Path m = model(tmp);
    for (EcCurve curve : EcCurve.values()) {
      KeyPair kp = SigningKeys.generate(curve);
      byte[] bundle = ModelSigner.sign(m, kp.getPrivate(), kp.getPublic(),
          SignOptions.defaults().withSignatureFile(m.resolve("model.sig")));
      Files.write(m.resolve("model.sig"), bundle);
      VerifiedManifest v = ModelSignature.verify(m.resolve("model.sig"), kp.getPublic());
      assertEquals(List.of(".hidden", "a/b/c/deep.txt", "a/empty", "config.json", "weights.bin"),
          List.copyOf(v.resources().keySet()), curve.toString());
      assertEquals("model", v.subjectName());
      assertEquals(List.of(".git", ".gitattributes", ".github", ".gitignore", "model.sig"),
          v.serialization().ignorePaths());
      v.verifyDirectory(m, VerifyOptions.defaults());
    }
  }

  @Test
  void sign_shardsMethod_verifiesAndNamesShards(@TempDir Path tmp) throws Exception {
    Path m = model(tmp);
    KeyPair kp = SigningKeys.generate(EcCurve.P256);
    byte[] bundle = ModelSigner.sign(m, kp.getPrivate(), kp.getPublic(), SignOptions.defaults().withShardSize(32));
    VerifiedManifest v = ModelSignature.verify(bundle, kp.getPublic());
    assertEquals(Serialization.Method.SHARDS, v.serialization().method());
    assertEquals(32, v.serialization().shardSize());
    assertEquals(List.of(".hidden:0:30", "a/b/c/deep.txt:0:4", "config.json:0:9", "weights.bin:0:32",
        "weights.bin:32:64", "weights.bin:64:96", "weights.bin:96:100"), List.copyOf(v.resources().keySet()));
    assertEquals("sha256-sharded-32", v.resources().get("weights.bin:0:32").algorithm());
    v.verifyDirectory(m, VerifyOptions.defaults());
    // The statement records shard_size as upstream does (a protobuf double).
    assertTrue(Fixtures.payload(bundle).contains("\"shard_size\": 32.0"), Fixtures.payload(bundle));
  }

  @Test
  void sign_bundle_hasUpstreamShape(@TempDir Path tmp) throws Exception {
    Path m = model(tmp);
    KeyPair kp = SigningKeys.generate(EcCurve.P256);
    byte[] bundle = ModelSigner.sign(m, kp.getPrivate(), kp.getPublic(), SignOptions.defaults());
    String text = new String(bundle, StandardCharsets.UTF_8);
    assertTrue(text.startsWith("{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\","
        + "\"verificationMaterial\":{\"publicKey\":{\"hint\":\"" + SigningKeys.hint(kp.getPublic())
        + "\"},\"tlogEntries\":[]},\"dsseEnvelope\":{\"payload\":\""), text);
    JsonNode env = Fixtures.JSON.readTree(bundle).get("dsseEnvelope");
    assertEquals("application/vnd.in-toto+json", env.get("payloadType").asText());
    assertEquals("", env.get("signatures").get(0).get("keyid").asText());
    assertTrue(text.endsWith("\"}]}}"), text);
  }

  @Test
  void sign_singleFileModel_namesItDot(@TempDir Path tmp) throws Exception {
    Path f = tmp.resolve("weights.bin");
    Files.writeString(f, "one file");
    KeyPair kp = SigningKeys.generate(EcCurve.P384);
    VerifiedManifest v = ModelSignature.verify(
        ModelSigner.sign(f, kp.getPrivate(), kp.getPublic(), SignOptions.defaults()), kp.getPublic());
    assertEquals(List.of("."), List.copyOf(v.resources().keySet()));
    assertEquals("weights.bin", v.subjectName());
    v.verifyDirectory(f, VerifyOptions.defaults());
  }

  @Test
  void sign_emptyModel_rootDigestOfNothing(@TempDir Path tmp) throws Exception {
    Path m = Files.createDirectories(tmp.resolve("empty"));
    KeyPair kp = SigningKeys.generate(EcCurve.P256);
    VerifiedManifest v = ModelSignature.verify(
        ModelSigner.sign(m, kp.getPrivate(), kp.getPublic(), SignOptions.defaults()), kp.getPublic());
    assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", v.rootDigest());
    v.verifyDirectory(m, VerifyOptions.defaults());
  }

  @Test
  void sign_ignorePaths_leftOutAndRecorded(@TempDir Path tmp) throws Exception {
    Path m = model(tmp);
    KeyPair kp = SigningKeys.generate(EcCurve.P256);
    VerifiedManifest v = ModelSignature.verify(ModelSigner.sign(m, kp.getPrivate(), kp.getPublic(),
        SignOptions.defaults().withIgnorePaths(List.of("./a/b/", "weights.bin"))), kp.getPublic());
    assertEquals(List.of(".hidden", "a/empty", "config.json"), List.copyOf(v.resources().keySet()));
    assertEquals(List.of(".git", ".gitattributes", ".github", ".gitignore", "a/b", "weights.bin"),
        v.serialization().ignorePaths());
    Files.writeString(m.resolve("weights.bin"), "changed, but ignored as recorded");
    v.verifyDirectory(m, VerifyOptions.defaults());
  }

  @Test
  void sign_symlinkWithoutAllow_failsNamingIt(@TempDir Path tmp) throws Exception {
    Path m = model(tmp);
    Files.createSymbolicLink(m.resolve("link"), m.resolve("config.json").toAbsolutePath());
    KeyPair kp = SigningKeys.generate(EcCurve.P256);
    IntegrityException e = assertThrows(IntegrityException.class,
        () -> ModelSigner.sign(m, kp.getPrivate(), kp.getPublic(), SignOptions.defaults()));
    assertEquals(m + ": cannot sign: 'link' is a symbolic link, and symbolic links are not allowed"
        + " (serialization.allow_symlinks is false)", e.getMessage());
  }

  @Test
  void sign_mismatchedKeyPair_refused(@TempDir Path tmp) throws Exception {
    Path m = model(tmp);
    KeyPair a = SigningKeys.generate(EcCurve.P256);
    KeyPair b = SigningKeys.generate(EcCurve.P256);
    IntegrityException e = assertThrows(IntegrityException.class,
        () -> ModelSigner.sign(m, a.getPrivate(), b.getPublic(), SignOptions.defaults()));
    assertEquals("the private key does not belong to the public key "
        + ModelSigner.abbreviate(SigningKeys.hint(b.getPublic())), e.getMessage());
  }

  @Test
  void signOptions_badValues_refused() {
    assertThrows(IllegalArgumentException.class, () -> SignOptions.defaults().withShardSize(-1));
    assertThrows(IllegalArgumentException.class, () -> SignOptions.defaults().withShardSize((1L << 53) + 1));
    assertEquals("ignore path '../x' must not contain '..'", assertThrows(IllegalArgumentException.class,
        () -> SignOptions.defaults().withIgnorePaths(List.of("../x"))).getMessage());
    assertEquals("ignore path '.' would ignore the whole model", assertThrows(IllegalArgumentException.class,
        () -> SignOptions.defaults().withIgnorePaths(List.of("."))).getMessage());
  }

  @Test
  void comparePaths_componentWise_likePythonPurePath() {
    // Whole-string order would put "a-b/x" first ('-' < '/'); upstream sorts by components.
    assertTrue(Hashing.comparePaths("a/x", "a-b/x") < 0);
    assertTrue(Hashing.comparePaths("a", "a/b") < 0);
    // Code points, not UTF-16 units: U+1F600 sorts after U+FB01.
    assertTrue(Hashing.comparePaths("\ufb01", "\ud83d\ude00") < 0);
  }
}
