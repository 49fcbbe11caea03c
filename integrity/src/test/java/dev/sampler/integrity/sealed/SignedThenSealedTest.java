package dev.sampler.integrity.sealed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sampler.integrity.IntegrityException;
import dev.sampler.integrity.crypto.NativeCrypto;
import dev.sampler.integrity.signing.EcCurve;
import dev.sampler.integrity.signing.ExpectedDigests;
import dev.sampler.integrity.signing.ModelSignature;
import dev.sampler.integrity.signing.ModelSigner;
import dev.sampler.integrity.signing.SignOptions;
import dev.sampler.integrity.signing.SigningKeys;
import dev.sampler.integrity.signing.VerifiedManifest;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The digests of a verified model-signing manifest, whole-file or sharded, turned into a {@link
 * DigestPlan} as integrity/README.md shows, check the weights while they are unsealed.
 */
class SignedThenSealedTest {
  static final Path DEMO = Path.of("..", "models", "demo");
  static final String WEIGHTS = "diffusion_pytorch_model.safetensors";

  @TempDir Path tmp;

  static DigestPlan plan(VerifiedManifest manifest, String name) throws Exception {
    return switch (manifest.expectedDigests(name)) {
      case ExpectedDigests.WholeFile w -> DigestPlan.wholeFile(w.sha256());
      case ExpectedDigests.Sharded s -> DigestPlan.shards(
          s.shards().stream().map(x -> new DigestPlan.Shard(x.start(), x.end(), x.sha256())).toList());
    };
  }

  @Test
  void unseal_demoWeightsWithTheShippedSignature_wholeFileDigestMatches() throws Exception {
    VerifiedManifest m = ModelSignature.verify(DEMO.resolve("model.sig"),
        SigningKeys.readPublicKey(DEMO.resolve("signer.pub.pem")));
    DigestPlan plan = plan(m, WEIGHTS);
    assertInstanceOf(DigestPlan.WholeFile.class, plan);
    DataKey key = DataKey.generate();
    Path sealed = tmp.resolve(WEIGHTS + SealedFormat.SUFFIX);
    Sealer.seal(DEMO.resolve(WEIGHTS), sealed, key, WEIGHTS, NativeCrypto.require());
    try (UnsealedBytes u = Unsealer.unseal(sealed, key, WEIGHTS, 2, plan)) {
      assertArrayEquals(Files.readAllBytes(DEMO.resolve(WEIGHTS)), u.segment().toArray(ValueLayout.JAVA_BYTE));
    }
    // The manifest's digest of another file does not pass for the weights.
    IntegrityException e = assertThrows(IntegrityException.class,
        () -> Unsealer.unseal(sealed, key, WEIGHTS, 2, plan(m, "example-input.safetensors")));
    assertEquals(sealed + ": plaintext does not match the expected SHA-256 of the whole file (bytes [0, 4684028))",
        e.getMessage());
  }

  @Test
  void unseal_shardedSignature_shardDigestsMatch() throws Exception {
    Path model = Files.createDirectory(tmp.resolve("model"));
    byte[] weights = new byte[3_500_000];
    new SplittableRandom(3).nextBytes(weights);
    Files.write(model.resolve(WEIGHTS), weights);
    KeyPair pair = SigningKeys.generate(EcCurve.P256);
    byte[] bundle = ModelSigner.sign(model, pair.getPrivate(), pair.getPublic(), SignOptions.defaults().withShardSize(1 << 20));
    VerifiedManifest m = ModelSignature.verify(bundle, pair.getPublic());
    DigestPlan plan = plan(m, WEIGHTS);
    assertEquals(4, ((DigestPlan.Sharded) plan).shards().size());
    DataKey key = DataKey.generate();
    Path sealed = tmp.resolve("w.sealed");
    Sealer.seal(model.resolve(WEIGHTS), sealed, key, WEIGHTS, NativeCrypto.require());
    try (UnsealedBytes u = Unsealer.unseal(sealed, key, WEIGHTS, 2, plan)) {
      assertArrayEquals(weights, u.segment().toArray(ValueLayout.JAVA_BYTE));
    }
  }
}
