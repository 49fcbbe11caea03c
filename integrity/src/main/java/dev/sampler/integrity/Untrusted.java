package dev.sampler.integrity;

/**
 * Renders untrusted strings (names from a model file, a manifest, a command line) for error
 * messages: short, quoted and escaped, so a hostile name can neither forge log lines nor hide
 * behind look-alike or bidi characters.
 */
public final class Untrusted {
  /** Most chars a quoted string contributes between its quotes (escapes included, "..." not). */
  public static final int MAX_SHOWN = 64;

  private Untrusted() {}

  /**
   * Quotes {@code s} in single quotes. ASCII letters, digits and punctuation stay as they are;
   * anything else (controls, non-ASCII, quotes, backslashes) becomes a {@code \}{@code uXXXX}
   * escape. The rendering is cut after {@link #MAX_SHOWN} chars and then ends with "...", so a
   * quoted string is at most 69 chars long however many escapes it needs. {@code null} renders as
   * {@code null}.
   */
  public static String quote(String s) {
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
}
