package dev.sampler.integrity.crypto;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Known-answer checks run once before a native implementation is used, so that a wrong binding
 * (or a broken library) is refused at start-up instead of producing wrong plaintext.
 *
 * <p>GCM: Wycheproof {@code aes_gcm_test.json} tcId 101 (AES-256, 96-bit nonce, 8 bytes of
 * associated data, 20-byte message; C2SP/wycheproof, Apache-2.0), encrypted, decrypted and
 * decrypted again with one tag bit flipped (must be rejected). SHA-256: the FIPS 180-2 Appendix B.1
 * example {@code "abc"}.
 */
final class SelfTest {
  private SelfTest() {}

  private static final HexFormat HEX = HexFormat.of();
  private static final byte[] KEY = HEX.parseHex("cdccfe3f46d782ef47df4e72f0c02d9c7f774def970d23486f11a57f54247f17");
  private static final byte[] NONCE = HEX.parseHex("376187894605a8d45e30de51");
  private static final byte[] AAD = HEX.parseHex("956846a209e087ed");
  private static final byte[] MSG = HEX.parseHex("e28e0e9f9d22463ac0e42639b530f42102fded75");
  private static final byte[] CT_TAG = HEX.parseHex(
      "feca44952447015b5df1f456df8ca4bb4eee2ce2" + "082e91924deeb77880e1b1c84f9b8d30");
  private static final byte[] SHA_ABC = HEX.parseHex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

  static void run(CryptoProvider p) throws CryptoUnavailableException {
    check(p.description(), p::aesGcm, p::sha256);
  }

  /** The checks, on contexts from the given factories (tests pass deliberately broken ones). */
  static void check(String who, Function<byte[], AesGcm> gcms, Supplier<Sha256> shas)
      throws CryptoUnavailableException {
    try (AesGcm gcm = gcms.apply(KEY.clone())) {
      MemorySegment aad = MemorySegment.ofArray(AAD.clone());
      byte[] ct = new byte[CT_TAG.length];
      gcm.encrypt(NONCE, aad, MemorySegment.ofArray(MSG.clone()), MemorySegment.ofArray(ct));
      if (!MessageDigest.isEqual(ct, CT_TAG)) {
        throw new CryptoUnavailableException(who + ": AES-256-GCM encryption self-test gave a wrong result");
      }
      byte[] pt = new byte[MSG.length];
      if (!gcm.decrypt(NONCE, aad, MemorySegment.ofArray(CT_TAG.clone()), MemorySegment.ofArray(pt))
          || !MessageDigest.isEqual(pt, MSG)) {
        throw new CryptoUnavailableException(who + ": AES-256-GCM decryption self-test gave a wrong result");
      }
      byte[] bad = CT_TAG.clone();
      bad[bad.length - 1] ^= 1;
      if (gcm.decrypt(NONCE, aad, MemorySegment.ofArray(bad), MemorySegment.ofArray(new byte[MSG.length]))) {
        throw new CryptoUnavailableException(who + ": AES-256-GCM accepted a modified tag in its self-test");
      }
    } catch (RuntimeException e) {
      throw new CryptoUnavailableException(who + ": AES-256-GCM self-test failed: " + e.getMessage(), e);
    }
    try (Sha256 sha = shas.get()) {
      sha.update(MemorySegment.ofArray("abc".getBytes(StandardCharsets.US_ASCII)));
      if (!MessageDigest.isEqual(sha.digest(), SHA_ABC)) {
        throw new CryptoUnavailableException(who + ": SHA-256 self-test gave a wrong result");
      }
    } catch (RuntimeException e) {
      throw new CryptoUnavailableException(who + ": SHA-256 self-test failed: " + e.getMessage(), e);
    }
  }
}
