package dev.sampler.integrity.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Both implementations against Wycheproof's AES-256-GCM vectors and the FIPS 180-2 SHA-256
 * examples, and against each other on random inputs (on and off heap).
 */
class CryptoProviderTest {
  private static final HexFormat HEX = HexFormat.of();

  private static List<CryptoProvider> providers() {
    return List.of(NativeCrypto.require(), Crypto.jdk());
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] r = new byte[a.length + b.length];
    System.arraycopy(a, 0, r, 0, a.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }

  @Test
  void aesGcm_wycheproofAes256Vectors_everyVectorMatchesOnBothImplementations() throws Exception {
    JsonNode doc;
    try (InputStream in = getClass().getResourceAsStream("/vectors/wycheproof/aes_gcm_256_96_test.json")) {
      doc = new ObjectMapper().readTree(in);
    }
    List<String> failures = new ArrayList<>();
    int checked = 0;
    for (CryptoProvider p : providers()) {
      for (JsonNode group : doc.get("testGroups")) {
        for (JsonNode t : group.get("tests")) {
          String id = p.name() + " tcId " + t.get("tcId").asInt();
          byte[] key = HEX.parseHex(t.get("key").asText());
          byte[] iv = HEX.parseHex(t.get("iv").asText());
          byte[] aad = HEX.parseHex(t.get("aad").asText());
          byte[] msg = HEX.parseHex(t.get("msg").asText());
          byte[] ctTag = concat(HEX.parseHex(t.get("ct").asText()), HEX.parseHex(t.get("tag").asText()));
          boolean valid = t.get("result").asText().equals("valid");
          try (AesGcm gcm = p.aesGcm(key)) {
            if (ctTag.length < AesGcm.TAG_BYTES) {
              failures.add(id + ": vector shorter than a tag");
              continue;
            }
            byte[] pt = new byte[ctTag.length - AesGcm.TAG_BYTES];
            boolean ok = gcm.decrypt(iv, MemorySegment.ofArray(aad), MemorySegment.ofArray(ctTag), MemorySegment.ofArray(pt));
            if (ok != valid) {
              failures.add(id + ": decrypt returned " + ok + ", expected " + valid);
            } else if (valid && !java.util.Arrays.equals(pt, msg)) {
              failures.add(id + ": wrong plaintext");
            }
            if (valid) {
              byte[] out = new byte[msg.length + AesGcm.TAG_BYTES];
              gcm.encrypt(iv, MemorySegment.ofArray(aad), MemorySegment.ofArray(msg), MemorySegment.ofArray(out));
              if (!java.util.Arrays.equals(out, ctTag)) {
                failures.add(id + ": wrong ciphertext or tag");
              }
            }
          }
          checked++;
        }
      }
    }
    assertEquals(List.of(), failures);
    assertEquals(2 * 66, checked);
  }

  @Test
  void aesGcm_randomInputsOnAndOffHeap_nativeAndJdkAgreeAndCrossDecrypt() {
    CryptoProvider ssl = NativeCrypto.require();
    CryptoProvider jdk = Crypto.jdk();
    SplittableRandom r = new SplittableRandom(5);
    int[] sizes = {0, 1, 15, 16, 17, 255, 4096, 65_537, (1 << 20) - 56};
    try (Arena arena = Arena.ofConfined()) {
      for (int size : sizes) {
        byte[] key = new byte[32];
        byte[] nonce = new byte[12];
        byte[] aadBytes = new byte[size % 37];
        byte[] msg = new byte[size];
        r.nextBytes(key);
        r.nextBytes(nonce);
        r.nextBytes(aadBytes);
        r.nextBytes(msg);
        MemorySegment aad = MemorySegment.ofArray(aadBytes);
        byte[] heapOut = new byte[size + 16];
        MemorySegment offOut = arena.allocate(size + 16);
        MemorySegment offMsg = arena.allocate(Math.max(1, size)).asSlice(0, size).copyFrom(MemorySegment.ofArray(msg));
        try (AesGcm a = ssl.aesGcm(key); AesGcm b = jdk.aesGcm(key)) {
          a.encrypt(nonce, aad, offMsg, offOut);
          b.encrypt(nonce, aad, MemorySegment.ofArray(msg), MemorySegment.ofArray(heapOut));
          assertArrayEquals(heapOut, offOut.toArray(ValueLayout.JAVA_BYTE), "size " + size);
          byte[] back1 = new byte[size];
          MemorySegment back2 = arena.allocate(Math.max(1, size)).asSlice(0, size);
          assertTrue(a.decrypt(nonce, aad, MemorySegment.ofArray(heapOut), MemorySegment.ofArray(back1)));
          assertTrue(b.decrypt(nonce, aad, offOut, back2));
          assertArrayEquals(msg, back1);
          assertArrayEquals(msg, back2.toArray(ValueLayout.JAVA_BYTE));
          heapOut[r.nextInt(heapOut.length)] ^= (byte) (1 << r.nextInt(8));
          assertFalse(a.decrypt(nonce, aad, MemorySegment.ofArray(heapOut), MemorySegment.ofArray(back1)), "native, size " + size);
          assertFalse(b.decrypt(nonce, aad, MemorySegment.ofArray(heapOut), MemorySegment.ofArray(back1)), "jdk, size " + size);
        }
      }
    }
  }

  @Test
  void sha256_fips180Examples_bothImplementationsMatch() {
    String[][] cases = {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    };
    byte[] millionA = "a".repeat(1_000_000).getBytes(StandardCharsets.US_ASCII);
    for (CryptoProvider p : providers()) {
      try (Sha256 sha = p.sha256()) {
        for (String[] c : cases) {
          sha.update(MemorySegment.ofArray(c[0].getBytes(StandardCharsets.US_ASCII)));
          assertEquals(c[1], HEX.formatHex(sha.digest()), p.name() + " '" + c[0] + "'");
        }
        // Appendix B.3: one million 'a', fed in uneven pieces (and the context reused).
        for (int off = 0; off < millionA.length; off += 77_777) {
          sha.update(MemorySegment.ofArray(millionA).asSlice(off, Math.min(77_777, millionA.length - off)));
        }
        assertEquals("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
            HEX.formatHex(sha.digest()), p.name() + " million a");
      }
    }
  }

  @Test
  void sha256_randomDataOnAndOffHeap_nativeMatchesJdk() {
    SplittableRandom r = new SplittableRandom(11);
    byte[] data = new byte[3 << 20];
    r.nextBytes(data);
    try (Arena arena = Arena.ofConfined();
        Sha256 a = NativeCrypto.require().sha256();
        Sha256 b = Crypto.jdk().sha256()) {
      MemorySegment off = arena.allocate(data.length).copyFrom(MemorySegment.ofArray(data));
      a.update(off.asSlice(0, 1_000_003));
      a.update(MemorySegment.ofArray(data).asSlice(1_000_003));
      b.update(MemorySegment.ofArray(data));
      assertArrayEquals(b.digest(), a.digest());
    }
  }

  @Test
  void aesGcm_wrongSizes_rejectedWithTheSizes() {
    for (CryptoProvider p : providers()) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.aesGcm(new byte[16]));
      assertEquals("AES-256 key must be 32 bytes, got 16 bytes", e.getMessage());
      try (AesGcm g = p.aesGcm(new byte[32])) {
        e = assertThrows(IllegalArgumentException.class,
            () -> g.decrypt(new byte[12], MemorySegment.NULL, MemorySegment.ofArray(new byte[20]), MemorySegment.ofArray(new byte[5])));
        assertEquals("GCM output must be ciphertext - 16 = 4 bytes, got 5", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
            () -> g.encrypt(new byte[8], MemorySegment.NULL, MemorySegment.ofArray(new byte[1]), MemorySegment.ofArray(new byte[17])));
        assertEquals("GCM nonce must be 12 bytes, got 8 bytes", e.getMessage());
      }
    }
  }

  @Test
  void choose_nativeUnavailable_fallsBackToJdkAndSaysWhy() {
    Crypto.Selection s = Crypto.chooseSelection(() -> {
      throw new CryptoUnavailableException("libcrypto.so.3 could not be loaded: not found");
    });
    assertEquals("jdk", s.implementation());
    assertEquals("OpenSSL unavailable (libcrypto.so.3 could not be loaded: not found); using the JDK's AES-GCM, which is slower",
        s.reason());
    assertTrue(s.toString().startsWith("crypto: jdk (JDK javax.crypto"), s.toString());
  }

  @Test
  void auto_whereOpenSslWorks_choosesItOnce() {
    CryptoProvider ssl = NativeCrypto.require();
    assertSame(ssl, Crypto.auto());
    assertSame(Crypto.auto(), Crypto.auto());
    assertEquals("openssl", Crypto.selection().implementation());
    assertEquals("loaded and passed its known-answer self-test", Crypto.selection().reason());
    assertTrue(Crypto.selection().description().startsWith("OpenSSL 3."), Crypto.selection().description());
  }

  @Test
  void named_unknownName_rejected() throws Exception {
    assertSame(Crypto.jdk(), Crypto.named("JDK"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Crypto.named("boringssl"));
    assertEquals("unknown crypto implementation (allowed: auto, openssl, jdk)", e.getMessage());
  }

  @Test
  void selfTest_gcmIgnoringTheNonce_refused() {
    CryptoProvider jdk = Crypto.jdk();
    CryptoUnavailableException e = assertThrows(CryptoUnavailableException.class,
        () -> SelfTest.check("broken", key -> new ZeroNonce(jdk.aesGcm(key)), jdk::sha256));
    assertEquals("broken: AES-256-GCM encryption self-test gave a wrong result", e.getMessage());
  }

  @Test
  void selfTest_gcmAcceptingAnyTag_refused() {
    CryptoProvider jdk = Crypto.jdk();
    CryptoUnavailableException e = assertThrows(CryptoUnavailableException.class,
        () -> SelfTest.check("broken", key -> new AcceptsAnything(jdk.aesGcm(key)), jdk::sha256));
    assertEquals("broken: AES-256-GCM accepted a modified tag in its self-test", e.getMessage());
  }

  /** Encrypts under an all-zero nonce whatever it is given. */
  private record ZeroNonce(AesGcm inner) implements AesGcm {
    @Override
    public void encrypt(byte[] nonce, MemorySegment aad, MemorySegment plaintext, MemorySegment out) {
      inner.encrypt(new byte[12], aad, plaintext, out);
    }

    @Override
    public boolean decrypt(byte[] nonce, MemorySegment aad, MemorySegment ciphertextAndTag, MemorySegment out) {
      return inner.decrypt(nonce, aad, ciphertextAndTag, out);
    }

    @Override
    public void close() {
      inner.close();
    }
  }

  /** Reports success for any tag after decrypting the real one. */
  private record AcceptsAnything(AesGcm inner) implements AesGcm {
    @Override
    public void encrypt(byte[] nonce, MemorySegment aad, MemorySegment plaintext, MemorySegment out) {
      inner.encrypt(nonce, aad, plaintext, out);
    }

    @Override
    public boolean decrypt(byte[] nonce, MemorySegment aad, MemorySegment ciphertextAndTag, MemorySegment out) {
      inner.decrypt(nonce, aad, ciphertextAndTag, out);
      return true;
    }

    @Override
    public void close() {
      inner.close();
    }
  }
}
