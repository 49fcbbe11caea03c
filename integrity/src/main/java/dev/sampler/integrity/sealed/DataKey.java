package dev.sampler.integrity.sealed;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;
import javax.security.auth.Destroyable;

/**
 * The 32-byte key that seals one model's weight files (the input keying material of the
 * AES256_GCM_HKDF_1MB format). It is a secret: it has no {@code equals}/{@code hashCode}
 * (compare with {@link #sameKeyAs}, constant time), {@link #toString} is redacted, reading the
 * bytes needs an {@link InsecureKeyAccess} token, and {@link #destroy}/{@link #close} zero them.
 * No message of this package ever contains key bytes.
 *
 * <p>Thread-safe. Using a destroyed key throws {@link IllegalStateException}.
 */
public final class DataKey implements Destroyable, AutoCloseable {
  /** Key length in bytes. */
  public static final int BYTES = SealedFormat.KEY_BYTES;

  private final byte[] key;
  private volatile boolean destroyed;

  private DataKey(byte[] key) {
    this.key = key;
  }

  /** A fresh random key from the platform's {@link SecureRandom}. */
  public static DataKey generate() {
    byte[] k = new byte[BYTES];
    new SecureRandom().nextBytes(k);
    return new DataKey(k);
  }

  /**
   * A key holding a copy of {@code bytes}; the caller should zero its array afterwards.
   *
   * @throws IllegalArgumentException if {@code bytes} is not 32 bytes long (the message gives only
   *     the length)
   */
  public static DataKey fromBytes(byte[] bytes) {
    Objects.requireNonNull(bytes, "bytes");
    if (bytes.length != BYTES) {
      throw new IllegalArgumentException("data key must be " + BYTES + " bytes, got " + bytes.length);
    }
    return new DataKey(bytes.clone());
  }

  /**
   * Parses the one-line form {@link #toBase64} writes: standard base64 (RFC 4648, with padding)
   * of the 32 bytes; surrounding whitespace (a trailing newline) is ignored.
   *
   * @throws IllegalArgumentException if it is not base64 of exactly 32 bytes (the message never
   *     echoes the input)
   */
  public static DataKey fromBase64(byte[] ascii) {
    Objects.requireNonNull(ascii, "ascii");
    int from = 0;
    int to = ascii.length;
    while (from < to && Character.isWhitespace(ascii[from])) {
      from++;
    }
    while (to > from && Character.isWhitespace(ascii[to - 1])) {
      to--;
    }
    byte[] trimmed = Arrays.copyOfRange(ascii, from, to);
    byte[] decoded = null;
    try {
      decoded = Base64.getDecoder().decode(trimmed);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "data key is not valid base64 (expected " + encodedLength() + " characters of RFC 4648 base64)");
    } finally {
      Arrays.fill(trimmed, (byte) 0);
    }
    try {
      return fromBytes(decoded);
    } finally {
      Arrays.fill(decoded, (byte) 0);
    }
  }

  /** As {@link #fromBase64(byte[])} for a string (which cannot be wiped afterwards). */
  public static DataKey fromBase64(String base64) {
    Objects.requireNonNull(base64, "base64");
    byte[] ascii = base64.getBytes(StandardCharsets.ISO_8859_1);
    try {
      return fromBase64(ascii);
    } finally {
      Arrays.fill(ascii, (byte) 0);
    }
  }

  /** Length of {@link #toBase64}'s output (44). */
  public static int encodedLength() {
    return 4 * ((BYTES + 2) / 3);
  }

  /** A copy of the 32 key bytes; zero it when done. */
  public byte[] copyBytes(InsecureKeyAccess access) {
    Objects.requireNonNull(access, "access");
    ensureLive();
    byte[] copy = key.clone();
    ensureLive(); // destroyed meanwhile: do not hand out zeros as a key
    return copy;
  }

  /** The key as base64 ASCII bytes without a newline (44 bytes); zero the array when done. */
  public byte[] toBase64(InsecureKeyAccess access) {
    byte[] raw = copyBytes(access);
    try {
      return Base64.getEncoder().encode(raw);
    } finally {
      Arrays.fill(raw, (byte) 0);
    }
  }

  /** Constant-time comparison of the key bytes (false if either key is destroyed). */
  public boolean sameKeyAs(DataKey other) {
    Objects.requireNonNull(other, "other");
    if (destroyed || other.destroyed) {
      return false;
    }
    return MessageDigest.isEqual(key, other.key);
  }

  /** Zeroes the key; idempotent. */
  @Override
  public void destroy() {
    destroyed = true;
    Arrays.fill(key, (byte) 0);
  }

  @Override
  public boolean isDestroyed() {
    return destroyed;
  }

  /** Same as {@link #destroy}. */
  @Override
  public void close() {
    destroy();
  }

  /** Never shows key material. */
  @Override
  public String toString() {
    return destroyed ? "DataKey[destroyed]" : "DataKey[redacted]";
  }

  private void ensureLive() {
    if (destroyed) {
      throw new IllegalStateException("data key has been destroyed");
    }
  }
}
