package dev.sampler.integrity.crypto;

/**
 * AES-256-GCM and SHA-256 from one implementation. Instances are thread-safe factories; the keyed
 * {@link AesGcm} and the {@link Sha256} contexts they create are not (one thread at a time).
 */
public sealed interface CryptoProvider permits OpenSslCrypto, JdkCrypto {

  /** Short name: {@code "openssl"} or {@code "jdk"}. */
  String name();

  /** One line describing the implementation, e.g. {@code "OpenSSL 3.0.19 1 Jul 2025 (libcrypto.so.3)"}. */
  String description();

  /**
   * A GCM context keyed with {@code key} (32 bytes, AES-256). The key is copied; the caller may
   * zero its array as soon as this returns. Close the context to free it and wipe its key schedule.
   *
   * @throws IllegalArgumentException if {@code key} is not 32 bytes
   */
  AesGcm aesGcm(byte[] key);

  /** A fresh SHA-256 context. */
  Sha256 sha256();
}
