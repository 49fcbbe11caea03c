package dev.sampler.integrity.signing;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The one place this package computes SHA-256. Everything that hashes model bytes (whole files,
 * shards, in-memory plaintext) and every digest of small values goes through here, so a faster
 * implementation (e.g. a native SHA-NI one over FFM) can replace the JDK's by changing this class
 * alone.
 */
final class Sha256 {
  /** Bytes fed to the digest per call: bounds the ByteBuffer view (which cannot exceed 2 GiB). */
  private static final long WINDOW = 16L << 20;

  private Sha256() {}

  /** A fresh SHA-256 engine. */
  static MessageDigest newDigest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  /** SHA-256 of {@code bytes}. */
  static byte[] of(byte[] bytes) {
    return newDigest().digest(bytes);
  }

  /** SHA-256 of a segment's bytes (any size; heap or native), read on the calling thread. */
  static byte[] of(MemorySegment bytes) {
    MessageDigest md = newDigest();
    long size = bytes.byteSize();
    for (long off = 0; off < size; off += WINDOW) {
      md.update(bytes.asSlice(off, Math.min(WINDOW, size - off)).asByteBuffer());
    }
    return md.digest();
  }

  /**
   * SHA-256 of bytes {@code [start, end)} of a file, read through a read-only mapping that is
   * unmapped before returning. Symbolic links are followed (the caller decides whether that is
   * allowed).
   *
   * @throws IOException if the file cannot be read or is shorter than {@code end}
   */
  static byte[] ofFile(Path file, long start, long end) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        Arena arena = Arena.ofConfined()) {
      long size = ch.size();
      if (end > size) {
        throw new IOException("file is " + size + " bytes, shorter than the range [" + start + ", " + end + ")");
      }
      if (end == start) {
        return newDigest().digest();
      }
      return of(ch.map(FileChannel.MapMode.READ_ONLY, start, end - start, arena));
    }
  }
}
