package dev.sampler.integrity.safetensors;

/**
 * The element types this runtime accepts in safetensors files. The names are the exact,
 * case-sensitive {@code dtype} strings of the safetensors header. Other dtypes of the format (F64,
 * I32, U8, BOOL, F8_*, ...) are rejected on purpose: the sampler has no use for them, and refusing
 * them keeps the set of code paths that touch untrusted data small.
 */
public enum DType {
  /** IEEE 754 binary32, little-endian. */
  F32(4),
  /** IEEE 754 binary16, little-endian. */
  F16(2),
  /** bfloat16 (the upper half of a binary32), little-endian. */
  BF16(2),
  /** Two's complement signed 64-bit integer, little-endian. */
  I64(8);

  private final int byteSize;

  DType(int byteSize) {
    this.byteSize = byteSize;
  }

  /** Bytes per element. */
  public int byteSize() {
    return byteSize;
  }

  /**
   * Returns the dtype whose header name is exactly {@code name}.
   *
   * @throws SafetensorsException if {@code name} is not one of F32, F16, BF16, I64; the message
   *     quotes the (sanitized) name
   */
  public static DType parse(String name) throws SafetensorsException {
    DType t = lookup(name);
    if (t == null) {
      throw new SafetensorsException(unsupported(name));
    }
    return t;
  }

  /** Returns the dtype named exactly {@code name}, or null. */
  static DType lookup(String name) {
    return switch (name) {
      case "F32" -> F32;
      case "F16" -> F16;
      case "BF16" -> BF16;
      case "I64" -> I64;
      case null, default -> null;
    };
  }

  static String unsupported(String name) {
    return "unsupported dtype " + Names.quote(name) + " (supported: F32, F16, BF16, I64)";
  }
}
