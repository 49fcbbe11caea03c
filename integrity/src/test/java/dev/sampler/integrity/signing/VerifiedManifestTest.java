package dev.sampler.integrity.signing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files verified elsewhere (sealed weights), expected digests, and checks of in-memory content. */
class VerifiedManifestTest {

  private static final byte[] WEIGHTS = new byte[1000];

  static {
    new Random(11).nextBytes(WEIGHTS);
  }

  private static VerifiedManifest signed(Path m, long shardSize) throws Exception {
    Files.createDirectories(m);
    Files.write(m.resolve("w.safetensors"), WEIGHTS);
    Files.writeString(m.resolve("config.json"), "{}");
    KeyPair kp = SigningKeys.generate(EcCurve.P256);
    return ModelSignature.verify(ModelSigner.sign(m, kp.getPrivate(), kp.getPublic(),
        SignOptions.defaults().withShardSize(shardSize)), kp.getPublic());
  }

  /** Replaces the plaintext weights by a stand-in for their ciphertext. */
  private static void seal(Path m) throws Exception {
    Files.delete(m.resolve("w.safetensors"));
    Files.write(m.resolve("w.safetensors.sealed"), new byte[] {1, 2, 3});
  }

  @Test
  void verifyDirectory_sealedWeightsVerifiedElsewhere_passes(@TempDir Path tmp) throws Exception {
    for (long shard : new long[] {0, 256}) {
      Path m = tmp.resolve("m" + shard);
      VerifiedManifest v = signed(m, shard);
      seal(m);
      v.verifyDirectory(m, VerifyOptions.defaults().withVerifiedElsewhere(Set.of("w.safetensors")));
    }
  }

  @Test
  void verifyDirectory_sealedWeightsNotDeclared_failsOnBothNames(@TempDir Path tmp) throws Exception {
    Path m = tmp.resolve("m");
    VerifiedManifest v = signed(m, 0);
    seal(m);
    ModelMismatchException e = assertThrows(ModelMismatchException.class, () -> v.verifyDirectory(m, VerifyOptions.defaults()));
    assertEquals(List.of("w.safetensors.sealed"), e.extra());
    assertEquals(List.of("w.safetensors"), e.missing());
  }

  @Test
  void verifyDirectory_verifiedElsewhereNotInManifest_fails(@TempDir Path tmp) throws Exception {
    Path m = tmp.resolve("m");
    VerifiedManifest v = signed(m, 0);
    SignatureVerificationException e = assertThrows(SignatureVerificationException.class,
        () -> v.verifyDirectory(m, VerifyOptions.defaults().withVerifiedElsewhere(Set.of("other.safetensors"))));
    assertEquals(m + ": 'other.safetensors' is declared verified elsewhere, but model.sig does not list it", e.getMessage());
  }

  @Test
  void verifyDirectory_verifiedElsewhereAbsent_reportedMissing(@TempDir Path tmp) throws Exception {
    Path m = tmp.resolve("m");
    VerifiedManifest v = signed(m, 0);
    Files.delete(m.resolve("w.safetensors"));
    ModelMismatchException e = assertThrows(ModelMismatchException.class,
        () -> v.verifyDirectory(m, VerifyOptions.defaults().withVerifiedElsewhere(Set.of("w.safetensors"))));
    assertTrue(e.getMessage().endsWith("1 file signed but missing: 'w.safetensors'"), e.getMessage());
  }

  @Test
  void verifyDirectory_onlySignedFiles_toleratesUnsignedExtras(@TempDir Path tmp) throws Exception {
    Path m = tmp.resolve("m");
    VerifiedManifest v = signed(m, 0);
    Files.writeString(m.resolve("README.md"), "not signed");
    v.verifyDirectory(m, VerifyOptions.defaults().withOnlySignedFiles(true));
    assertThrows(ModelMismatchException.class, () -> v.verifyDirectory(m, VerifyOptions.defaults()));
  }

  @Test
  void expectedDigests_filesAndShards_describeTheFile(@TempDir Path tmp) throws Exception {
    String whole = HexFormat.of().formatHex(Sha256.of(WEIGHTS));
    assertEquals(new ExpectedDigests.WholeFile(whole), signed(tmp.resolve("a"), 0).expectedDigests("w.safetensors"));
    ExpectedDigests.Sharded s = (ExpectedDigests.Sharded) signed(tmp.resolve("b"), 300).expectedDigests("w.safetensors");
    assertEquals(300, s.shardSize());
    assertEquals(1000, s.size());
    assertEquals(List.of(0L, 300L, 600L, 900L), s.shards().stream().map(ExpectedDigests.Shard::start).toList());
    assertEquals(1000, s.shards().getLast().end());
    SignatureVerificationException e = assertThrows(SignatureVerificationException.class,
        () -> signed(tmp.resolve("c"), 0).expectedDigests("nope"));
    assertEquals("model.sig does not list the file 'nope'", e.getMessage());
  }

  @Test
  void verifyContent_wholeFile_acceptsPlaintextAndNamesMismatch(@TempDir Path tmp) throws Exception {
    VerifiedManifest v = signed(tmp.resolve("m"), 0);
    v.verifyContent("w.safetensors", MemorySegment.ofArray(WEIGHTS.clone()));
    byte[] bad = WEIGHTS.clone();
    bad[500] ^= 1;
    ModelMismatchException e = assertThrows(ModelMismatchException.class,
        () -> v.verifyContent("w.safetensors", MemorySegment.ofArray(bad)));
    assertTrue(e.getMessage().startsWith("'w.safetensors': content does not match model.sig: SHA-256 "), e.getMessage());
  }

  @Test
  void verifyContent_shards_namesTheShardRange(@TempDir Path tmp) throws Exception {
    VerifiedManifest v = signed(tmp.resolve("m"), 128);
    try (Arena shared = Arena.ofShared(); Arena confined = Arena.ofConfined()) {
      for (Arena arena : List.of(shared, confined)) {
        MemorySegment seg = arena.allocate(WEIGHTS.length);
        seg.copyFrom(MemorySegment.ofArray(WEIGHTS));
        v.verifyContent("w.safetensors", seg);
        seg.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 300, (byte) (WEIGHTS[300] ^ 1));
        ModelMismatchException e = assertThrows(ModelMismatchException.class, () -> v.verifyContent("w.safetensors", seg));
        assertTrue(e.getMessage().startsWith("'w.safetensors': content does not match model.sig: shard 256:384"
            + " (bytes [256, 384)) has SHA-256 "), e.getMessage());
        assertEquals(List.of("w.safetensors:256:384"), e.mismatched());
      }
    }
    ModelMismatchException e = assertThrows(ModelMismatchException.class,
        () -> v.verifyContent("w.safetensors", MemorySegment.ofArray(new byte[999])));
    assertEquals("'w.safetensors': content does not match model.sig: 999 bytes, but the signed shards cover 1000",
        e.getMessage());
  }
}
