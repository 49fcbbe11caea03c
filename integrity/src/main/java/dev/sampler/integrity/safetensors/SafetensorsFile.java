package dev.sampler.integrity.safetensors;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A validated safetensors file: an 8-byte little-endian header length {@code n}, a JSON header of
 * {@code n} bytes, then the data area holding every tensor back to back.
 *
 * <p>{@link #open} maps the file read-only and {@link #parse} takes bytes already in memory; both
 * validate the whole header and layout before returning (the rules are listed in the module's
 * README), so every {@link TensorInfo} of a returned instance lies inside the data area, the
 * tensors tile it exactly, and no arithmetic on their sizes can overflow. Tensor data is never
 * copied until asked for: {@link #data} returns a read-only slice of the mapping.
 *
 * <p>The file must not change while it is mapped: tensor data is read lazily from the mapping (the
 * header is copied once, so its validation cannot be raced). Instances are safe for concurrent
 * reads. After {@link #close}, reading tensor data of an opened file throws {@link
 * IllegalStateException}.
 */
public final class SafetensorsFile implements AutoCloseable {
  /** Largest header accepted, as in the reference implementation. */
  public static final long MAX_HEADER_BYTES = 100_000_000L;

  /** Most tensors a file may declare. */
  public static final int MAX_TENSORS = HeaderParser.MAX_TENSORS;

  /** Longest tensor name, in UTF-8 bytes. */
  public static final int MAX_NAME_BYTES = HeaderParser.MAX_NAME_BYTES;

  private static final ValueLayout.OfLong U64_LE =
      ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfFloat F32_LE =
      ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfShort U16_LE =
      ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  /** Largest element count returned as one Java array. */
  private static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

  /** Elements converted per chunk by the 16-bit float paths. */
  private static final int CHUNK = 8192;

  private final String source;
  private final MemorySegment dataArea;
  private final Map<String, String> metadata;
  private final List<TensorInfo> tensors;
  private final Map<String, TensorInfo> byName;
  private final Arena arena;
  private final AtomicBoolean closed = new AtomicBoolean();

  private SafetensorsFile(
      String source, MemorySegment dataArea, HeaderParser.Result header, Arena arena) {
    this.source = source;
    this.dataArea = dataArea;
    this.metadata = header.metadata();
    this.tensors = header.tensors();
    this.byName = HashMap.newHashMap(tensors.size());
    for (TensorInfo t : tensors) {
      byName.put(t.name(), t);
    }
    this.arena = arena;
  }

  /**
   * Maps {@code path} read-only and validates it. The mapping lives until {@link #close}.
   *
   * @throws IOException if the file cannot be opened or mapped
   * @throws SafetensorsException if the file is not a valid safetensors file (of supported dtypes)
   */
  public static SafetensorsFile open(Path path) throws IOException, SafetensorsException {
    String source = path.toString();
    Arena arena = Arena.ofShared();
    try {
      MemorySegment file;
      try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
        file = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
      }
      return validate(file, source, arena);
    } catch (IOException | SafetensorsException | RuntimeException | Error e) {
      arena.close();
      throw e;
    }
  }

  /**
   * Validates a whole safetensors file already in memory (for example weights just decrypted). The
   * returned instance does not own {@code wholeFile}: the caller keeps it alive and unchanged while
   * the instance is used; {@link #close} does nothing.
   *
   * @throws SafetensorsException if the bytes are not a valid safetensors file
   */
  public static SafetensorsFile parse(MemorySegment wholeFile) throws SafetensorsException {
    return parse(wholeFile, "<memory>");
  }

  /**
   * As {@link #parse(MemorySegment)}, with {@code sourceName} (for example the sealed blob's name)
   * starting every error message.
   */
  public static SafetensorsFile parse(MemorySegment wholeFile, String sourceName)
      throws SafetensorsException {
    return validate(wholeFile.asReadOnly(), sourceName, null);
  }

  private static SafetensorsFile validate(MemorySegment file, String source, Arena arena)
      throws SafetensorsException {
    long size = file.byteSize();
    if (size == 0) {
      throw new SafetensorsException(
          source + ": file is empty; a safetensors file starts with an 8-byte header length");
    }
    if (size < Long.BYTES) {
      throw new SafetensorsException(
          source + ": file is " + size + " bytes long, too short for the 8-byte header length");
    }
    long n = file.get(U64_LE, 0);
    if (Long.compareUnsigned(n, MAX_HEADER_BYTES) > 0) {
      throw new SafetensorsException(
          source
              + ": header length "
              + Long.toUnsignedString(n)
              + " exceeds the limit of "
              + MAX_HEADER_BYTES
              + " bytes");
    }
    if (n > size - Long.BYTES) {
      throw new SafetensorsException(
          source
              + ": header length "
              + n
              + " exceeds the "
              + (size - Long.BYTES)
              + " bytes after the length field");
    }
    // Copy the header once: validation must not be raced by a concurrent change of the file.
    byte[] header = file.asSlice(Long.BYTES, n).toArray(ValueLayout.JAVA_BYTE);
    long dataStart = Long.BYTES + n;
    HeaderParser.Result parsed = HeaderParser.parse(header, size - dataStart, source);
    return new SafetensorsFile(source, file.asSlice(dataStart), parsed, arena);
  }

  /** The {@code __metadata__} entries in header order; empty if the header has none. */
  public Map<String, String> metadata() {
    return metadata;
  }

  /** All tensors, ordered by their position in the data area. */
  public List<TensorInfo> tensors() {
    return tensors;
  }

  /** The tensor named exactly {@code name}, if any. */
  public Optional<TensorInfo> find(String name) {
    return Optional.ofNullable(byName.get(name));
  }

  /**
   * The tensor named exactly {@code name}.
   *
   * @throws SafetensorsException if there is none
   */
  public TensorInfo tensor(String name) throws SafetensorsException {
    TensorInfo t = byName.get(name);
    if (t == null) {
      throw new SafetensorsException("no tensor named " + Names.quote(name) + " in " + source);
    }
    return t;
  }

  /**
   * A read-only view of {@code t}'s bytes (little-endian elements, possibly unaligned), without
   * copying.
   *
   * @throws IllegalArgumentException if {@code t} is not one of this file's tensors
   * @throws IllegalStateException on access after an opened file was closed
   */
  public MemorySegment data(TensorInfo t) {
    TensorInfo own = byName.get(t.name());
    if (!t.equals(own)) {
      throw new IllegalArgumentException(
          "tensor " + Names.quote(t.name()) + " is not part of " + source);
    }
    return dataArea.asSlice(own.begin(), own.byteLength()).asReadOnly();
  }

  /**
   * Copies the tensor {@code name} into a new float array in row-major order. F32 is copied as is,
   * F16 and BF16 are widened exactly.
   *
   * @throws SafetensorsException if there is no such tensor, its dtype is I64, or it has more
   *     elements than a Java array can hold
   */
  public float[] readFloats(String name) throws SafetensorsException {
    TensorInfo t = tensor(name);
    if (t.dtype() == DType.I64) {
      throw new SafetensorsException(
          source
              + ": tensor "
              + Names.quote(name)
              + " has dtype I64; readFloats needs F32, F16 or BF16");
    }
    int count = arrayLength(t);
    MemorySegment src = dataArea.asSlice(t.begin(), t.byteLength());
    float[] out = new float[count];
    switch (t.dtype()) {
      case F32 -> MemorySegment.copy(src, F32_LE, 0, out, 0, count);
      case F16, BF16 -> {
        boolean half = t.dtype() == DType.F16;
        short[] buf = new short[Math.min(count, CHUNK)];
        for (int done = 0; done < count; ) {
          int len = Math.min(buf.length, count - done);
          MemorySegment.copy(src, U16_LE, (long) done * Short.BYTES, buf, 0, len);
          if (half) {
            for (int i = 0; i < len; i++) {
              out[done + i] = Float.float16ToFloat(buf[i]);
            }
          } else {
            for (int i = 0; i < len; i++) {
              // bfloat16 is the upper half of a binary32; the shift also drops the sign extension.
              out[done + i] = Float.intBitsToFloat(buf[i] << 16);
            }
          }
          done += len;
        }
      }
      case I64 -> throw new AssertionError("handled above");
    }
    return out;
  }

  /**
   * Copies the I64 tensor {@code name} into a new long array in row-major order.
   *
   * @throws SafetensorsException if there is no such tensor, its dtype is not I64, or it has more
   *     elements than a Java array can hold
   */
  public long[] readLongs(String name) throws SafetensorsException {
    TensorInfo t = tensor(name);
    if (t.dtype() != DType.I64) {
      throw new SafetensorsException(
          source
              + ": tensor "
              + Names.quote(name)
              + " has dtype "
              + t.dtype()
              + "; readLongs needs I64");
    }
    int count = arrayLength(t);
    long[] out = new long[count];
    MemorySegment.copy(dataArea, U64_LE, t.begin(), out, 0, count);
    return out;
  }

  private int arrayLength(TensorInfo t) throws SafetensorsException {
    long n = t.elementCount();
    if (n > MAX_ARRAY) {
      throw new SafetensorsException(
          source
              + ": tensor "
              + Names.quote(t.name())
              + " has "
              + n
              + " elements, more than a Java array holds");
    }
    return (int) n;
  }

  /**
   * Unmaps an opened file; later reads of tensor data throw {@link IllegalStateException}.
   * Idempotent. Does nothing for instances from {@link #parse}.
   */
  @Override
  public void close() {
    if (arena != null && closed.compareAndSet(false, true)) {
      arena.close();
    }
  }

  @Override
  public String toString() {
    return "SafetensorsFile[" + source + ", " + tensors.size() + " tensors]";
  }
}
