package dev.sampler.integrity.sealed;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The authenticated (and, if a plan was given, digest-checked) plaintext of a sealed file, held
 * off heap and nowhere else: never on disk, never in a Java array. {@link #close} overwrites it
 * with zeros and then frees it. The memory is in a shared arena, so any thread may read it while
 * it is open; after close, reading the segment throws {@link IllegalStateException}.
 */
public final class UnsealedBytes implements AutoCloseable {
  private final String fileName;
  private final MemorySegment data;
  private final Arena arena;
  private boolean closed;

  UnsealedBytes(String fileName, MemorySegment data, Arena arena) {
    this.fileName = fileName;
    this.data = data;
    this.arena = arena;
  }

  /** The plaintext file name it was sealed under (the associated data). */
  public String fileName() {
    return fileName;
  }

  /** Plaintext size in bytes. */
  public long byteSize() {
    return data.byteSize();
  }

  /**
   * The plaintext, read-only (e.g. for {@code SafetensorsFile.parse(segment, name)}). Valid until
   * {@link #close}.
   *
   * @throws IllegalStateException if closed
   */
  public MemorySegment segment() {
    synchronized (this) {
      if (closed) {
        throw new IllegalStateException(fileName + ": unsealed bytes are closed");
      }
    }
    return data.asReadOnly();
  }

  /** Zero-fills the plaintext, then frees it; idempotent. Callers must not read it concurrently. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      data.fill((byte) 0);
    } finally {
      arena.close();
    }
  }

  /** Names the file and size only. */
  @Override
  public String toString() {
    return "UnsealedBytes[" + fileName + ", " + data.byteSize() + " bytes" + (closed ? ", closed" : "") + "]";
  }
}
