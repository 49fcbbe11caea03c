package dev.sampler.integrity.safetensors;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Builds a safetensors file, for tools and tests. The output follows the Python library's layout:
 * {@code __metadata__} first, then tensors sorted by name and stored back to back in that order,
 * and the header padded with spaces so that the data area starts at a multiple of 8 bytes.
 *
 * <p>Not thread-safe. Arguments are checked eagerly and data arrays copied, so a writer never
 * produces a file that {@link SafetensorsFile} would reject.
 */
public final class SafetensorsWriter {
  private record Entry(DType dtype, long[] shape, byte[] data) {}

  private final Map<String, String> metadata = new LinkedHashMap<>();
  private final TreeMap<String, Entry> tensors = new TreeMap<>();

  private SafetensorsWriter() {}

  /** A writer with no tensors and no metadata. */
  public static SafetensorsWriter create() {
    return new SafetensorsWriter();
  }

  /**
   * Adds a {@code __metadata__} entry.
   *
   * @throws IllegalArgumentException if {@code key} was already added or a string is not valid
   *     Unicode (contains a lone surrogate)
   */
  public SafetensorsWriter metadata(String key, String value) {
    requireUnicode(key, "metadata key");
    requireUnicode(value, "metadata value");
    if (metadata.containsKey(key)) {
      throw new IllegalArgumentException("duplicate metadata key " + Names.quote(key));
    }
    metadata.put(key, value);
    return this;
  }

  /**
   * Adds an F32 tensor.
   *
   * @throws IllegalArgumentException if the name is empty, too long, reserved or already used, or
   *     {@code data.length} is not the product of {@code shape}
   */
  public SafetensorsWriter addF32(String name, long[] shape, float[] data) {
    ByteBuffer b = buffer(name, shape, data.length, DType.F32);
    b.asFloatBuffer().put(data);
    return add(name, DType.F32, shape, b);
  }

  /**
   * Adds an F16 tensor; values are rounded to the nearest half (ties to even). See {@link #addF32}.
   */
  public SafetensorsWriter addF16(String name, long[] shape, float[] data) {
    ByteBuffer b = buffer(name, shape, data.length, DType.F16);
    for (float f : data) {
      b.putShort(Float.floatToFloat16(f));
    }
    return add(name, DType.F16, shape, b);
  }

  /**
   * Adds a BF16 tensor; values are rounded to the nearest bfloat16 (ties to even), NaN stays NaN.
   * See {@link #addF32}.
   */
  public SafetensorsWriter addBF16(String name, long[] shape, float[] data) {
    ByteBuffer b = buffer(name, shape, data.length, DType.BF16);
    for (float f : data) {
      b.putShort(toBFloat16(f));
    }
    return add(name, DType.BF16, shape, b);
  }

  /** Adds an I64 tensor. See {@link #addF32}. */
  public SafetensorsWriter addI64(String name, long[] shape, long[] data) {
    ByteBuffer b = buffer(name, shape, data.length, DType.I64);
    b.asLongBuffer().put(data);
    return add(name, DType.I64, shape, b);
  }

  /** Rounds a float to bfloat16, to nearest with ties to even; NaN stays a (quiet) NaN. */
  static short toBFloat16(float f) {
    int bits = Float.floatToRawIntBits(f);
    if (Float.isNaN(f)) {
      return (short) ((bits >>> 16) | 0x0040);
    }
    int rounded = bits + 0x7fff + ((bits >>> 16) & 1);
    return (short) (rounded >>> 16);
  }

  private ByteBuffer buffer(String name, long[] shape, int length, DType dtype) {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("tensor name is empty");
    }
    requireUnicode(name, "tensor name");
    if (Names.utf8Length(name) > HeaderParser.MAX_NAME_BYTES) {
      throw new IllegalArgumentException(
          "tensor name "
              + Names.quote(name)
              + " is longer than "
              + HeaderParser.MAX_NAME_BYTES
              + " bytes");
    }
    if (name.equals(HeaderParser.METADATA_KEY)) {
      throw new IllegalArgumentException("tensor name '__metadata__' is reserved");
    }
    if (tensors.containsKey(name)) {
      throw new IllegalArgumentException("duplicate tensor name " + Names.quote(name));
    }
    if (tensors.size() >= HeaderParser.MAX_TENSORS) {
      throw new IllegalArgumentException("more than " + HeaderParser.MAX_TENSORS + " tensors");
    }
    if (shape.length > HeaderParser.MAX_RANK) {
      throw new IllegalArgumentException(
          "shape has more than " + HeaderParser.MAX_RANK + " dimensions");
    }
    long count = TensorInfo.elementCountOf(shape);
    if (count != length) {
      throw new IllegalArgumentException(
          "tensor "
              + Names.quote(name)
              + ": shape "
              + Names.shape(shape)
              + " needs "
              + (count < 0 ? "an invalid number of" : String.valueOf(count))
              + " elements but "
              + length
              + " were given");
    }
    long bytes = count * dtype.byteSize();
    if (bytes > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("tensor " + Names.quote(name) + " is larger than 2 GiB");
    }
    return ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  private SafetensorsWriter add(String name, DType dtype, long[] shape, ByteBuffer data) {
    tensors.put(name, new Entry(dtype, shape.clone(), data.array()));
    return this;
  }

  private static void requireUnicode(String s, String what) {
    if (s == null) {
      throw new IllegalArgumentException(what + " is null");
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw new IllegalArgumentException(what + " " + Names.quote(s) + " has a lone surrogate");
      }
    }
  }

  /** The header bytes: JSON padded with spaces so that 8 + its length is a multiple of 8. */
  private byte[] header() {
    StringBuilder json = new StringBuilder("{");
    if (!metadata.isEmpty()) {
      json.append(quoteJson(HeaderParser.METADATA_KEY)).append(":{");
      boolean first = true;
      for (Map.Entry<String, String> e : metadata.entrySet()) {
        json.append(first ? "" : ",")
            .append(quoteJson(e.getKey()))
            .append(':')
            .append(quoteJson(e.getValue()));
        first = false;
      }
      json.append('}');
    }
    long offset = 0;
    for (Map.Entry<String, Entry> e : tensors.entrySet()) {
      Entry t = e.getValue();
      if (json.length() > 1) {
        json.append(',');
      }
      json.append(quoteJson(e.getKey()))
          .append(":{\"dtype\":\"")
          .append(t.dtype())
          .append("\",\"shape\":[");
      for (int i = 0; i < t.shape().length; i++) {
        json.append(i == 0 ? "" : ",").append(t.shape()[i]);
      }
      json.append("],\"data_offsets\":[")
          .append(offset)
          .append(',')
          .append(offset + t.data().length)
          .append("]}");
      offset += t.data().length;
    }
    json.append('}');
    byte[] utf8 = json.toString().getBytes(StandardCharsets.UTF_8);
    int padded = (utf8.length + 7) & ~7;
    byte[] out = new byte[padded];
    System.arraycopy(utf8, 0, out, 0, utf8.length);
    Arrays.fill(out, utf8.length, padded, (byte) ' ');
    return out;
  }

  private static String quoteJson(String s) {
    StringBuilder b = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }

  private long dataSize() {
    long n = 0;
    for (Entry e : tensors.values()) {
      n += e.data().length;
    }
    return n;
  }

  /**
   * The complete file as bytes.
   *
   * @throws IllegalStateException if the file would be larger than a Java array holds; use {@link
   *     #write} instead
   */
  public byte[] toBytes() {
    byte[] header = header();
    long total = Long.BYTES + (long) header.length + dataSize();
    if (total > Integer.MAX_VALUE - 8) {
      throw new IllegalStateException(
          "file of " + total + " bytes does not fit in a byte array; use write(Path)");
    }
    ByteBuffer out = ByteBuffer.allocate((int) total).order(ByteOrder.LITTLE_ENDIAN);
    out.putLong(header.length).put(header);
    for (Entry e : tensors.values()) {
      out.put(e.data());
    }
    return out.array();
  }

  /** Writes the file to {@code path}, replacing any existing file. */
  public void write(Path path) throws IOException {
    byte[] header = header();
    try (OutputStream out = Files.newOutputStream(path)) {
      out.write(
          ByteBuffer.allocate(Long.BYTES)
              .order(ByteOrder.LITTLE_ENDIAN)
              .putLong(header.length)
              .array());
      out.write(header);
      for (Entry e : tensors.values()) {
        out.write(e.data());
      }
    }
  }
}
