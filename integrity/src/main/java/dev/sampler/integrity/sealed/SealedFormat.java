package dev.sampler.integrity.sealed;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The sealed-file format: Tink's streaming AEAD "AES-GCM-HKDF" with the parameters of Tink's
 * predefined {@code AES256_GCM_HKDF_1MB} (32-byte key, HKDF-SHA256, 32-byte derived AES-256-GCM
 * key, ciphertext segments of 1 MiB, first-segment offset 0). A file is
 *
 * <pre>
 *   header (40 bytes)  = 0x28 || salt (32 bytes) || nonce prefix (7 bytes)
 *   segment 0          = GCM(plaintext[0, 1048520))                    1 MiB - 40 bytes
 *   segment i (i >= 1) = GCM(the next 1048560 plaintext bytes)          1 MiB
 *   last segment       = GCM(the rest)                                   16..1 MiB bytes
 * </pre>
 *
 * <p>Each segment is AES-256-GCM under {@code HKDF-SHA256(ikm = data key, salt, info = associated
 * data, L = 32)} with the 12-byte nonce {@code prefix || uint32_be(i) || (last ? 0x01 : 0x00)}, no
 * GCM associated data, and the 16-byte tag appended. The file's associated data (the plaintext
 * file name here) enters only through the key derivation. The last segment is the only one whose
 * nonce ends in 1, which is what makes truncation at a segment boundary detectable; it is empty
 * only when the whole plaintext is. The segment count follows from the file size alone, as in
 * Tink's {@code StreamingAeadSeekableDecryptingChannel}: a size that is a multiple of 1 MiB ends
 * with a full segment. See integrity/README.md for the sources.
 */
public final class SealedFormat {
  private SealedFormat() {}

  /** Size of the data key (HKDF input keying material), bytes. */
  public static final int KEY_BYTES = 32;
  /** Size of the HKDF salt in the header (= derived key size), bytes. */
  public static final int SALT_BYTES = 32;
  /** Size of the per-file nonce prefix in the header, bytes. */
  public static final int NONCE_PREFIX_BYTES = 7;
  /** Header: length byte, salt, nonce prefix. */
  public static final int HEADER_BYTES = 1 + SALT_BYTES + NONCE_PREFIX_BYTES;
  /** GCM tag per segment, bytes. */
  public static final int TAG_BYTES = 16;
  /** Ciphertext segment size (1 MiB), bytes. */
  public static final int CIPHERTEXT_SEGMENT_BYTES = 1 << 20;
  /** Plaintext per segment after the first, bytes. */
  public static final int PLAINTEXT_SEGMENT_BYTES = CIPHERTEXT_SEGMENT_BYTES - TAG_BYTES;
  /** Plaintext in segment 0 (shorter by the header), bytes. */
  public static final int FIRST_PLAINTEXT_SEGMENT_BYTES = PLAINTEXT_SEGMENT_BYTES - HEADER_BYTES;
  /** Smallest sealed file: header and one empty segment's tag. */
  public static final int MIN_SEALED_BYTES = HEADER_BYTES + TAG_BYTES;
  /** File name suffix the CLI gives sealed files. */
  public static final String SUFFIX = ".sealed";
  /** The name of these parameters in Tink. */
  public static final String TINK_PARAMETERS = "AES256_GCM_HKDF_1MB";

  /** Number of segments of a plaintext of {@code plaintextBytes} (at least 1). */
  public static long segmentCount(long plaintextBytes) {
    if (plaintextBytes < 0) {
      throw new IllegalArgumentException("plaintext size must be >= 0, got " + plaintextBytes);
    }
    if (plaintextBytes <= FIRST_PLAINTEXT_SEGMENT_BYTES) {
      return 1;
    }
    long rest = plaintextBytes - FIRST_PLAINTEXT_SEGMENT_BYTES;
    return 1 + (rest + PLAINTEXT_SEGMENT_BYTES - 1) / PLAINTEXT_SEGMENT_BYTES;
  }

  /** Size of the sealed file for a plaintext of {@code plaintextBytes}. */
  public static long sealedSize(long plaintextBytes) {
    return HEADER_BYTES + plaintextBytes + segmentCount(plaintextBytes) * TAG_BYTES;
  }

  /** Offset of segment {@code i}'s plaintext in the whole plaintext. */
  static long plaintextOffset(long i) {
    return i == 0 ? 0 : FIRST_PLAINTEXT_SEGMENT_BYTES + (i - 1) * PLAINTEXT_SEGMENT_BYTES;
  }

  /** Offset of segment {@code i}'s ciphertext in the sealed file. */
  static long ciphertextOffset(long i) {
    return i == 0 ? HEADER_BYTES : i * CIPHERTEXT_SEGMENT_BYTES;
  }

  /** The segment holding plaintext offset {@code pos}, clamped to the last of {@code count}. */
  static int segmentOf(long pos, int count) {
    long s = pos < FIRST_PLAINTEXT_SEGMENT_BYTES ? 0 : 1 + (pos - FIRST_PLAINTEXT_SEGMENT_BYTES) / PLAINTEXT_SEGMENT_BYTES;
    return (int) Math.min(s, count - 1);
  }

  /** The 12-byte GCM nonce of segment {@code i}. */
  static byte[] nonce(byte[] prefix, long i, boolean last) {
    ByteBuffer b = ByteBuffer.allocate(12).order(ByteOrder.BIG_ENDIAN);
    b.put(prefix).putInt((int) i).put((byte) (last ? 1 : 0));
    return b.array();
  }
}
