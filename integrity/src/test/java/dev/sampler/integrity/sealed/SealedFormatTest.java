package dev.sampler.integrity.sealed;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class SealedFormatTest {

  @Test
  void nonce_segmentAndLastFlag_prefixThenBigEndianCounterThenFlag() {
    byte[] prefix = HexFormat.of().parseHex("01020304050607");
    assertEquals("010203040506070000000500", HexFormat.of().formatHex(SealedFormat.nonce(prefix, 5, false)));
    assertEquals("01020304050607deadbeef01", HexFormat.of().formatHex(SealedFormat.nonce(prefix, 0xdeadbeefL, true)));
  }

  @Test
  void layout_offsets_matchTinkSegmentation() {
    assertEquals(40, SealedFormat.HEADER_BYTES);
    assertEquals(1_048_520, SealedFormat.FIRST_PLAINTEXT_SEGMENT_BYTES);
    assertEquals(1_048_560, SealedFormat.PLAINTEXT_SEGMENT_BYTES);
    assertEquals(1_048_520, SealedFormat.plaintextOffset(1));
    assertEquals(1_048_520 + 1_048_560, SealedFormat.plaintextOffset(2));
    assertEquals(40, SealedFormat.ciphertextOffset(0));
    assertEquals(2L << 20, SealedFormat.ciphertextOffset(2));
    assertEquals(0, SealedFormat.segmentOf(1_048_519, 9));
    assertEquals(1, SealedFormat.segmentOf(1_048_520, 9));
    assertEquals(2, SealedFormat.segmentOf(10L << 20, 3)); // clamped to the last segment
  }
}
