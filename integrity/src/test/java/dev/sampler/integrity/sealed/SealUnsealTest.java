package dev.sampler.integrity.sealed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sampler.integrity.IntegrityException;
import dev.sampler.integrity.crypto.Crypto;
import dev.sampler.integrity.crypto.CryptoProvider;
import dev.sampler.integrity.crypto.NativeCrypto;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Round trips, every tampering case with its exact message, digest checks, and memory hygiene. */
class SealUnsealTest {
  static final int F = SealedFormat.FIRST_PLAINTEXT_SEGMENT_BYTES;
  static final int P = SealedFormat.PLAINTEXT_SEGMENT_BYTES;
  static final int C = SealedFormat.CIPHERTEXT_SEGMENT_BYTES;
  static final String NAME = "diffusion_pytorch_model.safetensors";
  static final String AUTH = " does not authenticate (tampered, truncated, extended or reordered; or sealed with"
      + " another key or file name)";

  @TempDir Path tmp;
  CryptoProvider crypto;
  DataKey key;

  @BeforeEach
  void setUp() {
    crypto = NativeCrypto.require();
    byte[] k = new byte[32];
    new SplittableRandom(42).nextBytes(k);
    key = DataKey.fromBytes(k);
  }

  static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new SplittableRandom(seed).nextBytes(b);
    return b;
  }

  static String sha256Hex(byte[] data, int from, int to) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    md.update(data, from, to - from);
    return HexFormat.of().formatHex(md.digest());
  }

  Path sealFile(byte[] plain, String sealedName) throws IOException {
    Path in = tmp.resolve(sealedName + ".plain");
    Files.write(in, plain);
    Path out = tmp.resolve(sealedName);
    SealResult r = Sealer.seal(in, out, key, NAME, crypto);
    assertEquals(new SealResult(plain.length, SealedFormat.sealedSize(plain.length),
        SealedFormat.segmentCount(plain.length)), r);
    Files.delete(in);
    return out;
  }

  byte[] unsealed(Path sealed, int threads, DigestPlan plan) throws Exception {
    try (UnsealedBytes u = Unsealer.unseal(sealed, key, NAME, threads, plan, crypto)) {
      assertEquals(NAME, u.fileName());
      return u.segment().toArray(ValueLayout.JAVA_BYTE);
    }
  }

  /** Unseal must fail with exactly {@code message} at 1 and 2 threads, leaving only zeros behind. */
  void assertRejected(Path sealed, DataKey k, String name, DigestPlan plan, String message) {
    for (int threads : new int[] {1, 2}) {
      RecordingArena arena = new RecordingArena();
      IntegrityException e = assertThrows(IntegrityException.class,
          () -> Unsealer.unseal(sealed, k, name, threads, plan, crypto, arena.allocator()), "threads " + threads);
      assertEquals(message, e.getMessage(), "threads " + threads);
      assertTrue(arena.closed || arena.allocated.isEmpty(), "output freed (or never allocated)");
      assertTrue(arena.allZero(), "output zeroed");
    }
  }

  void assertRejected(Path sealed, String message) {
    assertRejected(sealed, key, NAME, DigestPlan.none(), message);
  }

  @Test
  void sealThenUnseal_boundarySizes_roundTripAtOneAndTwoThreads() throws Exception {
    int[] sizes = {0, 1, F - 1, F, F + 1, F + P - 1, F + P, F + P + 1, F + 3 * P + 12_345};
    for (int size : sizes) {
      byte[] plain = random(size, size);
      Path sealed = sealFile(plain, "s" + size + ".sealed");
      long sealedSize = Files.size(sealed);
      assertEquals(SealedFormat.sealedSize(size), sealedSize, "size " + size);
      byte[] one = unsealed(sealed, 1, DigestPlan.none());
      byte[] two = unsealed(sealed, 2, DigestPlan.none());
      assertArrayEquals(plain, one, "1 thread, size " + size);
      assertArrayEquals(one, two, "2 threads, size " + size);
    }
    // The segment boundaries sit where Tink puts them: one full first segment is exactly 1 MiB.
    assertEquals(C, SealedFormat.sealedSize(F));
    assertEquals(1, SealedFormat.segmentCount(F));
    assertEquals(2, SealedFormat.segmentCount(F + 1));
    assertEquals(2L * C, SealedFormat.sealedSize(F + P));
    assertEquals(SealedFormat.MIN_SEALED_BYTES, SealedFormat.sealedSize(0));
  }

  @Test
  void sealTwice_samePlaintext_differentFiles() throws Exception {
    byte[] plain = random(1000, 1);
    byte[] a = Files.readAllBytes(sealFile(plain, "a.sealed"));
    byte[] b = Files.readAllBytes(sealFile(plain, "b.sealed"));
    assertFalse(Arrays.equals(a, b), "fresh salt and nonce prefix per file");
  }

  @Test
  void unseal_moreThreadsThanSegments_roundTrips() throws Exception {
    byte[] plain = random(F + P + 5, 3);
    assertArrayEquals(plain, unsealed(sealFile(plain, "x.sealed"), 8, DigestPlan.none()));
  }

  @Test
  void sealAndUnseal_acrossImplementations_agree() throws Exception {
    byte[] plain = random(F + P / 2, 4);
    Path byOpenSsl = sealFile(plain, "n.sealed");
    try (UnsealedBytes u = Unsealer.unseal(byOpenSsl, key, NAME, 2, DigestPlan.none(), Crypto.jdk())) {
      assertArrayEquals(plain, u.segment().toArray(ValueLayout.JAVA_BYTE));
    }
    Path byJdk = tmp.resolve("j.sealed");
    Sealer.seal(MemorySegment.ofArray(plain), byJdk, key, NAME, Crypto.jdk());
    assertArrayEquals(plain, unsealed(byJdk, 2, DigestPlan.none()));
  }

  // --- tampering: a 4-segment file, segment 3 short ---

  Path fourSegments() throws Exception {
    return sealFile(random(F + 2 * P + 1000, 9), "w.sealed");
  }

  static void flip(Path file, long offset) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(1);
      ch.read(b, offset);
      b.put(0, (byte) (b.get(0) ^ 0x01)).rewind();
      ch.write(b, offset);
    }
  }

  static void truncate(Path file, long size) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.truncate(size);
    }
  }

  static void append(Path file, int bytes) throws IOException {
    Files.write(file, new byte[bytes], StandardOpenOption.APPEND);
  }

  @Test
  void unseal_headerLengthByteFlipped_rejectedAsNotSealed() throws Exception {
    Path f = fourSegments();
    flip(f, 0);
    assertRejected(f, f + ": header length byte is 41, expected 40 (not a sealed AES256_GCM_HKDF_1MB file)");
  }

  @Test
  void unseal_saltByteFlipped_segmentZeroFails() throws Exception {
    Path f = fourSegments();
    flip(f, 5);
    assertRejected(f, f + ": segment 0 of 4" + AUTH);
  }

  @Test
  void unseal_noncePrefixByteFlipped_segmentZeroFails() throws Exception {
    Path f = fourSegments();
    flip(f, SealedFormat.HEADER_BYTES - 1);
    assertRejected(f, f + ": segment 0 of 4" + AUTH);
  }

  @Test
  void unseal_ciphertextByteFlipped_thatSegmentFails() throws Exception {
    Path f = fourSegments();
    flip(f, 2L * C + 1000);
    assertRejected(f, f + ": segment 2 of 4" + AUTH);
  }

  @Test
  void unseal_tagByteFlipped_thatSegmentFails() throws Exception {
    Path f = fourSegments();
    flip(f, 2L * C - 1); // last byte of segment 1's tag
    assertRejected(f, f + ": segment 1 of 4" + AUTH);
  }

  @Test
  void unseal_lastSegmentByteFlipped_lastSegmentFails() throws Exception {
    Path f = fourSegments();
    flip(f, Files.size(f) - 100);
    assertRejected(f, f + ": segment 3 of 4 (the last)" + AUTH);
  }

  @Test
  void unseal_truncatedAtSegmentBoundary_newLastSegmentFails() throws Exception {
    Path f = fourSegments();
    truncate(f, 3L * C);
    assertRejected(f, f + ": segment 2 of 3 (the last)" + AUTH);
  }

  @Test
  void unseal_truncatedInsideLastSegment_lastSegmentFails() throws Exception {
    Path f = fourSegments();
    truncate(f, 3L * C + 500);
    assertRejected(f, f + ": segment 3 of 4 (the last)" + AUTH);
  }

  @Test
  void unseal_truncatedBelowATag_rejectedBySize() throws Exception {
    Path f = fourSegments();
    truncate(f, 3L * C + 10);
    assertRejected(f, f + ": last segment 3 holds 10 bytes, less than its 16-byte tag (truncated or extended)");
  }

  @Test
  void unseal_truncatedBelowHeaderAndTag_rejectedBySize() throws Exception {
    Path f = fourSegments();
    truncate(f, 55);
    assertRejected(f, f + ": 55 bytes is shorter than the smallest sealed file (56 bytes: header and one tag)");
  }

  @Test
  void unseal_bytesAppended_lastSegmentFails() throws Exception {
    Path f = fourSegments();
    append(f, 7);
    assertRejected(f, f + ": segment 3 of 4 (the last)" + AUTH);
  }

  @Test
  void unseal_emptySegmentAppendedAfterFullLastSegment_formerLastSegmentFails() throws Exception {
    Path f = sealFile(random(F + P, 10), "full.sealed");
    assertEquals(2L * C, Files.size(f));
    append(f, 16);
    assertRejected(f, f + ": segment 1 of 3" + AUTH);
  }

  @Test
  void unseal_oneByteAppendedAfterFullLastSegment_rejectedBySize() throws Exception {
    Path f = sealFile(random(F + P, 10), "full.sealed");
    append(f, 1);
    assertRejected(f, f + ": last segment 2 holds 1 bytes, less than its 16-byte tag (truncated or extended)");
  }

  @Test
  void unseal_segmentsSwapped_firstMovedSegmentFails() throws Exception {
    Path f = fourSegments();
    byte[] all = Files.readAllBytes(f);
    byte[] s1 = Arrays.copyOfRange(all, C, 2 * C);
    System.arraycopy(all, 2 * C, all, C, C);
    System.arraycopy(s1, 0, all, 2 * C, C);
    Files.write(f, all);
    assertRejected(f, f + ": segment 1 of 4" + AUTH);
  }

  @Test
  void unseal_wrongKey_segmentZeroFails() throws Exception {
    Path f = fourSegments();
    assertRejected(f, DataKey.generate(), NAME, DigestPlan.none(), f + ": segment 0 of 4" + AUTH);
  }

  @Test
  void unseal_wrongFileName_segmentZeroFails() throws Exception {
    Path f = fourSegments();
    assertRejected(f, key, "config.json", DigestPlan.none(), f + ": segment 0 of 4" + AUTH);
  }

  // --- digests ---

  @Test
  void unseal_wholeFileDigest_matchesAtOneAndTwoThreads() throws Exception {
    byte[] plain = random(F + 2 * P + 1000, 12);
    Path f = sealFile(plain, "d.sealed");
    DigestPlan plan = DigestPlan.wholeFile(sha256Hex(plain, 0, plain.length).toUpperCase());
    assertArrayEquals(plain, unsealed(f, 1, plan));
    assertArrayEquals(plain, unsealed(f, 2, plan));
  }

  @Test
  void unseal_wholeFileDigestMismatch_rejectedAndZeroed() throws Exception {
    byte[] plain = random(F + 2 * P + 1000, 12);
    Path f = sealFile(plain, "d.sealed");
    DigestPlan plan = DigestPlan.wholeFile(sha256Hex(plain, 1, plain.length));
    assertRejected(f, key, NAME, plan, f + ": plaintext does not match the expected SHA-256 of the whole file"
        + " (bytes [0, " + plain.length + "))");
  }

  @Test
  void unseal_shardDigests_matchAtOneAndTwoThreads() throws Exception {
    byte[] plain = random(F + 2 * P + 1000, 13);
    Path f = sealFile(plain, "d.sealed");
    // Uneven shards crossing segment boundaries, with an empty one.
    int[] cuts = {0, 1000, 1000, 2_621_440, plain.length};
    DigestPlan uneven = DigestPlan.shards(shards(plain, cuts));
    assertArrayEquals(plain, unsealed(f, 1, uneven));
    assertArrayEquals(plain, unsealed(f, 2, uneven));
    // Many small shards (several per segment).
    List<Integer> small = new ArrayList<>();
    for (int c = 0; c < plain.length; c += 300_000) {
      small.add(c);
    }
    small.add(plain.length);
    DigestPlan many = DigestPlan.shards(shards(plain, small.stream().mapToInt(Integer::intValue).toArray()));
    assertArrayEquals(plain, unsealed(f, 2, many));
    assertArrayEquals(plain, unsealed(f, 4, many));
  }

  @Test
  void unseal_shardDigestMismatch_rejectedNamingTheShard() throws Exception {
    byte[] plain = random(F + 2 * P + 1000, 14);
    Path f = sealFile(plain, "d.sealed");
    List<DigestPlan.Shard> s = new ArrayList<>(shards(plain, new int[] {0, 1000, 2_621_440, plain.length}));
    s.set(1, new DigestPlan.Shard(1000, 2_621_440, sha256Hex(plain, 999, 2_621_439)));
    assertRejected(f, key, NAME, DigestPlan.shards(s),
        f + ": plaintext bytes [1000, 2621440) (shard 1 of 3) do not match the expected SHA-256");
  }

  @Test
  void unseal_shardsCoverAnotherSize_rejected() throws Exception {
    byte[] plain = random(5000, 15);
    Path f = sealFile(plain, "d.sealed");
    DigestPlan plan = DigestPlan.shards(shards(plain, new int[] {0, 4000}));
    assertRejected(f, key, NAME, plan,
        f + ": the digest plan covers 4000 bytes but the sealed file holds 5000 bytes of plaintext");
  }

  @Test
  void unseal_emptyPlaintext_digestsOfNothingMatch() throws Exception {
    Path f = sealFile(new byte[0], "e.sealed");
    String empty = sha256Hex(new byte[0], 0, 0);
    assertEquals(0, unsealed(f, 2, DigestPlan.wholeFile(empty)).length);
    assertEquals(0, unsealed(f, 1, DigestPlan.shards(List.of(new DigestPlan.Shard(0, 0, empty)))).length);
    assertEquals(0, unsealed(f, 2, DigestPlan.shards(List.of())).length); // model signing lists no shards
    Path one = sealFile(new byte[1], "one.sealed");
    assertRejected(one, key, NAME, DigestPlan.shards(List.of()),
        one + ": the digest plan covers 0 bytes but the sealed file holds 1 bytes of plaintext");
    assertRejected(f, key, NAME, DigestPlan.wholeFile(sha256Hex(new byte[1], 0, 1)),
        f + ": plaintext does not match the expected SHA-256 of the whole file (bytes [0, 0))");
  }

  static List<DigestPlan.Shard> shards(byte[] plain, int[] cuts) throws Exception {
    List<DigestPlan.Shard> s = new ArrayList<>();
    for (int i = 0; i + 1 < cuts.length; i++) {
      s.add(new DigestPlan.Shard(cuts[i], cuts[i + 1], sha256Hex(plain, cuts[i], cuts[i + 1])));
    }
    return s;
  }

  // --- memory and disk hygiene ---

  @Test
  void close_afterUnseal_zeroesThenFreesThePlaintext() throws Exception {
    byte[] plain = random(F + 10, 16);
    Path f = sealFile(plain, "z.sealed");
    RecordingArena arena = new RecordingArena();
    UnsealedBytes u = Unsealer.unseal(f, key, NAME, 2, DigestPlan.none(), crypto, arena.allocator());
    assertArrayEquals(plain, u.segment().toArray(ValueLayout.JAVA_BYTE));
    assertFalse(arena.allZero());
    u.close();
    assertTrue(arena.closed);
    assertTrue(arena.allZero(), "plaintext wiped before the memory was freed");
    IllegalStateException e = assertThrows(IllegalStateException.class, u::segment);
    assertEquals(NAME + ": unsealed bytes are closed", e.getMessage());
    u.close(); // idempotent
  }

  @Test
  void unseal_successOrFailure_writesNothingToDisk() throws Exception {
    byte[] plain = random(F + 2 * P, 17);
    Path f = tmp.resolve("m.sealed");
    Sealer.seal(MemorySegment.ofArray(plain), f, key, NAME, crypto); // no plaintext file ever exists
    TreeMap<String, String> before = snapshot(tmp);
    try (UnsealedBytes u = Unsealer.unseal(f, key, NAME, 2, DigestPlan.wholeFile(sha256Hex(plain, 0, plain.length)), crypto)) {
      assertEquals(plain.length, u.byteSize());
    }
    assertThrows(IntegrityException.class, () -> Unsealer.unseal(f, key, "other", 2));
    assertEquals(before, snapshot(tmp), "the only file is the sealed one, unchanged");
    byte[] probe = Arrays.copyOfRange(plain, 5000, 5064);
    for (byte[] content : contents(tmp)) {
      assertEquals(-1, indexOf(content, probe), "plaintext found on disk");
    }
  }

  static TreeMap<String, String> snapshot(Path dir) throws IOException {
    TreeMap<String, String> m = new TreeMap<>();
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.toList()) {
        BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
        m.put(dir.relativize(p).toString(), a.size() + " " + a.lastModifiedTime() + " " + a.isDirectory());
      }
    }
    return m;
  }

  static List<byte[]> contents(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      List<byte[]> out = new ArrayList<>();
      for (Path p : s.filter(Files::isRegularFile).toList()) {
        out.add(Files.readAllBytes(p));
      }
      return out;
    }
  }

  static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  // --- arguments ---

  @Test
  void seal_outputExists_refusedAndLeftAlone() throws Exception {
    Path out = tmp.resolve("taken.sealed");
    Files.writeString(out, "keep me");
    assertThrows(FileAlreadyExistsException.class,
        () -> Sealer.seal(MemorySegment.ofArray(new byte[10]), out, key, NAME, crypto));
    assertEquals("keep me", Files.readString(out));
  }

  @Test
  void unseal_badArguments_rejected() throws Exception {
    Path f = sealFile(new byte[10], "a.sealed");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Unsealer.unseal(f, key, NAME, 0));
    assertEquals("threads must be >= 1, got 0", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Unsealer.unseal(f, key, "", 1));
    assertEquals("fileName (the associated data) must not be empty", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Unsealer.unseal(f, key, "a\uD800", 1));
    assertEquals("fileName (the associated data) is not valid Unicode (unpaired surrogate)", e.getMessage());
  }

  @Test
  void unseal_destroyedKey_refused() throws Exception {
    Path f = sealFile(new byte[10], "a.sealed");
    DataKey k = DataKey.fromBytes(key.copyBytes(InsecureKeyAccess.get()));
    k.destroy();
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> Unsealer.unseal(f, k, NAME, 1, DigestPlan.none(), crypto));
    assertEquals("data key has been destroyed", e.getMessage());
  }
}
