package dev.sampler.integrity.crypto;

import java.lang.foreign.MemorySegment;

/** Argument checks shared by the implementations, so both reject the same inputs the same way. */
final class Sizes {
  private Sizes() {}

  static void checkKey(byte[] key) {
    if (key == null || key.length != 32) {
      throw new IllegalArgumentException(
          "AES-256 key must be 32 bytes, got " + (key == null ? "null" : key.length + " bytes"));
    }
  }

  static void checkNonce(byte[] nonce) {
    if (nonce == null || nonce.length != AesGcm.NONCE_BYTES) {
      throw new IllegalArgumentException(
          "GCM nonce must be 12 bytes, got " + (nonce == null ? "null" : nonce.length + " bytes"));
    }
  }

  static void checkEncrypt(byte[] nonce, MemorySegment plaintext, MemorySegment out) {
    checkNonce(nonce);
    if (out.byteSize() != plaintext.byteSize() + AesGcm.TAG_BYTES) {
      throw new IllegalArgumentException(
          "GCM output must be plaintext + 16 = " + (plaintext.byteSize() + AesGcm.TAG_BYTES)
              + " bytes, got " + out.byteSize());
    }
  }

  static void checkDecrypt(byte[] nonce, MemorySegment ciphertextAndTag, MemorySegment out) {
    checkNonce(nonce);
    if (ciphertextAndTag.byteSize() < AesGcm.TAG_BYTES) {
      throw new IllegalArgumentException(
          "GCM ciphertext must hold at least its 16-byte tag, got " + ciphertextAndTag.byteSize() + " bytes");
    }
    if (out.byteSize() != ciphertextAndTag.byteSize() - AesGcm.TAG_BYTES) {
      throw new IllegalArgumentException(
          "GCM output must be ciphertext - 16 = " + (ciphertextAndTag.byteSize() - AesGcm.TAG_BYTES)
              + " bytes, got " + out.byteSize());
    }
  }

  /** javax.crypto takes ByteBuffers, which are int-indexed. */
  static void checkJdk(MemorySegment... segments) {
    for (MemorySegment s : segments) {
      if (s.byteSize() > Integer.MAX_VALUE - 64) {
        throw new IllegalArgumentException(
            "the JDK AES-GCM path takes at most 2 GiB per call, got " + s.byteSize() + " bytes");
      }
    }
  }
}
