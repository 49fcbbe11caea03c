package dev.sampler.attestation.jcs;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * RFC 8785 JSON Canonicalization Scheme (JCS): object members sorted by their names' UTF-16 code
 * units, no insignificant whitespace, strings with the minimal JSON escapes, numbers as ECMAScript's
 * {@code Number.prototype.toString} writes IEEE 754 doubles, UTF-8 output.
 *
 * <p>The RCAR binding (report data = H(JCS(runtime data))) depends on this being byte-exact with the
 * Rust {@code serde_json_canonicalizer} the reference client and Trustee use.
 */
public final class Jcs {
  private Jcs() {}

  /**
   * The canonical UTF-8 bytes of {@code value}.
   *
   * @throws IllegalArgumentException if the value cannot be canonicalized: NaN or an infinite
   *     number, a string or name with an unpaired surrogate, or a node that is not JSON data
   *     (binary, POJO, missing); the message names the problem and the path, never the content
   */
  public static byte[] canonicalize(JsonNode value) {
    Objects.requireNonNull(value, "value");
    StringBuilder out = new StringBuilder();
    write(value, out, "$");
    return out.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static void write(JsonNode node, StringBuilder out, String path) {
    switch (node.getNodeType()) {
      case NULL -> out.append("null");
      case BOOLEAN -> out.append(node.booleanValue() ? "true" : "false");
      case STRING -> writeString(node.textValue(), out, path);
      case NUMBER -> out.append(number(node, path));
      case ARRAY -> {
        out.append('[');
        for (int i = 0; i < node.size(); i++) {
          if (i > 0) {
            out.append(',');
          }
          write(node.get(i), out, path + "[" + i + "]");
        }
        out.append(']');
      }
      case OBJECT -> {
        List<Map.Entry<String, JsonNode>> members = new ArrayList<>(node.properties());
        // String.compareTo compares UTF-16 code units, which is exactly RFC 8785 section 3.2.3.
        members.sort(Map.Entry.comparingByKey());
        out.append('{');
        boolean first = true;
        for (Map.Entry<String, JsonNode> m : members) {
          if (!first) {
            out.append(',');
          }
          first = false;
          writeString(m.getKey(), out, path + " (member name)");
          out.append(':');
          write(m.getValue(), out, path + "." + safeName(m.getKey()));
        }
        out.append('}');
      }
      default ->
          throw new IllegalArgumentException(
              "JCS: node at " + path + " is " + node.getNodeType() + ", not JSON data");
    }
  }

  // Member names go into error paths; keep them only when they are plain identifiers.
  private static String safeName(String name) {
    return name.matches("[A-Za-z0-9_-]{1,64}") ? name : "<member>";
  }

  private static void writeString(String s, StringBuilder out, String path) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append("\\u00").append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 0xF, 16));
          } else if (Character.isHighSurrogate(c)) {
            if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
              throw new IllegalArgumentException("JCS: string at " + path + " has an unpaired surrogate");
            }
            out.append(c).append(s.charAt(++i));
          } else if (Character.isLowSurrogate(c)) {
            throw new IllegalArgumentException("JCS: string at " + path + " has an unpaired surrogate");
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }

  private static String number(JsonNode node, String path) {
    if (node.isIntegralNumber() && node.canConvertToLong()) {
      long v = node.longValue();
      // Integers a double holds exactly print the same either way; skip the double round trip.
      if (Math.abs(v) <= (1L << 53)) {
        return Long.toString(v);
      }
    }
    double d = node.doubleValue();
    if (Double.isNaN(d) || Double.isInfinite(d)) {
      throw new IllegalArgumentException(
          "JCS: number at " + path + " is not finite as an IEEE 754 double (RFC 8785 section 3.2.2.3)");
    }
    return ecmaScriptNumber(d);
  }

  /**
   * ECMAScript {@code Number.prototype.toString(10)} for a finite double (ECMA-262 Number::toString,
   * as RFC 8785 section 3.2.2.3 requires).
   *
   * @throws IllegalArgumentException for NaN or infinities
   */
  public static String ecmaScriptNumber(double d) {
    if (Double.isNaN(d) || Double.isInfinite(d)) {
      throw new IllegalArgumentException("JCS: NaN and infinities have no JSON form");
    }
    if (d == 0) {
      return "0"; // also -0
    }
    if (d < 0) {
      return "-" + ecmaScriptNumber(-d);
    }
    // Since JDK 19 Double.toString gives the shortest decimal that rounds to d, closest to d among
    // those (JDK-4511638), except that it never uses fewer than 2 digits when a 1-digit decimal would
    // do; ECMAScript takes the shortest, so try the 1-digit candidates below.
    BigDecimal shortest = new BigDecimal(Double.toString(d)).stripTrailingZeros();
    String digits = shortest.unscaledValue().toString();
    int n = digits.length() - shortest.scale(); // d = 0.digits * 10^n
    if (digits.length() == 2) {
      String one = oneDigit(d, digits, n);
      if (one != null) {
        BigDecimal bd = new BigDecimal(one).stripTrailingZeros();
        digits = bd.unscaledValue().toString();
        n = digits.length() - bd.scale();
      }
    }
    return layout(digits, n);
  }

  // A 1-digit decimal (as "dEe") that rounds to d, the closer one if both neighbours do, else null.
  private static String oneDigit(double d, String twoDigits, int n) {
    int lead = twoDigits.charAt(0) - '0';
    BigDecimal exact = new BigDecimal(d);
    String best = null;
    BigDecimal bestDistance = null;
    for (int cand = lead; cand <= lead + 1; cand++) {
      BigDecimal value = BigDecimal.valueOf(cand).scaleByPowerOfTen(n - 1);
      if (value.signum() == 0 || value.doubleValue() != d) {
        continue;
      }
      BigDecimal distance = value.subtract(exact).abs();
      int cmp = bestDistance == null ? -1 : distance.compareTo(bestDistance);
      if (cmp < 0 || (cmp == 0 && cand % 2 == 0)) {
        best = value.toString();
        bestDistance = distance;
      }
    }
    return best;
  }

  // ECMA-262 Number::toString steps for k digits s and exponent n (value = 0.s * 10^n).
  private static String layout(String s, int n) {
    int k = s.length();
    StringBuilder b = new StringBuilder();
    if (k <= n && n <= 21) {
      b.append(s).append("0".repeat(n - k));
    } else if (0 < n && n <= 21) {
      b.append(s, 0, n).append('.').append(s, n, k);
    } else if (-6 < n && n <= 0) {
      b.append("0.").append("0".repeat(-n)).append(s);
    } else {
      int e = n - 1;
      b.append(s.charAt(0));
      if (k > 1) {
        b.append('.').append(s, 1, k);
      }
      b.append('e').append(e < 0 ? '-' : '+').append(Math.abs(e));
    }
    return b.toString();
  }
}
