package dev.sampler.integrity.safetensors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The golden safetensors corpus: every {@code error_<reason>.safetensors} with the exact message it
 * must be rejected with, and every {@code valid_*.safetensors} with a summary of what it must parse
 * to. The committed files under {@code src/test/resources/safetensors/} are this class's output
 * (regenerate with {@code main}); {@code SafetensorsCorpusTest} checks that they have not drifted.
 * Files too large to commit are marked and only built in memory.
 */
final class SafetensorsCorpus {
  /**
   * One corpus file.
   *
   * @param file file name
   * @param bytes the whole file
   * @param expected for error files the message after "{@code <path>: }"; for valid files the
   *     {@link #summary} of the parsed file
   * @param committed whether the file is committed (false: too large, built in memory)
   */
  record Case(String file, byte[] bytes, String expected, boolean committed) {
    boolean isError() {
      return file.startsWith("error_");
    }
  }

  private SafetensorsCorpus() {}

  /** Writes the committed corpus files into {@code args[0]} (default: the test resources). */
  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args.length > 0 ? args[0] : "integrity/src/test/resources/safetensors");
    Files.createDirectories(dir);
    for (Case c : all()) {
      if (c.committed()) {
        Files.write(dir.resolve(c.file()), c.bytes());
      }
    }
  }

  static List<Case> all() {
    List<Case> all = new ArrayList<>(errors());
    all.addAll(valid());
    return all;
  }

  /** One line per tensor, "name dtype shape [begin, end]", then the metadata map. */
  static String summary(SafetensorsFile f) {
    StringBuilder b = new StringBuilder();
    for (TensorInfo t : f.tensors()) {
      b.append(t.name())
          .append(' ')
          .append(t.dtype())
          .append(' ')
          .append(Arrays.toString(t.shape()))
          .append(" [")
          .append(t.begin())
          .append(", ")
          .append(t.end())
          .append("]; ");
    }
    return b.append("metadata=").append(f.metadata()).toString();
  }

  // ---- builders

  /**
   * A file whose length field matches {@code header} exactly, followed by {@code dataBytes} zeros.
   */
  static byte[] file(String header, int dataBytes) {
    return file(header.getBytes(StandardCharsets.UTF_8), dataBytes);
  }

  static byte[] file(byte[] header, int dataBytes) {
    return withLength(header.length, header, dataBytes);
  }

  /** A length field of {@code declared}, then {@code header}, then {@code dataBytes} zeros. */
  static byte[] withLength(long declared, byte[] header, int dataBytes) {
    ByteBuffer b =
        ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(declared).put(header);
    return b.array();
  }

  /** A header tensor entry: {@code "name":{"dtype":..,"shape":[..],"data_offsets":[b,e]}}. */
  static String t(String name, String dtype, String shape, long begin, long end) {
    return "\"%s\":{\"dtype\":\"%s\",\"shape\":%s,\"data_offsets\":[%d,%d]}"
        .formatted(name, dtype, shape, begin, end);
  }

  static String obj(String... entries) {
    return "{" + String.join(",", entries) + "}";
  }

  private static byte[] bytes(int... values) {
    byte[] b = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      b[i] = (byte) values[i];
    }
    return b;
  }

  private static byte[] concat(String a, byte[] b, String c) {
    byte[] x = a.getBytes(StandardCharsets.UTF_8);
    byte[] z = c.getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[x.length + b.length + z.length];
    System.arraycopy(x, 0, out, 0, x.length);
    System.arraycopy(b, 0, out, x.length, b.length);
    System.arraycopy(z, 0, out, x.length + b.length, z.length);
    return out;
  }

  private static Case error(String reason, byte[] bytes, String expected) {
    return new Case("error_" + reason + ".safetensors", bytes, expected, true);
  }

  private static Case valid(String name, byte[] bytes, String expected) {
    return new Case("valid_" + name + ".safetensors", bytes, expected, true);
  }

  // ---- the corpus

  static List<Case> errors() {
    String a4 = t("a", "F32", "[1]", 0, 4);
    List<Case> c = new ArrayList<>();
    // File framing.
    c.add(
        error(
            "empty_file",
            new byte[0],
            "file is empty; a safetensors file starts with an 8-byte header length"));
    c.add(
        error(
            "shorter_than_8_bytes",
            bytes(2, 0, 0, 0, 0),
            "file is 5 bytes long, too short for the 8-byte header length"));
    c.add(
        error(
            "header_length_too_large",
            withLength(100_000_001L, "{}".getBytes(StandardCharsets.US_ASCII), 0),
            "header length 100000001 exceeds the limit of 100000000 bytes"));
    c.add(
        error(
            "header_length_u64_max",
            withLength(-1L, "{}".getBytes(StandardCharsets.US_ASCII), 0),
            "header length 18446744073709551615 exceeds the limit of 100000000 bytes"));
    c.add(
        error(
            "header_length_beyond_file_end",
            withLength(4096, "{}".getBytes(StandardCharsets.US_ASCII), 0),
            "header length 4096 exceeds the 2 bytes after the length field"));
    c.add(
        error(
            "header_length_zero",
            withLength(0, new byte[0], 0),
            "header is empty; it must be a JSON object"));
    // Encoding and JSON syntax.
    c.add(
        error(
            "invalid_utf8",
            file(concat("{\"a", bytes(0xff), "\":{}}"), 0),
            "header is not valid UTF-8: malformed sequence at byte 3 of the header"));
    c.add(
        error(
            "utf8_overlong_encoding",
            file(concat("{\"", bytes(0xc0, 0xaf), "\":{}}"), 0),
            "header is not valid UTF-8: malformed sequence at byte 2 of the header"));
    c.add(
        error(
            "utf8_encoded_surrogate",
            file(concat("{\"", bytes(0xed, 0xa0, 0x80), "\":{}}"), 0),
            "header is not valid UTF-8: malformed sequence at byte 2 of the header"));
    c.add(
        error(
            "utf8_truncated_sequence",
            file(concat("{\"a\":{}}  ", bytes(0xe2, 0x82), ""), 0),
            "header is not valid UTF-8: malformed sequence at byte 10 of the header"));
    c.add(
        error(
            "not_json",
            file("{\"a\"}", 0),
            "header is not valid JSON at byte 4 of the header: expected ':', found '}'"));
    c.add(
        error(
            "not_json_plain_text",
            file("hello", 0),
            "header must be a JSON object starting with '{' but starts with 'h'"));
    c.add(
        error(
            "not_json_bad_literal",
            file("{\"a\": {\"dtype\": F32}}", 0),
            "header is not valid JSON at byte 16 of the header: expected a JSON value, found 'F'"));
    c.add(
        error(
            "not_json_unterminated_object",
            file("{" + a4, 4),
            "header is not valid JSON at byte 53 of the header: expected ',' or '}', found the end"
                + " of the header"));
    c.add(
        error(
            "not_json_unterminated_string",
            file("{\"abc", 0),
            "header is not valid JSON at byte 5 of the header: expected the end of a string ('\"'),"
                + " found the end of the header"));
    c.add(
        error(
            "not_json_trailing_comma",
            file("{" + a4 + ",}", 4),
            "header is not valid JSON at byte 54 of the header: expected a string key, found '}'"));
    c.add(
        error(
            "not_json_leading_zero",
            file(obj(t("a", "F32", "[01]", 0, 4)), 4),
            "header is not valid JSON at byte 30 of the header: expected ',' or ']', found '1'"));
    c.add(
        error(
            "not_json_control_char_in_name",
            file("{\"a\nb\":{}}", 0),
            "header is not valid JSON at byte 3 of the header: expected an escape sequence instead"
                + " of a raw control character in a string, found byte 0x0a"));
    c.add(
        error(
            "not_json_bad_escape",
            file("{\"a\\x\":{}}", 0),
            "header is not valid JSON at byte 4 of the header: expected one of the escapes \\\""
                + " \\\\ \\/ \\b \\f \\n"
                + " \\r"
                + " \\t \\u, found 'x'"));
    c.add(
        error(
            "not_json_unpaired_surrogate_escape",
            file("{\"a\\ud800\":{}}", 0),
            "header is not valid JSON at byte 3 of the header: a \\u escape encodes an unpaired"
                + " surrogate"));
    c.add(
        error(
            "not_json_content_after_object",
            file("{} {}", 0),
            "header is not valid JSON at byte 3 of the header: expected only whitespace after the"
                + " header object, found '{'"));
    c.add(
        error(
            "not_json_nul_padding",
            file("{}\0\0\0\0\0\0", 0),
            "header is not valid JSON at byte 2 of the header: expected only whitespace after the"
                + " header object, found byte 0x00"));
    c.add(
        error(
            "json_not_an_object",
            file("[1, 2]", 0),
            "header must be a JSON object starting with '{' but starts with '[' (a JSON array)"));
    c.add(
        error(
            "json_string_not_an_object",
            file("\"{}\"", 0),
            "header must be a JSON object starting with '{' but starts with '\"' (a JSON string)"));
    c.add(
        error(
            "header_not_starting_with_brace",
            file(" {}", 0),
            "header must be a JSON object starting with '{' but starts with byte 0x20 (leading"
                + " whitespace is not allowed)"));
    c.add(
        error(
            "header_starts_with_bom",
            file(concat("", bytes(0xef, 0xbb, 0xbf), "{}"), 0),
            "header must be a JSON object starting with '{' but starts with byte 0xef"));
    // Header structure.
    c.add(
        error(
            "duplicate_tensor_name",
            file(obj(a4, t("a", "F32", "[1]", 4, 8)), 8),
            "duplicate tensor name 'a'"));
    c.add(
        error(
            "duplicate_metadata_key",
            file("{\"__metadata__\":{},\"__metadata__\":{}}", 0),
            "header has a duplicate '__metadata__' key"));
    c.add(
        error(
            "duplicate_metadata_entry",
            file("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0),
            "__metadata__ has a duplicate key 'k'"));
    c.add(
        error(
            "metadata_value_not_a_string",
            file("{\"__metadata__\":{\"epochs\":3}}", 0),
            "__metadata__ value for key 'epochs' must be a string, found a number"));
    c.add(
        error(
            "metadata_not_an_object",
            file("{\"__metadata__\":[\"a\"]}", 0),
            "__metadata__ must be an object of strings, found an array"));
    c.add(
        error(
            "tensor_entry_not_an_object",
            file("{\"a\":[0,4]}", 4),
            "tensor 'a': entry must be an object, found an array"));
    c.add(
        error(
            "unknown_field_in_tensor_entry",
            file(
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"offset\":0}}", 4),
            "tensor 'a': unknown field 'offset' (allowed: dtype, shape, data_offsets)"));
    c.add(
        error(
            "missing_field",
            file("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4),
            "tensor 'a': missing field 'shape'"));
    c.add(
        error(
            "duplicate_field",
            file(
                "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                4),
            "tensor 'a': duplicate field 'dtype'"));
    c.add(
        error(
            "unknown_dtype",
            file(obj(t("a", "F64", "[1]", 0, 8)), 8),
            "tensor 'a': unsupported dtype 'F64' (supported: F32, F16, BF16, I64)"));
    c.add(
        error(
            "dtype_lowercase",
            file(obj(t("a", "f32", "[1]", 0, 4)), 4),
            "tensor 'a': unsupported dtype 'f32' (supported: F32, F16, BF16, I64)"));
    c.add(
        error(
            "dtype_not_a_string",
            file("{\"a\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
            "tensor 'a': dtype must be a string, found a number"));
    c.add(
        error(
            "shape_not_a_list",
            file(obj(t("a", "F32", "4", 0, 16)), 16),
            "tensor 'a': shape must be a list of non-negative integers, found a number"));
    c.add(
        error(
            "negative_shape_entry",
            file(obj(t("a", "F32", "[2, -1]", 0, 4)), 4),
            "tensor 'a': shape[1] must be a non-negative integer, found -1"));
    c.add(
        error(
            "non_integer_shape_entry",
            file(obj(t("a", "F32", "[2.5]", 0, 10)), 10),
            "tensor 'a': shape[0] must be a non-negative integer, found 2.5"));
    c.add(
        error(
            "exponent_shape_entry",
            file(obj(t("a", "F32", "[1e1]", 0, 40)), 40),
            "tensor 'a': shape[0] must be a non-negative integer, found 1e1"));
    c.add(
        error(
            "string_shape_entry",
            file(obj(t("a", "F32", "[\"4\"]", 0, 16)), 16),
            "tensor 'a': shape[0] must be a non-negative integer, found a string"));
    c.add(
        error(
            "shape_entry_too_large",
            file(obj(t("a", "F32", "[9223372036854775808]", 0, 0)), 0),
            "tensor 'a': shape[0] = 9223372036854775808 is larger than 9223372036854775807"));
    c.add(
        error(
            "shape_rank_too_large",
            file(obj(t("a", "F32", "[" + "1,".repeat(64) + "1]", 0, 4)), 4),
            "tensor 'a': shape has more than 64 dimensions"));
    c.add(
        error(
            "shape_product_overflow",
            file(obj(t("a", "F32", "[4294967296, 4294967296, 0]", 0, 0)), 0),
            "tensor 'a': element count of shape [4294967296, 4294967296, 0] overflows 64 bits"));
    c.add(
        error(
            "byte_size_overflow",
            file(obj(t("a", "F32", "[4611686018427387904]", 0, 0)), 0),
            "tensor 'a': byte size of shape [4611686018427387904] x F32 overflows 64 bits"));
    c.add(
        error(
            "data_offsets_one_entry",
            file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4]}}", 4),
            "tensor 'a': data_offsets must be [begin, end] but has 1 entry"));
    c.add(
        error(
            "data_offsets_three_entries",
            file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 8),
            "tensor 'a': data_offsets must be [begin, end] but has 3 entries"));
    c.add(
        error(
            "negative_data_offset",
            file(obj(t("a", "F32", "[1]", 0, 4)).replace("[0,4]", "[-4,0]"), 4),
            "tensor 'a': data_offsets[0] must be a non-negative integer, found -4"));
    c.add(
        error(
            "begin_after_end",
            file(obj(t("a", "F32", "[1]", 8, 4)), 8),
            "tensor 'a': data_offsets [8, 4] begin after they end"));
    c.add(
        error(
            "size_mismatch",
            file(obj(t("conv_in.weight", "F32", "[32, 3, 3, 3]", 0, 3452)), 3452),
            "tensor 'conv_in.weight': shape [32, 3, 3, 3] x F32 needs 3456 bytes but data_offsets"
                + " span 3452"));
    // Layout of the data area.
    c.add(
        error(
            "gap_between_tensors",
            file(obj(a4, t("b", "F32", "[1]", 8, 12)), 12),
            "tensor 'b': data_offsets [8, 12] leave a gap of 4 bytes after tensor 'a', which ends"
                + " at 4"));
    c.add(
        error(
            "overlapping_tensors",
            file(obj(t("a", "F32", "[2]", 0, 8), t("b", "F32", "[2]", 4, 12)), 12),
            "tensor 'b': data_offsets [4, 12] overlap tensor 'a', which ends at 8"));
    c.add(
        error(
            "aliased_tensors",
            file(obj(a4, t("b", "F32", "[1]", 0, 4)), 4),
            "tensor 'b': data_offsets [0, 4] overlap tensor 'a', which ends at 4"));
    c.add(
        error(
            "first_tensor_not_at_zero",
            file(obj(t("a", "F32", "[1]", 4, 8)), 8),
            "tensor 'a': data_offsets [4, 8] do not start at 0, where the first tensor must"
                + " begin"));
    c.add(
        error(
            "trailing_bytes_after_last_tensor",
            file(obj(a4), 12),
            "data area is 12 bytes but the tensors cover only 4 (8 trailing bytes)"));
    c.add(
        error(
            "data_without_tensors",
            file("{}", 8),
            "data area is 8 bytes but the tensors cover only 0 (8 trailing bytes)"));
    c.add(
        error(
            "data_area_shorter_than_claimed",
            file(obj(a4, t("b", "F32", "[4]", 4, 20)), 12),
            "tensor 'b': data_offsets [4, 20] extend past the end of the 12-byte data area"));
    // Limits and names.
    c.add(error("empty_name", file(obj(t("", "F32", "[1]", 0, 4)), 4), "tensor name is empty"));
    c.add(
        error(
            "name_too_long",
            file(obj(t("w".repeat(1025), "F32", "[1]", 0, 4)), 4),
            "tensor name '" + "w".repeat(64) + "...' is 1025 bytes long; the limit is 1024"));
    c.add(
        error(
            "name_with_control_characters",
            file(
                obj(
                    t("a\\u001b[2J\\u202eb", "F32", "[1]", 0, 4),
                    t("a\\u001b[2J\\u202eb", "F32", "[1]", 4, 8)),
                8),
            "duplicate tensor name 'a\\u001b[2J\\u202eb'"));
    StringBuilder many = new StringBuilder("{");
    for (int i = 0; i <= HeaderParser.MAX_TENSORS; i++) {
      many.append(i == 0 ? "" : ",").append(t(Integer.toString(i, 36), "F32", "[0]", 0, 0));
    }
    c.add(
        new Case(
            "error_too_many_tensors.safetensors",
            file(many.append('}').toString(), 0),
            "header declares more than 100000 tensors",
            false));
    return c;
  }

  static List<Case> valid() {
    List<Case> c = new ArrayList<>();
    c.add(valid("zero_tensors", file("{}      ", 0), "metadata={}"));
    c.add(
        valid(
            "metadata_only",
            SafetensorsWriter.create().metadata("format", "pt").toBytes(),
            "metadata={format=pt}"));
    c.add(valid("scalar", file(obj(t("s", "F32", "[]", 0, 4)), 4), "s F32 [] [0, 4]; metadata={}"));
    c.add(
        valid(
            "zero_size_tensor",
            file(obj(t("e", "F16", "[0]", 0, 0)), 0),
            "e F16 [0] [0, 0]; metadata={}"));
    c.add(
        valid(
            "zero_size_tensors_between",
            file(
                obj(
                    t("z", "I64", "[3, 0]", 4, 4),
                    t("a", "F32", "[1]", 0, 4),
                    t("y", "BF16", "[0]", 4, 4),
                    t("b", "BF16", "[2]", 4, 8)),
                8),
            "a F32 [1] [0, 4]; y BF16 [0] [4, 4]; z I64 [3, 0] [4, 4]; b BF16 [2] [4, 8];"
                + " metadata={}"));
    c.add(
        valid(
            "unsorted_header_entries",
            file(obj(t("late", "F32", "[1]", 8, 12), t("early", "I64", "[1]", 0, 8)), 12),
            "early I64 [1] [0, 8]; late F32 [1] [8, 12]; metadata={}"));
    c.add(
        valid(
            "whitespace_everywhere",
            file(
                "{ \"a\" :\n"
                    + " {\t\"shape\" : [ 2 , 1 ] , \"data_offsets\" : [ 0 , 8 ] , \"dtype\" :"
                    + " \"F32\" } }  \n"
                    + "\t \r"
                    + " ",
                8),
            "a F32 [2, 1] [0, 8]; metadata={}"));
    c.add(
        valid(
            "escaped_and_unicode_names",
            file(
                obj(
                    t("\\u00e9t\\u00e9/\\ud83d\\ude00\\\"q\\\"", "F32", "[1]", 0, 4),
                    t("日本.weight", "F32", "[1]", 4, 8)),
                8),
            "été/\uD83D\uDE00\"q\" F32 [1] [0, 4]; 日本.weight F32 [1] [4, 8]; metadata={}"));
    c.add(
        valid(
            "all_dtypes",
            SafetensorsWriter.create()
                .metadata("format", "pt")
                .addF32("f32", new long[] {2, 2}, new float[] {1f, -2f, 0.5f, Float.MAX_VALUE})
                .addF16("f16", new long[] {3}, new float[] {1f, -0.000061035156f, 65504f})
                .addBF16("bf16", new long[] {1, 2}, new float[] {1f, -3.0e38f})
                .addI64("i64", new long[] {2}, new long[] {Long.MIN_VALUE, 42})
                .toBytes(),
            "bf16 BF16 [1, 2] [0, 4]; f16 F16 [3] [4, 10]; f32 F32 [2, 2] [10, 26]; i64 I64 [2]"
                + " [26, 42]; metadata={format=pt}"));
    return c;
  }
}
