package dev.sampler.integrity.safetensors;

import dev.sampler.integrity.Untrusted;
import java.util.Arrays;

/** Renders untrusted strings and values for error messages: short, quoted and escaped. */
final class Names {
  /** Most chars a quoted string contributes between its quotes (escapes included, "..." not). */
  static final int MAX_SHOWN = Untrusted.MAX_SHOWN;

  private Names() {}

  /** Quotes {@code s} for a message: see {@link Untrusted#quote(String)}. */
  static String quote(String s) {
    return Untrusted.quote(s);
  }

  /** Renders a shape as {@code [a, b, c]}, cut after 8 dimensions. */
  static String shape(long[] shape) {
    if (shape.length <= 8) {
      return Arrays.toString(shape);
    }
    StringBuilder b = new StringBuilder("[");
    for (int i = 0; i < 8; i++) {
      b.append(shape[i]).append(", ");
    }
    return b.append("... (").append(shape.length).append(" dimensions)]").toString();
  }

  /** Number of bytes {@code s} takes in UTF-8; a lone surrogate counts as 3. */
  static long utf8Length(String s) {
    long n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        n += 1;
      } else if (c < 0x800) {
        n += 2;
      } else if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        n += 4;
        i++;
      } else {
        n += 3;
      }
    }
    return n;
  }
}
