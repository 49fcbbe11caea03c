package dev.sampler.server.engine;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Optional;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * The HMAC key seed commitments are made under, and a short public id for it: {@code file:<16 hex>}
 * for a key read from a file, {@code ephemeral:<16 hex>} for a random key drawn per process (its
 * commitments compare only within that run). The id is the first 8 bytes of SHA-256 over a domain
 * string and the key; it identifies the key without revealing it.
 *
 * @param key the HMAC-SHA256 key (at least 256 bits)
 * @param id the public id
 */
public record CommitmentKey(SecretKey key, String id) {
  private static final byte[] ID_DOMAIN = "dev.sampler/commitment-key-id/v1\0".getBytes(StandardCharsets.US_ASCII);

  /** Redacts the key. */
  @Override
  public String toString() {
    return "CommitmentKey[" + id + "]";
  }

  /**
   * Reads the key from {@code file} (hex, at least 64 digits), or draws a random 256-bit key when
   * {@code file} is empty.
   *
   * @throws IOException if the file cannot be read or is not such a key (the message shows no key
   *     material)
   */
  public static CommitmentKey load(Optional<Path> file) throws IOException {
    byte[] raw;
    String kind;
    if (file.isPresent()) {
      String hex = Files.readString(file.get(), StandardCharsets.US_ASCII).strip();
      if (hex.length() < 64 || hex.length() % 2 != 0 || !hex.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
        throw new IOException(file.get() + ": a commitment key must be at least 64 hex digits");
      }
      raw = HexFormat.of().parseHex(hex);
      kind = "file";
    } else {
      raw = new byte[32];
      new SecureRandom().nextBytes(raw);
      kind = "ephemeral";
    }
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(ID_DOMAIN);
      String id = kind + ":" + HexFormat.of().formatHex(md.digest(raw), 0, 8);
      return new CommitmentKey(new SecretKeySpec(raw, "HmacSHA256"), id);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    } finally {
      Arrays.fill(raw, (byte) 0);
    }
  }
}
