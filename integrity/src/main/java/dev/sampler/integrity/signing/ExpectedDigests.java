package dev.sampler.integrity.signing;

import java.util.List;

/**
 * What a verified manifest expects of one file: one whole-file digest, or the digests of its
 * shards.
 */
public sealed interface ExpectedDigests permits ExpectedDigests.WholeFile, ExpectedDigests.Sharded {

  /**
   * The file's SHA-256.
   *
   * @param sha256 lowercase hex
   */
  record WholeFile(String sha256) implements ExpectedDigests {}

  /**
   * The file's shards, in order, tiling {@code [0, size())} exactly.
   *
   * @param shardSize the manifest's shard size
   * @param shards each shard's range and SHA-256
   */
  record Sharded(long shardSize, List<Shard> shards) implements ExpectedDigests {
    /** Copies the list. */
    public Sharded {
      shards = List.copyOf(shards);
    }

    /** The file size the shards imply. */
    public long size() {
      return shards.isEmpty() ? 0 : shards.getLast().end();
    }
  }

  /**
   * Bytes {@code [start, end)} of a file and their SHA-256.
   *
   * @param start first byte (a multiple of the shard size)
   * @param end one past the last byte
   * @param sha256 lowercase hex
   */
  record Shard(long start, long end, String sha256) {}
}
