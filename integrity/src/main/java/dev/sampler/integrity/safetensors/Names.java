package dev.sampler.integrity.safetensors;

import java.util.Arrays;

/** Renders untrusted strings and values for error messages: short, quoted and escaped. */
final class Names {
  /** Most chars a quoted string contributes between its quotes (escapes included, "..." not). */
  static final int MAX_SHOWN = 64;

  private Names() {}

  /**
   * Quotes {@code s} in single quotes. ASCII letters, digits and punctuation stay as they are;
   * anything else (controls, non-ASCII, quotes, backslashes) becomes a {@code \}{@code uXXXX}
   * escape, so a name can neither forge log lines nor hide behind look-alike or bidi characters.
   * The rendering is cut after {@link #MAX_SHOWN} chars and then ends with "...", so a quoted
   * string is at most 69 chars long however many escapes it needs.
   */
  static String quote(String s) {
    if (s == null) {
      return "null";
    }
    StringBuilder b = new StringBuilder(MAX_SHOWN + 5).append('\'');
    int i = 0;
    for (; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean plain = c >= 0x20 && c < 0x7f && c != '\'' && c != '\\';
      if (b.length() - 1 + (plain ? 1 : 6) > MAX_SHOWN) {
        break;
      }
      if (plain) {
        b.append(c);
      } else {
        b.append(String.format("\\u%04x", (int) c));
      }
    }
    if (i < s.length()) {
      b.append("...");
    }
    return b.append('\'').toString();
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
