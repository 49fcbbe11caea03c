package dev.sampler.integrity.sealed;

import java.security.GeneralSecurityException;
import java.util.Arrays;
import javax.crypto.KDF;
import javax.crypto.spec.HKDFParameterSpec;

/** The per-file key derivation of the format: HKDF-SHA256 (RFC 5869) through the JDK's {@link KDF}. */
final class Hkdf {
  private Hkdf() {}

  /** {@code HKDF-SHA256(ikm = key, salt, info = associated data, L = 32)}; zero the result when done. */
  static byte[] deriveSegmentKey(DataKey key, byte[] salt, byte[] associatedData) {
    byte[] ikm = key.copyBytes(InsecureKeyAccess.get());
    try {
      KDF hkdf = KDF.getInstance("HKDF-SHA256");
      return hkdf.deriveData(
          HKDFParameterSpec.ofExtract().addIKM(ikm).addSalt(salt).thenExpand(associatedData, SealedFormat.SALT_BYTES));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HKDF-SHA256 failed: " + e.getMessage(), e);
    } finally {
      Arrays.fill(ikm, (byte) 0);
    }
  }
}
