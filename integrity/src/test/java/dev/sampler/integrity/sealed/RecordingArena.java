package dev.sampler.integrity.sealed;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * An arena whose memory outlives {@link #close} (it comes from an automatic arena), so a test can
 * look at what the code under test left in memory it freed: the unsealed plaintext must be zeros.
 */
final class RecordingArena implements Arena {
  private final Arena backing = Arena.ofAuto();
  final List<MemorySegment> allocated = new ArrayList<>();
  boolean closed;

  @Override
  public MemorySegment allocate(long byteSize, long byteAlignment) {
    MemorySegment s = backing.allocate(byteSize, byteAlignment);
    allocated.add(s);
    return s;
  }

  /** An allocator for {@code Unsealer} that takes its memory from this arena. */
  OutputMemory.Allocator allocator() {
    return size -> new OutputMemory.Allocation(this, allocate(size, 64));
  }

  @Override
  public MemorySegment.Scope scope() {
    return backing.scope();
  }

  @Override
  public void close() {
    closed = true;
  }

  /** True if every byte of every allocation is zero. */
  boolean allZero() {
    MemorySegment zeros = Arena.ofAuto().allocate(1 << 20);
    for (MemorySegment s : allocated) {
      for (long off = 0; off < s.byteSize(); off += zeros.byteSize()) {
        long len = Math.min(zeros.byteSize(), s.byteSize() - off);
        if (MemorySegment.mismatch(s, off, off + len, zeros, 0, len) != -1) {
          return false;
        }
      }
    }
    return true;
  }
}
