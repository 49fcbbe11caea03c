package dev.sampler.integrity.sealed;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The SHA-256 digests an {@link Unsealer} checks the plaintext against while it decrypts: none,
 * one digest of the whole file, or shards that tile the file exactly (sorted, no gap, no overlap,
 * together covering every byte, so nothing goes unchecked). Built from what a signed manifest
 * holds: a lower- or upper-case hex digest, or (start, end, hex digest) triples.
 *
 * <p>A plan that is malformed in itself (bad hex, negative or unsorted ranges) is a caller bug and
 * throws {@link IllegalArgumentException} here; a plan that does not fit the file (it covers
 * another size) is an {@link dev.sampler.integrity.IntegrityException} at unseal time.
 */
public sealed interface DigestPlan permits DigestPlan.None, DigestPlan.WholeFile, DigestPlan.Sharded {

  /** No digest: authenticated decryption only. */
  static DigestPlan none() {
    return None.INSTANCE;
  }

  /**
   * One SHA-256 over the whole plaintext.
   *
   * @throws IllegalArgumentException if {@code sha256Hex} is not 64 hex digits
   */
  static DigestPlan wholeFile(String sha256Hex) {
    return new WholeFile(sha256Hex);
  }

  /**
   * SHA-256 per shard; the shards must be sorted and contiguous from 0. An empty list stands for
   * an empty file (model signing lists no shards for one).
   *
   * @throws IllegalArgumentException if the shards do not follow each other without gap or overlap
   */
  static DigestPlan shards(List<Shard> shards) {
    return new Sharded(shards);
  }

  /** The plan that checks nothing. */
  record None() implements DigestPlan {
    static final None INSTANCE = new None();
  }

  /**
   * One digest of the whole plaintext.
   *
   * @param sha256Hex 64 hex digits (stored lower-case)
   */
  record WholeFile(String sha256Hex) implements DigestPlan {
    /** Validates and normalizes the digest. */
    public WholeFile {
      sha256Hex = checkHex(sha256Hex, "sha256Hex");
    }

    byte[] digest() {
      return HexFormat.of().parseHex(sha256Hex);
    }
  }

  /**
   * One shard: plaintext bytes {@code [start, end)} and their SHA-256.
   *
   * @param start first byte, inclusive, {@code >= 0}
   * @param end last byte, exclusive, {@code >= start}
   * @param sha256Hex 64 hex digits (stored lower-case)
   */
  record Shard(long start, long end, String sha256Hex) {
    /** Validates the range and normalizes the digest. */
    public Shard {
      if (start < 0 || end < start) {
        throw new IllegalArgumentException(
            "shard range must satisfy 0 <= start <= end, got [" + start + ", " + end + ")");
      }
      sha256Hex = checkHex(sha256Hex, "shard [" + start + ", " + end + ") sha256Hex");
    }

    byte[] digest() {
      return HexFormat.of().parseHex(sha256Hex);
    }
  }

  /**
   * Shards that tile {@code [0, total())}.
   *
   * @param shards sorted, contiguous from 0; none for an empty file
   */
  record Sharded(List<Shard> shards) implements DigestPlan {
    /** Validates the tiling and copies the list. */
    public Sharded {
      Objects.requireNonNull(shards, "shards");
      List<Shard> copy = new ArrayList<>(shards.size());
      long next = 0;
      for (int i = 0; i < shards.size(); i++) {
        Shard s = Objects.requireNonNull(shards.get(i), "shard " + i);
        if (s.start() != next) {
          throw new IllegalArgumentException("shard " + i + " starts at " + s.start() + ", expected " + next
              + " (shards must be sorted and contiguous from 0)");
        }
        next = s.end();
        copy.add(s);
      }
      shards = List.copyOf(copy);
    }

    /** Bytes covered: the end of the last shard (0 without shards). */
    public long total() {
      return shards.isEmpty() ? 0 : shards.getLast().end();
    }
  }

  private static String checkHex(String hex, String what) {
    Objects.requireNonNull(hex, what);
    if (hex.length() != 64 || !hex.chars().allMatch(c -> Character.digit(c, 16) >= 0 && c < 128)) {
      throw new IllegalArgumentException(what + " must be 64 hex digits (a SHA-256), got " + hex.length() + " characters");
    }
    return hex.toLowerCase(Locale.ROOT);
  }
}
