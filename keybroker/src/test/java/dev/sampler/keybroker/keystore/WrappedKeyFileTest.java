package dev.sampler.keybroker.keystore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sampler.keybroker.ResourcePath;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/** The file format with a software KEK (the PKCS#11 one is exercised by KeyBrokerPkcs11IT). */
class WrappedKeyFileTest {
  private static final ResourcePath DEMO = ResourcePath.parse("sampler/model/demo");

  /** AES-256-GCM in the JDK, standing in for the token. */
  private static Kek softKek(String label, byte fill) {
    byte[] k = new byte[32];
    java.util.Arrays.fill(k, fill);
    return new AesGcmKek(label, new SecretKeySpec(k, "AES"), null, "soft", "memory");
  }

  @Test
  void seal_thenOpen_roundTripsWithJweCompactHeader() throws Exception {
    Kek kek = softKek("sampler-kek", (byte) 1);
    byte[] key = new byte[32];
    key[0] = 42;
    String text = WrappedKeyFile.seal(kek, DEMO, 3, key);
    String[] p = text.split("\\.", -1);
    assertEquals(5, p.length);
    assertEquals("", p[1]);
    assertEquals("{\"alg\":\"dir\",\"enc\":\"A256GCM\",\"kid\":\"sampler-kek\",\"sampler-resource\":\"sampler/model/demo\","
        + "\"sampler-key-version\":3}", new String(Base64.getUrlDecoder().decode(p[0]), StandardCharsets.UTF_8));
    assertEquals(12, Base64.getUrlDecoder().decode(p[2]).length);
    assertEquals(16, Base64.getUrlDecoder().decode(p[4]).length);
    assertArrayEquals(key, WrappedKeyFile.open(kek, DEMO, 3, text));
  }

  @Test
  void open_movedTamperedOrOtherKek_refusedNamingWhy() throws Exception {
    Kek kek = softKek("sampler-kek", (byte) 1);
    String text = WrappedKeyFile.seal(kek, DEMO, 1, new byte[32]);
    assertEquals("keystore: wrapped key sampler/model/other v1: its header names another resource or version (file"
        + " moved or copied?)", assertThrows(StoreException.class,
            () -> WrappedKeyFile.open(kek, ResourcePath.parse("sampler/model/other"), 1, text)).getMessage());
    assertEquals("keystore: wrapped key sampler/model/demo v2: its header names another resource or version (file"
        + " moved or copied?)", assertThrows(StoreException.class,
            () -> WrappedKeyFile.open(kek, DEMO, 2, text)).getMessage());
    assertEquals("keystore: wrapped key sampler/model/demo v1 is wrapped under key 'sampler-kek', but this broker's KEK"
        + " is 'other'", assertThrows(StoreException.class,
            () -> WrappedKeyFile.open(softKek("other", (byte) 1), DEMO, 1, text)).getMessage());
    char[] c = text.toCharArray();
    int last = text.lastIndexOf('.') - 2; // inside the ciphertext
    c[last] = c[last] == 'A' ? 'B' : 'A';
    StoreException e = assertThrows(StoreException.class, () -> WrappedKeyFile.open(kek, DEMO, 1, new String(c)));
    assertEquals("soft: AES-GCM tag does not verify under key 'sampler-kek' in memory (wrapped under another KEK, or"
        + " the file was altered)", e.getMessage());
    assertThrows(StoreException.class, () -> WrappedKeyFile.open(softKek("sampler-kek", (byte) 2), DEMO, 1, text));
    assertEquals("keystore: wrapped key sampler/model/demo v1 is not JWE compact text with an empty encrypted key (5"
        + " parts, alg dir)", assertThrows(StoreException.class, () -> WrappedKeyFile.open(kek, DEMO, 1, "a.b.c"))
            .getMessage());
  }
}
