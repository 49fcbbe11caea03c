package dev.sampler.integrity.sealed;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Locale;

/**
 * Where unsealed plaintext lives: off heap, owned by a shared arena whose close frees it.
 *
 * <p>On Linux the memory is an anonymous private mapping ({@code mmap(2)}) rather than {@code
 * Arena.allocate}: the JDK zero-fills an allocation page by page in the calling thread before
 * anything else can happen (about 0.7 s per GiB on the 2-core development VM, mostly page
 * faults), while fresh mapped pages are already zero and fault in inside the decrypting threads,
 * in parallel. The mapping is advised {@code MADV_HUGEPAGE} (with transparent huge pages in
 * {@code madvise} mode, the usual default, this halves the first-touch cost measured there and
 * means fewer TLB misses later) and {@code MADV_DONTDUMP}, so a core dump does not write the
 * plaintext to disk; both are best effort. Anywhere else (or if the calls fail) it falls back to
 * {@code Arena.ofShared().allocate}.
 */
final class OutputMemory {
  private OutputMemory() {}

  /** An allocation and the arena that frees it. */
  record Allocation(Arena arena, MemorySegment segment) {}

  /** Allocates plaintext memory of {@code size} bytes; tests substitute their own. */
  @FunctionalInterface
  interface Allocator {
    Allocation allocate(long size);
  }

  // <sys/mman.h> on Linux (x86-64 and aarch64 agree on these values)
  private static final int PROT_READ_WRITE = 0x1 | 0x2;
  private static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;
  private static final int MADV_HUGEPAGE = 14;
  private static final int MADV_DONTDUMP = 16;

  private static final MethodHandle MMAP;
  private static final MethodHandle MUNMAP;
  private static final MethodHandle MADVISE;

  static {
    MethodHandle mmap = null;
    MethodHandle munmap = null;
    MethodHandle madvise = null;
    if (System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux")) {
      try {
        Linker linker = Linker.nativeLinker();
        var libc = linker.defaultLookup();
        mmap = linker.downcallHandle(libc.findOrThrow("mmap"),
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
        munmap = linker.downcallHandle(libc.findOrThrow("munmap"), FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        madvise = linker.downcallHandle(libc.findOrThrow("madvise"),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
      } catch (RuntimeException e) {
        // no native access or no such symbols: Arena.allocate below
        mmap = null;
      }
    }
    MMAP = mmap;
    MUNMAP = munmap;
    MADVISE = madvise;
  }

  /** The default allocator: a private anonymous mapping where possible, else {@code Arena.allocate}. */
  static final Allocator DEFAULT = OutputMemory::allocate;

  static Allocation allocate(long size) {
    if (MMAP != null && size > 0) {
      Allocation a = mapped(size);
      if (a != null) {
        return a;
      }
    }
    Arena arena = Arena.ofShared();
    try {
      return new Allocation(arena, arena.allocate(size, 64));
    } catch (RuntimeException | Error e) {
      arena.close();
      throw e;
    }
  }

  private static Allocation mapped(long size) {
    MemorySegment addr;
    try {
      addr = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, size, PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0L);
    } catch (Throwable t) {
      return null;
    }
    if (addr.address() == -1L || addr.equals(MemorySegment.NULL)) { // MAP_FAILED
      return null;
    }
    advise(addr, size, MADV_HUGEPAGE);
    advise(addr, size, MADV_DONTDUMP);
    Arena arena = Arena.ofShared();
    MemorySegment segment = addr.reinterpret(size, arena, s -> unmap(s, size));
    return new Allocation(arena, segment);
  }

  /** Best effort: the memory is usable either way (the advice may be unsupported, e.g. no THP). */
  private static void advise(MemorySegment addr, long size, int advice) {
    try {
      int ignored = (int) MADVISE.invokeExact(addr, size, advice);
    } catch (Throwable t) {
      // ignored on purpose, see above
    }
  }

  private static void unmap(MemorySegment base, long size) {
    try {
      int ignored = (int) MUNMAP.invokeExact(base, size);
    } catch (Throwable t) {
      throw new IllegalStateException("munmap failed", t);
    }
  }
}
