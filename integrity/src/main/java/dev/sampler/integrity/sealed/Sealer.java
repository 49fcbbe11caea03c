package dev.sampler.integrity.sealed;

import dev.sampler.integrity.crypto.AesGcm;
import dev.sampler.integrity.crypto.Crypto;
import dev.sampler.integrity.crypto.CryptoProvider;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;

/**
 * Writes sealed files ({@link SealedFormat}) from a plaintext file or from memory, streaming in
 * 1 MiB segments with constant memory (two off-heap segment buffers). The output is created new
 * (never overwritten) and deleted again if sealing fails. Each call draws a fresh random salt and
 * nonce prefix, so sealing the same plaintext twice gives different files.
 */
public final class Sealer {
  private Sealer() {}

  /** Most segments the format's 32-bit segment counter allows. */
  private static final long MAX_SEGMENTS = 1L << 32;

  /** Supplies plaintext segment by segment. */
  @FunctionalInterface
  private interface Source {
    /** Fills all of {@code dst} with plaintext starting at {@code offset}. */
    void read(MemorySegment dst, long offset) throws IOException;
  }

  /**
   * Seals {@code plaintext} into {@code out} under {@code key}, with {@code fileName} as associated
   * data, using {@link Crypto#auto()}.
   *
   * @param fileName the plaintext file's name (e.g. {@code "diffusion_pytorch_model.safetensors"});
   *     unsealing must give the same name
   * @throws java.nio.file.FileAlreadyExistsException if {@code out} exists
   * @throws IOException if reading or writing fails, or the plaintext changes size while it is
   *     read
   * @throws IllegalArgumentException if {@code fileName} is empty or not valid Unicode
   */
  public static SealResult seal(Path plaintext, Path out, DataKey key, String fileName) throws IOException {
    return seal(plaintext, out, key, fileName, Crypto.auto());
  }

  /** As {@link #seal(Path, Path, DataKey, String)} with the given crypto implementation. */
  public static SealResult seal(Path plaintext, Path out, DataKey key, String fileName, CryptoProvider crypto)
      throws IOException {
    Objects.requireNonNull(plaintext, "plaintext");
    try (FileChannel in = FileChannel.open(plaintext, StandardOpenOption.READ)) {
      long size = in.size();
      SealResult r = write(size, (dst, offset) -> readFully(in, dst, offset, plaintext), out, key, fileName, crypto);
      // A file that grew while it was read would be sealed truncated without this check.
      if (in.size() != size || in.read(ByteBuffer.allocate(1), size) != -1) {
        Files.deleteIfExists(out);
        throw new IOException(plaintext + ": changed size while it was being sealed");
      }
      return r;
    }
  }

  /** Seals the bytes of {@code plaintext} (on or off heap) into {@code out}; see {@link #seal(Path, Path, DataKey, String)}. */
  public static SealResult seal(MemorySegment plaintext, Path out, DataKey key, String fileName, CryptoProvider crypto)
      throws IOException {
    Objects.requireNonNull(plaintext, "plaintext");
    return write(plaintext.byteSize(), (dst, offset) -> MemorySegment.copy(plaintext, offset, dst, 0, dst.byteSize()),
        out, key, fileName, crypto);
  }

  private static SealResult write(
      long size, Source source, Path out, DataKey key, String fileName, CryptoProvider crypto) throws IOException {
    Objects.requireNonNull(out, "out");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(crypto, "crypto");
    byte[] aad = AssociatedData.of(fileName);
    long segments = SealedFormat.segmentCount(size);
    if (segments > MAX_SEGMENTS) {
      throw new IOException("plaintext of " + size + " bytes needs " + segments + " segments, more than the format's 2^32");
    }
    SecureRandom random = new SecureRandom();
    byte[] salt = new byte[SealedFormat.SALT_BYTES];
    byte[] prefix = new byte[SealedFormat.NONCE_PREFIX_BYTES];
    random.nextBytes(salt);
    random.nextBytes(prefix);
    // CREATE_NEW first: an existing file is refused before anything is derived or written, and
    // from here on the file is ours to delete if sealing fails.
    FileChannel ch = FileChannel.open(out, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    boolean done = false;
    byte[] segmentKey = null;
    try (ch; Arena arena = Arena.ofConfined()) {
      segmentKey = Hkdf.deriveSegmentKey(key, salt, aad);
      MemorySegment pt = arena.allocate(SealedFormat.PLAINTEXT_SEGMENT_BYTES);
      MemorySegment ct = arena.allocate(SealedFormat.CIPHERTEXT_SEGMENT_BYTES);
      try (AesGcm gcm = crypto.aesGcm(segmentKey)) {
        Arrays.fill(segmentKey, (byte) 0);
        ByteBuffer header = ByteBuffer.allocate(SealedFormat.HEADER_BYTES);
        header.put((byte) SealedFormat.HEADER_BYTES).put(salt).put(prefix).flip();
        writeFully(ch, header);
        for (long i = 0; i < segments; i++) {
          long from = SealedFormat.plaintextOffset(i);
          long len = Math.min(size - from,
              i == 0 ? SealedFormat.FIRST_PLAINTEXT_SEGMENT_BYTES : SealedFormat.PLAINTEXT_SEGMENT_BYTES);
          MemorySegment p = pt.asSlice(0, len);
          source.read(p, from);
          MemorySegment c = ct.asSlice(0, len + SealedFormat.TAG_BYTES);
          gcm.encrypt(SealedFormat.nonce(prefix, i, i == segments - 1), MemorySegment.NULL, p, c);
          writeFully(ch, c.asByteBuffer());
        }
      } finally {
        pt.fill((byte) 0); // the plaintext buffer
      }
      ch.force(true);
      done = true;
      return new SealResult(size, SealedFormat.sealedSize(size), segments);
    } finally {
      if (segmentKey != null) {
        Arrays.fill(segmentKey, (byte) 0);
      }
      if (!done) {
        deleteQuietly(out);
      }
    }
  }

  private static void deleteQuietly(Path out) {
    try {
      Files.deleteIfExists(out);
    } catch (IOException ignored) {
      // the original failure is what the caller needs to see
    }
  }

  private static void readFully(FileChannel in, MemorySegment dst, long offset, Path name) throws IOException {
    ByteBuffer b = dst.asByteBuffer();
    long pos = offset;
    while (b.hasRemaining()) {
      int n = in.read(b, pos);
      if (n < 0) {
        throw new IOException(name + ": changed size while it was being sealed (ended at byte " + pos + ")");
      }
      pos += n;
    }
  }

  private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }
}
