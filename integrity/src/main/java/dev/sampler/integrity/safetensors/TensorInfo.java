package dev.sampler.integrity.safetensors;

import java.util.Arrays;
import java.util.Objects;

/**
 * One tensor's header entry: its name, dtype, shape and byte range {@code [begin, end)} relative to
 * the start of the data area (the byte after the header).
 *
 * <p>Always self-consistent: the constructor checks that the dimensions are non-negative, that
 * {@code 0 <= begin <= end}, and that {@code end - begin} is exactly the element count times the
 * dtype size, without overflow. The shape array is copied in and out, so instances are immutable;
 * {@code equals} and {@code hashCode} compare the shape by content.
 *
 * @param name the tensor name, non-empty
 * @param dtype the element type
 * @param shape the dimensions; {@code []} is a scalar, a zero dimension makes the tensor empty
 * @param begin first byte, relative to the data area
 * @param end one past the last byte, relative to the data area
 */
public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {

  /**
   * @throws IllegalArgumentException if the entry is inconsistent as described above
   * @throws NullPointerException if a component is null
   */
  public TensorInfo {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(dtype, "dtype");
    shape = Objects.requireNonNull(shape, "shape").clone();
    if (name.isEmpty()) {
      throw new IllegalArgumentException("tensor name is empty");
    }
    if (begin < 0 || end < begin) {
      throw new IllegalArgumentException(
          "tensor " + Names.quote(name) + ": invalid byte range [" + begin + ", " + end + "]");
    }
    long bytes = byteSizeOf(shape, dtype);
    if (bytes < 0 || bytes != end - begin) {
      throw new IllegalArgumentException(
          "tensor "
              + Names.quote(name)
              + ": shape "
              + Names.shape(shape)
              + " x "
              + dtype
              + " does not fill the byte range ["
              + begin
              + ", "
              + end
              + "]");
    }
  }

  /** Returns a copy of the dimensions. */
  @Override
  public long[] shape() {
    return shape.clone();
  }

  /** Number of dimensions (0 for a scalar). */
  public int rank() {
    return shape.length;
  }

  /** Product of the dimensions (1 for a scalar, 0 if any dimension is 0). */
  public long elementCount() {
    return elementCountOf(shape);
  }

  /** Size of the tensor's data in bytes: {@code end - begin}. */
  public long byteLength() {
    return end - begin;
  }

  /** Element count of {@code shape}, or -1 if a dimension is negative or the product overflows. */
  static long elementCountOf(long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        return -1;
      }
      try {
        n = Math.multiplyExact(n, d);
      } catch (ArithmeticException overflow) {
        return -1;
      }
    }
    return n;
  }

  /**
   * Byte size of a {@code shape} tensor of {@code dtype}, or -1 on a negative dimension or
   * overflow.
   */
  static long byteSizeOf(long[] shape, DType dtype) {
    long n = elementCountOf(shape);
    if (n < 0) {
      return -1;
    }
    try {
      return Math.multiplyExact(n, (long) dtype.byteSize());
    } catch (ArithmeticException overflow) {
      return -1;
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorInfo t
        && name.equals(t.name)
        && dtype == t.dtype
        && Arrays.equals(shape, t.shape)
        && begin == t.begin
        && end == t.end;
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, dtype, Arrays.hashCode(shape), begin, end);
  }

  @Override
  public String toString() {
    return "TensorInfo["
        + Names.quote(name)
        + ", "
        + dtype
        + ", shape="
        + Names.shape(shape)
        + ", data_offsets=["
        + begin
        + ", "
        + end
        + "]]";
  }
}
