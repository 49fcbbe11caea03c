package dev.sampler.integrity.safetensors;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Validates a safetensors header and the layout it describes.
 *
 * <p>A schema-directed JSON reader rather than a general one: it accepts exactly the header grammar
 * (an object of tensor entries plus an optional {@code __metadata__} object of strings), never
 * recurses, never skips over unknown values and allocates only in proportion to bytes that are
 * really present. Anything else is a {@link SafetensorsException} naming the first problem.
 */
final class HeaderParser {
  /** Most tensors a header may declare. */
  static final int MAX_TENSORS = 100_000;

  /** Longest tensor name, in UTF-8 bytes. */
  static final int MAX_NAME_BYTES = 1024;

  /** Most dimensions a shape may have. */
  static final int MAX_RANK = 64;

  /** Most {@code __metadata__} entries. */
  static final int MAX_METADATA_ENTRIES = 100_000;

  static final String METADATA_KEY = "__metadata__";

  /** The validated header: metadata in header order, tensors in data-offset order. */
  record Result(Map<String, String> metadata, List<TensorInfo> tensors) {}

  private static final Comparator<TensorInfo> BY_OFFSETS =
      Comparator.comparingLong(TensorInfo::begin)
          .thenComparingLong(TensorInfo::end)
          .thenComparing(TensorInfo::name);

  private final byte[] h;
  private final String source;
  private int pos;
  private final Map<String, String> metadata = new LinkedHashMap<>();
  private boolean sawMetadata;
  private final List<TensorInfo> tensors = new ArrayList<>();
  private final Set<String> names = new HashSet<>();

  private HeaderParser(byte[] header, String source) {
    this.h = header;
    this.source = source;
  }

  /**
   * Validates {@code header} (the bytes between the length field and the data area) against a data
   * area of {@code dataSize} bytes.
   */
  static Result parse(byte[] header, long dataSize, String source) throws SafetensorsException {
    HeaderParser p = new HeaderParser(header, source);
    p.checkUtf8();
    p.parseTopLevel();
    p.checkLayout(dataSize);
    return new Result(
        Collections.unmodifiableMap(p.metadata), Collections.unmodifiableList(p.tensors));
  }

  // ---- errors

  private SafetensorsException fail(String detail) {
    return new SafetensorsException(source + ": " + detail);
  }

  private SafetensorsException syntax(String expected) {
    return fail(
        "header is not valid JSON at byte "
            + pos
            + " of the header: expected "
            + expected
            + ", found "
            + describeByte());
  }

  private SafetensorsException unpairedSurrogate(int at) {
    return fail(
        "header is not valid JSON at byte "
            + at
            + " of the header: a \\u escape encodes an unpaired surrogate");
  }

  private String describeByte() {
    if (pos >= h.length) {
      return "the end of the header";
    }
    int b = h[pos] & 0xff;
    return b > 0x20 && b < 0x7f ? "'" + (char) b + "'" : String.format("byte 0x%02x", b);
  }

  /** Names the JSON type of the value at pos, or fails if no value can start here. */
  private String describeValue() throws SafetensorsException {
    String type =
        pos >= h.length
            ? null
            : switch (h[pos]) {
              case '{' -> "an object";
              case '[' -> "an array";
              case '"' -> "a string";
              case 't', 'f' -> "a boolean";
              case 'n' -> "null";
              case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9' -> "a number";
              default -> null;
            };
    if (type == null) {
      throw syntax("a JSON value");
    }
    return type;
  }

  // ---- UTF-8

  private void checkUtf8() throws SafetensorsException {
    CharsetDecoder decoder =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(h);
    CharBuffer out = CharBuffer.allocate(4096);
    while (true) {
      CoderResult r = decoder.decode(in, out, true);
      if (r.isOverflow()) {
        out.clear();
      } else if (r.isUnderflow()) {
        break;
      } else {
        throw fail(
            "header is not valid UTF-8: malformed sequence at byte "
                + in.position()
                + " of the header");
      }
    }
    // UTF-8 decoding keeps no state across calls, so there is nothing left to flush.
  }

  // ---- JSON lexing

  private void skipWhitespace() {
    while (pos < h.length) {
      byte b = h[pos];
      if (b != ' ' && b != '\t' && b != '\n' && b != '\r') {
        return;
      }
      pos++;
    }
  }

  private boolean at(char c) {
    return pos < h.length && h[pos] == c;
  }

  private void expect(char c) throws SafetensorsException {
    if (!at(c)) {
      throw syntax("'" + c + "'");
    }
    pos++;
  }

  /** Reads a JSON string at pos (which must be a '"'); the header is known to be valid UTF-8. */
  private String readString() throws SafetensorsException {
    pos++;
    int runStart = pos;
    StringBuilder b = null;
    while (true) {
      if (pos >= h.length) {
        throw syntax("the end of a string ('\"')");
      }
      int c = h[pos] & 0xff;
      if (c == '"') {
        String run = new String(h, runStart, pos - runStart, StandardCharsets.UTF_8);
        pos++;
        return b == null ? run : b.append(run).toString();
      }
      if (c < 0x20) {
        throw syntax("an escape sequence instead of a raw control character in a string");
      }
      if (c != '\\') {
        pos++;
        continue;
      }
      if (b == null) {
        b = new StringBuilder();
      }
      b.append(new String(h, runStart, pos - runStart, StandardCharsets.UTF_8));
      pos++;
      if (pos >= h.length) {
        throw syntax("an escape sequence");
      }
      switch (h[pos]) {
        case '"' -> b.append('"');
        case '\\' -> b.append('\\');
        case '/' -> b.append('/');
        case 'b' -> b.append('\b');
        case 'f' -> b.append('\f');
        case 'n' -> b.append('\n');
        case 'r' -> b.append('\r');
        case 't' -> b.append('\t');
        case 'u' -> {
          int escapeStart = pos - 1;
          pos++;
          char u = readHex4();
          if (Character.isHighSurrogate(u)
              && pos + 1 < h.length
              && h[pos] == '\\'
              && h[pos + 1] == 'u') {
            pos += 2;
            char low = readHex4();
            if (!Character.isLowSurrogate(low)) {
              throw unpairedSurrogate(escapeStart);
            }
            b.append(u).append(low);
          } else if (Character.isSurrogate(u)) {
            throw unpairedSurrogate(escapeStart);
          } else {
            b.append(u);
          }
          runStart = pos;
          continue;
        }
        default -> throw syntax("one of the escapes \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u");
      }
      pos++;
      runStart = pos;
    }
  }

  private char readHex4() throws SafetensorsException {
    int v = 0;
    for (int i = 0; i < 4; i++) {
      int d = pos < h.length ? Character.digit(h[pos], 16) : -1;
      if (d < 0) {
        throw syntax("a hexadecimal digit");
      }
      v = (v << 4) | d;
      pos++;
    }
    return (char) v;
  }

  /**
   * Reads a JSON number at pos and returns it as a non-negative long. Messages name the value as
   * {@code <ctx><field>[<index>]}, e.g. "tensor 'w': shape[2]".
   */
  private long readNonNegativeInteger(String ctx, String field, int index)
      throws SafetensorsException {
    if (pos >= h.length || !(h[pos] == '-' || isDigit(h[pos]))) {
      throw fail(
          ctx + field + "[" + index + "] must be a non-negative integer, found " + describeValue());
    }
    int start = pos;
    boolean integral = true;
    if (h[pos] == '-') {
      integral = false;
      pos++;
    }
    if (at('0')) {
      pos++;
    } else if (pos < h.length && isDigit(h[pos])) {
      while (pos < h.length && isDigit(h[pos])) {
        pos++;
      }
    } else {
      throw syntax("a digit");
    }
    if (at('.')) {
      integral = false;
      pos++;
      if (!(pos < h.length && isDigit(h[pos]))) {
        throw syntax("a digit after the decimal point");
      }
      while (pos < h.length && isDigit(h[pos])) {
        pos++;
      }
    }
    if (at('e') || at('E')) {
      integral = false;
      pos++;
      if (at('+') || at('-')) {
        pos++;
      }
      if (!(pos < h.length && isDigit(h[pos]))) {
        throw syntax("a digit in the exponent");
      }
      while (pos < h.length && isDigit(h[pos])) {
        pos++;
      }
    }
    // The literal is plain ASCII (sign, digits, '.', 'e', '+'); only its length needs bounding.
    String literal = new String(h, start, Math.min(pos - start, 40), StandardCharsets.US_ASCII);
    if (pos - start > 40) {
      literal += "...";
    }
    if (!integral) {
      throw fail(ctx + field + "[" + index + "] must be a non-negative integer, found " + literal);
    }
    long v = 0;
    for (int i = start; i < pos; i++) {
      try {
        v = Math.addExact(Math.multiplyExact(v, 10L), h[i] - '0');
      } catch (ArithmeticException tooLarge) {
        throw fail(
            ctx + field + "[" + index + "] = " + literal + " is larger than " + Long.MAX_VALUE);
      }
    }
    return v;
  }

  private static boolean isDigit(byte b) {
    return b >= '0' && b <= '9';
  }

  // ---- header grammar

  private void parseTopLevel() throws SafetensorsException {
    if (h.length == 0) {
      throw fail("header is empty; it must be a JSON object");
    }
    if (h[0] != '{') {
      String what =
          switch (h[0]) {
            case '[' -> " (a JSON array)";
            case '"' -> " (a JSON string)";
            case 't', 'f' -> " (a JSON boolean)";
            case 'n' -> " (JSON null)";
            case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9' -> " (a JSON number)";
            case ' ', '\t', '\n', '\r' -> " (leading whitespace is not allowed)";
            default -> "";
          };
      throw fail(
          "header must be a JSON object starting with '{' but starts with "
              + describeByte()
              + what);
    }
    pos = 1;
    skipWhitespace();
    if (at('}')) {
      pos++;
    } else {
      while (true) {
        skipWhitespace();
        if (!at('"')) {
          throw syntax("a string key");
        }
        String key = readString();
        skipWhitespace();
        expect(':');
        skipWhitespace();
        if (key.equals(METADATA_KEY)) {
          if (sawMetadata) {
            throw fail("header has a duplicate '" + METADATA_KEY + "' key");
          }
          sawMetadata = true;
          parseMetadata();
        } else {
          parseTensor(key);
        }
        skipWhitespace();
        if (at(',')) {
          pos++;
        } else if (at('}')) {
          pos++;
          break;
        } else {
          throw syntax("',' or '}'");
        }
      }
    }
    // The Python library pads the header with spaces to a multiple of 8 bytes.
    skipWhitespace();
    if (pos != h.length) {
      throw syntax("only whitespace after the header object");
    }
  }

  private void parseMetadata() throws SafetensorsException {
    if (!at('{')) {
      throw fail(METADATA_KEY + " must be an object of strings, found " + describeValue());
    }
    pos++;
    skipWhitespace();
    if (at('}')) {
      pos++;
      return;
    }
    while (true) {
      skipWhitespace();
      if (!at('"')) {
        throw syntax("a string key");
      }
      String key = readString();
      skipWhitespace();
      expect(':');
      skipWhitespace();
      if (metadata.containsKey(key)) {
        throw fail(METADATA_KEY + " has a duplicate key " + Names.quote(key));
      }
      if (metadata.size() >= MAX_METADATA_ENTRIES) {
        throw fail(METADATA_KEY + " has more than " + MAX_METADATA_ENTRIES + " entries");
      }
      if (!at('"')) {
        throw fail(
            METADATA_KEY
                + " value for key "
                + Names.quote(key)
                + " must be a string, found "
                + describeValue());
      }
      metadata.put(key, readString());
      skipWhitespace();
      if (at(',')) {
        pos++;
      } else if (at('}')) {
        pos++;
        return;
      } else {
        throw syntax("',' or '}'");
      }
    }
  }

  private void parseTensor(String name) throws SafetensorsException {
    if (name.isEmpty()) {
      throw fail("tensor name is empty");
    }
    long nameBytes = Names.utf8Length(name);
    if (nameBytes > MAX_NAME_BYTES) {
      throw fail(
          "tensor name "
              + Names.quote(name)
              + " is "
              + nameBytes
              + " bytes long; the limit is "
              + MAX_NAME_BYTES);
    }
    if (!names.add(name)) {
      throw fail("duplicate tensor name " + Names.quote(name));
    }
    if (tensors.size() >= MAX_TENSORS) {
      throw fail("header declares more than " + MAX_TENSORS + " tensors");
    }
    String ctx = "tensor " + Names.quote(name) + ": ";
    if (!at('{')) {
      throw fail(ctx + "entry must be an object, found " + describeValue());
    }
    pos++;
    DType dtype = null;
    long[] shape = null;
    long[] offsets = null;
    skipWhitespace();
    if (at('}')) {
      pos++;
    } else {
      while (true) {
        skipWhitespace();
        if (!at('"')) {
          throw syntax("a string key");
        }
        String field = readString();
        skipWhitespace();
        expect(':');
        skipWhitespace();
        switch (field) {
          case "dtype" -> {
            if (dtype != null) {
              throw fail(ctx + "duplicate field 'dtype'");
            }
            if (!at('"')) {
              throw fail(ctx + "dtype must be a string, found " + describeValue());
            }
            String s = readString();
            dtype = DType.lookup(s);
            if (dtype == null) {
              throw fail(ctx + DType.unsupported(s));
            }
          }
          case "shape" -> {
            if (shape != null) {
              throw fail(ctx + "duplicate field 'shape'");
            }
            shape = readIntegerList(ctx, "shape", MAX_RANK);
          }
          case "data_offsets" -> {
            if (offsets != null) {
              throw fail(ctx + "duplicate field 'data_offsets'");
            }
            offsets = readIntegerList(ctx, "data_offsets", -1);
          }
          default ->
              throw fail(
                  ctx
                      + "unknown field "
                      + Names.quote(field)
                      + " (allowed: dtype, shape, data_offsets)");
        }
        skipWhitespace();
        if (at(',')) {
          pos++;
        } else if (at('}')) {
          pos++;
          break;
        } else {
          throw syntax("',' or '}'");
        }
      }
    }
    if (dtype == null) {
      throw fail(ctx + "missing field 'dtype'");
    }
    if (shape == null) {
      throw fail(ctx + "missing field 'shape'");
    }
    if (offsets == null) {
      throw fail(ctx + "missing field 'data_offsets'");
    }
    long begin = offsets[0];
    long end = offsets[1];
    if (begin > end) {
      throw fail(ctx + "data_offsets [" + begin + ", " + end + "] begin after they end");
    }
    if (TensorInfo.elementCountOf(shape) < 0) {
      throw fail(ctx + "element count of shape " + Names.shape(shape) + " overflows 64 bits");
    }
    long bytes = TensorInfo.byteSizeOf(shape, dtype);
    if (bytes < 0) {
      throw fail(
          ctx + "byte size of shape " + Names.shape(shape) + " x " + dtype + " overflows 64 bits");
    }
    if (bytes != end - begin) {
      throw fail(
          ctx
              + "shape "
              + Names.shape(shape)
              + " x "
              + dtype
              + " needs "
              + bytes
              + " bytes but data_offsets span "
              + (end - begin));
    }
    tensors.add(new TensorInfo(name, dtype, shape, begin, end));
  }

  /**
   * Reads a list of non-negative integers. With {@code maxLength >= 0} (a shape) the list may have
   * up to that many entries; with -1 (data_offsets) it must have exactly two.
   */
  private long[] readIntegerList(String ctx, String field, int maxLength)
      throws SafetensorsException {
    if (!at('[')) {
      throw fail(
          ctx + field + " must be a list of non-negative integers, found " + describeValue());
    }
    pos++;
    long[] values = new long[maxLength >= 0 ? maxLength : 2];
    int count = 0;
    skipWhitespace();
    if (at(']')) {
      pos++;
    } else {
      while (true) {
        skipWhitespace();
        if (maxLength >= 0 && count == maxLength) {
          throw fail(ctx + field + " has more than " + maxLength + " dimensions");
        }
        long v = readNonNegativeInteger(ctx, field, count);
        if (count < values.length) {
          values[count] = v;
        }
        count++;
        skipWhitespace();
        if (at(',')) {
          pos++;
        } else if (at(']')) {
          pos++;
          break;
        } else {
          throw syntax("',' or ']'");
        }
      }
    }
    if (maxLength < 0 && count != 2) {
      throw fail(
          ctx
              + field
              + " must be [begin, end] but has "
              + count
              + (count == 1 ? " entry" : " entries"));
    }
    return maxLength < 0 ? values : Arrays.copyOf(values, count);
  }

  // ---- layout

  private SafetensorsException layoutError(TensorInfo t, String detail) {
    return fail(
        "tensor "
            + Names.quote(t.name())
            + ": data_offsets ["
            + t.begin()
            + ", "
            + t.end()
            + "] "
            + detail);
  }

  private void checkLayout(long dataSize) throws SafetensorsException {
    tensors.sort(BY_OFFSETS);
    long covered = 0;
    TensorInfo previous = null;
    for (TensorInfo t : tensors) {
      if (previous == null && t.begin() != 0) {
        throw layoutError(t, "do not start at 0, where the first tensor must begin");
      }
      if (t.begin() > covered) {
        throw layoutError(
            t,
            "leave a gap of "
                + (t.begin() - covered)
                + " bytes after tensor "
                + Names.quote(previous.name())
                + ", which ends at "
                + covered);
      }
      if (t.begin() < covered) {
        throw layoutError(
            t, "overlap tensor " + Names.quote(previous.name()) + ", which ends at " + covered);
      }
      if (t.end() > dataSize) {
        throw layoutError(t, "extend past the end of the " + dataSize + "-byte data area");
      }
      covered = t.end();
      previous = t;
    }
    if (covered != dataSize) {
      throw fail(
          "data area is "
              + dataSize
              + " bytes but the tensors cover only "
              + covered
              + " ("
              + (dataSize - covered)
              + " trailing bytes)");
    }
  }
}
