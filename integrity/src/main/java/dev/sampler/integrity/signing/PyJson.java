package dev.sampler.integrity.signing;

import java.util.List;
import java.util.Map;

/**
 * Writes JSON exactly as the upstream signer serializes an in-toto statement (protobuf's {@code
 * MessageToJson}, i.e. Python's {@code json.dumps(..., indent=2)} with {@code ensure_ascii}): two
 * spaces per level, {@code ": "} after keys, {@code "[]"} and {@code "{}"} when empty, every
 * non-printable or non-ASCII char as a lowercase {@code \}{@code uXXXX} escape. Byte-identical
 * output is what lets the statement goldens of the upstream test-suite be compared as bytes.
 *
 * <p>Values: {@link Map} (in its iteration order), {@link List}, {@link String}, {@link Boolean}
 * and {@link PyFloat}.
 */
final class PyJson {
  /**
   * A whole number that protobuf's {@code Struct} stores as a double and Python prints with a
   * trailing {@code .0} (e.g. {@code "shard_size": 8.0}).
   */
  record PyFloat(long value) {
    PyFloat {
      if (value < 0 || value >= 10_000_000_000_000_000L) {
        throw new IllegalArgumentException("only whole numbers in [0, 1e16) print as N.0");
      }
    }
  }

  private PyJson() {}

  /** The JSON text of {@code value}, without a trailing newline. */
  static String dumps(Object value) {
    StringBuilder b = new StringBuilder(1024);
    write(b, value, 0);
    return b.toString();
  }

  private static void write(StringBuilder b, Object v, int depth) {
    switch (v) {
      case String s -> string(b, s);
      case Boolean x -> b.append(x ? "true" : "false");
      case PyFloat f -> b.append(f.value()).append(".0");
      case Map<?, ?> m -> {
        if (m.isEmpty()) {
          b.append("{}");
          return;
        }
        b.append('{');
        String sep = "\n";
        for (Map.Entry<?, ?> e : m.entrySet()) {
          b.append(sep);
          indent(b, depth + 1);
          string(b, (String) e.getKey());
          b.append(": ");
          write(b, e.getValue(), depth + 1);
          sep = ",\n";
        }
        b.append('\n');
        indent(b, depth);
        b.append('}');
      }
      case List<?> l -> {
        if (l.isEmpty()) {
          b.append("[]");
          return;
        }
        b.append('[');
        String sep = "\n";
        for (Object x : l) {
          b.append(sep);
          indent(b, depth + 1);
          write(b, x, depth + 1);
          sep = ",\n";
        }
        b.append('\n');
        indent(b, depth);
        b.append(']');
      }
      default -> throw new IllegalArgumentException("unsupported JSON value " + v.getClass());
    }
  }

  private static void indent(StringBuilder b, int depth) {
    b.repeat(' ', 2 * depth);
  }

  private static void string(StringBuilder b, String s) {
    b.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        case '\b' -> b.append("\\b");
        case '\f' -> b.append("\\f");
        default -> {
          if (c < 0x20 || c >= 0x7f) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    b.append('"');
  }
}
