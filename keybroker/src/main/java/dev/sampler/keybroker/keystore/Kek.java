package dev.sampler.keybroker.keystore;

/**
 * A key-encryption key that encrypts and decrypts with AES-256-GCM where it lives (inside a
 * PKCS#11 token for {@link Pkcs11Token}); its bytes are never available to the caller.
 */
public interface Kek {
  /** The key's label (its name in the token), recorded as {@code kid} in wrapped key files. */
  String label();

  /**
   * AES-GCM encryption with a 128-bit tag.
   *
   * @return ciphertext followed by the 16-byte tag
   * @throws StoreException when the token refuses or fails
   */
  byte[] seal(byte[] iv, byte[] aad, byte[] plaintext) throws StoreException;

  /**
   * AES-GCM decryption with a 128-bit tag.
   *
   * @param ciphertextAndTag ciphertext followed by the 16-byte tag
   * @throws StoreException when the tag does not verify (wrong key, tampered data) or the token fails
   */
  byte[] open(byte[] iv, byte[] aad, byte[] ciphertextAndTag) throws StoreException;
}
