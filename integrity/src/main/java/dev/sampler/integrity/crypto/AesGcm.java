package dev.sampler.integrity.crypto;

import java.lang.foreign.MemorySegment;

/**
 * AES-256-GCM under one key with 12-byte nonces and 16-byte tags (NIST SP 800-38D), the
 * ciphertext laid out as {@code ciphertext || tag} (the layout of Tink's segments and of
 * {@code javax.crypto}). Not thread-safe: one thread at a time. Segments may be on or off heap;
 * off-heap segments are passed to native code without a copy.
 */
public interface AesGcm extends AutoCloseable {
  /** Nonce length, bytes. */
  int NONCE_BYTES = 12;
  /** Tag length, bytes. */
  int TAG_BYTES = 16;

  /**
   * Encrypts {@code plaintext} into {@code out}, which must be exactly {@code plaintext.byteSize()
   * + 16} bytes and must not overlap the input.
   *
   * @param nonce 12 bytes, never reused under this key
   * @param aad associated data, authenticated but not encrypted (may be empty)
   * @throws IllegalArgumentException on wrong sizes
   * @throws IllegalStateException if the implementation fails (a bug, not bad input)
   */
  void encrypt(byte[] nonce, MemorySegment aad, MemorySegment plaintext, MemorySegment out);

  /**
   * Decrypts and authenticates {@code ciphertextAndTag} into {@code out}, which must be exactly
   * 16 bytes shorter and must not overlap the input.
   *
   * @return true if the tag verifies; false if not, in which case {@code out} may hold
   *     unauthenticated bytes that the caller must wipe and never use
   * @throws IllegalArgumentException on wrong sizes
   * @throws IllegalStateException if the implementation fails (a bug, not bad input)
   */
  boolean decrypt(byte[] nonce, MemorySegment aad, MemorySegment ciphertextAndTag, MemorySegment out);

  /** Frees the context and wipes its copy of the key; idempotent. */
  @Override
  void close();
}
