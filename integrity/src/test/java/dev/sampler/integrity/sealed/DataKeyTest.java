package dev.sampler.integrity.sealed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class DataKeyTest {

  @Test
  void generate_twoKeys_differAndAre32Bytes() {
    DataKey a = DataKey.generate();
    DataKey b = DataKey.generate();
    assertEquals(32, a.copyBytes(InsecureKeyAccess.get()).length);
    assertFalse(a.sameKeyAs(b));
    assertTrue(a.sameKeyAs(a));
  }

  @Test
  void base64_roundTrip_sameKeyOneLine() {
    DataKey a = DataKey.generate();
    byte[] text = a.toBase64(InsecureKeyAccess.get());
    assertEquals(DataKey.encodedLength(), text.length);
    byte[] withNewline = (new String(text, StandardCharsets.US_ASCII) + "\n").getBytes(StandardCharsets.US_ASCII);
    assertTrue(DataKey.fromBase64(withNewline).sameKeyAs(a));
    assertArrayEquals(a.copyBytes(InsecureKeyAccess.get()), Base64.getDecoder().decode(text));
  }

  @Test
  void fromBase64_badInput_rejectedWithoutEchoingIt() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DataKey.fromBase64("s3cr3t!!"));
    assertEquals("data key is not valid base64 (expected 44 characters of RFC 4648 base64)", e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> DataKey.fromBase64(Base64.getEncoder().encodeToString(new byte[16])));
    assertEquals("data key must be 32 bytes, got 16", e.getMessage());
  }

  @Test
  void toString_anyState_redacted() {
    DataKey a = DataKey.fromBytes(new byte[32]);
    assertEquals("DataKey[redacted]", a.toString());
    a.close();
    assertEquals("DataKey[destroyed]", a.toString());
  }

  @Test
  void destroy_thenRead_refused() {
    DataKey a = DataKey.generate();
    DataKey copy = DataKey.fromBytes(a.copyBytes(InsecureKeyAccess.get()));
    a.destroy();
    assertTrue(a.isDestroyed());
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> a.copyBytes(InsecureKeyAccess.get()));
    assertEquals("data key has been destroyed", e.getMessage());
    assertFalse(a.sameKeyAs(copy));
  }
}
