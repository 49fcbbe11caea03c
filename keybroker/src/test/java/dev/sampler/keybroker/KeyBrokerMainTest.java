package dev.sampler.keybroker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sampler.keybroker.keystore.StoreException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class KeyBrokerMainTest {
  private static byte[] read(String stdin) throws Exception {
    return KeyBrokerMain.readKeyLine(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.US_ASCII)));
  }

  private static String error(String stdin) {
    return assertThrows(StoreException.class, () -> read(stdin)).getMessage();
  }

  @Test
  void readKeyLine_oneBase64Line_decoded() throws Exception {
    assertArrayEquals(new byte[] {1, 2, 3}, read("AQID\n"));
    assertArrayEquals(new byte[] {1, 2, 3}, read("AQID\r\n"));
    assertArrayEquals(new byte[] {1, 2, 3}, read("AQID"));
  }

  @Test
  void readKeyLine_badInput_refusedWithoutEchoingIt() {
    assertEquals("import: stdin: empty; expected one line of standard base64 (the data key)", error(""));
    assertEquals("import: stdin: empty; expected one line of standard base64 (the data key)", error("\n"));
    assertEquals("import: stdin: more than one line; expected exactly one base64 line", error("AQID\nAQID\n"));
    assertEquals("import: stdin: not standard base64 (RFC 4648 section 4, with padding)", error("secret-value!\n"));
    assertEquals("import: stdin: more than 4096 characters; expected one base64 line", error("A".repeat(5000)));
  }

  @Test
  void duration_shortAndIsoForms_parsed() {
    assertEquals(Duration.ofMillis(1500), KeyBrokerMain.duration("--x", "1500ms"));
    assertEquals(Duration.ofMinutes(5), KeyBrokerMain.duration("--x", "5m"));
    assertEquals(Duration.ofMinutes(5), KeyBrokerMain.duration("--x", "PT5M"));
    assertEquals("--x must be a duration like 1500ms, 30s, 5m, 1h or PT5M",
        assertThrows(IllegalArgumentException.class, () -> KeyBrokerMain.duration("--x", "5 minutes")).getMessage());
    assertEquals("--x must be positive",
        assertThrows(IllegalArgumentException.class, () -> KeyBrokerMain.duration("--x", "0s")).getMessage());
  }
}
