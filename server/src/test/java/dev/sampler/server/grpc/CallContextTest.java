package dev.sampler.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The grpc-timeout header format (gRPC over HTTP/2: 1..8 digits and a unit). */
class CallContextTest {
  @Test
  void parseTimeout_validValues_convertToNanoseconds() {
    assertEquals(2_000_000_000L, CallContext.parseTimeout("2S"));
    assertEquals(1_500_000L, CallContext.parseTimeout("1500u"));
    assertEquals(250_000_000L, CallContext.parseTimeout("250m"));
    assertEquals(7L, CallContext.parseTimeout("7n"));
    assertEquals(3L * 3600 * 1_000_000_000L, CallContext.parseTimeout("3H"));
    assertEquals(60_000_000_000L, CallContext.parseTimeout("1M"));
    assertEquals(Long.MAX_VALUE, CallContext.parseTimeout("99999999H"), "saturates");
  }

  @Test
  void parseTimeout_malformedValues_areRejected() {
    for (String bad : new String[] {"", "S", "10", "123456789S", "1.5S", "-1S", "10s", "10 S", "1x"}) {
      assertEquals(-1, CallContext.parseTimeout(bad), bad);
    }
  }
}
