package dev.sampler.attestation.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;

/**
 * Strict JSON and base64 codecs shared by this module's packages. Internal: nothing outside
 * sampler-attestation may import it.
 */
public final class Codec {
  /**
   * The one mapper: duplicate member names and trailing content are errors (a JSON text with two
   * {@code "nonce"} members must not mean one thing to us and another to the broker).
   */
  public static final ObjectMapper JSON =
      JsonMapper.builder()
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();

  private Codec() {}

  /** Parses JSON text; empty if it is not exactly one well-formed JSON value. */
  public static Optional<JsonNode> parse(String text) {
    try {
      JsonNode node = JSON.readTree(text);
      return node == null || node.isMissingNode() ? Optional.empty() : Optional.of(node);
    } catch (JsonProcessingException e) {
      return Optional.empty();
    }
  }

  /** Parses JSON bytes (UTF-8); empty if they are not exactly one well-formed JSON value. */
  public static Optional<JsonNode> parse(byte[] bytes) {
    try {
      JsonNode node = JSON.readTree(bytes);
      return node == null || node.isMissingNode() ? Optional.empty() : Optional.of(node);
    } catch (java.io.IOException e) {
      return Optional.empty();
    }
  }

  /** Compact JSON text (Jackson's default writer: no whitespace, members in insertion order). */
  public static String write(JsonNode node) {
    try {
      return JSON.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("JSON tree did not serialize", e);
    }
  }

  /** base64url without padding (RFC 7515 section 2). */
  public static String b64url(byte[] bytes) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /**
   * Decodes base64url without padding, canonical only (the re-encoding must equal the input, so
   * stray bits or padding are refused); empty if {@code s} is not such a string.
   */
  public static Optional<byte[]> fromB64url(String s) {
    if (s == null || !s.chars().allMatch(Codec::isUrlChar)) {
      return Optional.empty();
    }
    try {
      byte[] b = Base64.getUrlDecoder().decode(s);
      return b64url(b).equals(s) ? Optional.of(b) : Optional.empty();
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /** Standard base64 with padding (RFC 4648 section 4). */
  public static String b64(byte[] bytes) {
    return Base64.getEncoder().encodeToString(bytes);
  }

  /** Decodes canonical standard base64 with padding; empty if {@code s} is not such a string. */
  public static Optional<byte[]> fromB64(String s) {
    if (s == null) {
      return Optional.empty();
    }
    try {
      byte[] b = Base64.getDecoder().decode(s);
      return b64(b).equals(s) ? Optional.of(b) : Optional.empty();
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /** Zeroes {@code b} if it is not null. */
  public static void wipe(byte[] b) {
    if (b != null) {
      Arrays.fill(b, (byte) 0);
    }
  }

  private static boolean isUrlChar(int c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  }
}
