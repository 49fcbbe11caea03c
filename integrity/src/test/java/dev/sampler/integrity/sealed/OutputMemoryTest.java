package dev.sampler.integrity.sealed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class OutputMemoryTest {

  @Test
  void allocate_anySize_zeroedWritableAndFreedWithItsArena() {
    for (long size : new long[] {0, 1, 4096, (3 << 20) + 5}) {
      OutputMemory.Allocation a = OutputMemory.allocate(size);
      MemorySegment s = a.segment();
      assertEquals(size, s.byteSize());
      assertFalse(s.isReadOnly());
      if (size > 0) {
        assertEquals(-1, s.mismatch(MemorySegment.ofArray(new byte[(int) size])), "fresh memory is zero");
        s.set(ValueLayout.JAVA_BYTE, size - 1, (byte) 7);
        assertEquals(7, s.get(ValueLayout.JAVA_BYTE, size - 1));
      }
      a.arena().close();
      if (size > 0) {
        assertThrows(IllegalStateException.class, () -> s.get(ValueLayout.JAVA_BYTE, 0));
      }
    }
  }
}
