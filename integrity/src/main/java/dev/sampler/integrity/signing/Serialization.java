package dev.sampler.integrity.signing;

import java.util.List;

/**
 * How a manifest was computed ({@code predicate.serialization}), and so how to recompute it.
 *
 * @param method whole files or fixed-size shards
 * @param shardSize the shard size in bytes for {@link Method#SHARDS}; 0 for {@link Method#FILES}
 * @param allowSymlinks whether symbolic links in the model are followed (otherwise they fail)
 * @param ignorePaths the recorded {@code ignore_paths}, relative to the model root, in recorded
 *     order; empty when none were recorded
 */
public record Serialization(Method method, long shardSize, boolean allowSymlinks, List<String> ignorePaths) {

  /** The serialization methods of the format. */
  public enum Method {
    /** One resource per file, named by its path. */
    FILES("files"),
    /** One resource per shard, named {@code path:start:end}. */
    SHARDS("shards");

    private final String wireName;

    Method(String wireName) {
      this.wireName = wireName;
    }

    /** The name in the statement: {@code files} or {@code shards}. */
    public String wireName() {
      return wireName;
    }
  }

  /** Copies the list; checks that the shard size fits the method. */
  public Serialization {
    ignorePaths = List.copyOf(ignorePaths);
    if ((method == Method.FILES) != (shardSize == 0) || shardSize < 0) {
      throw new IllegalArgumentException("shardSize must be 0 for files and positive for shards, not " + shardSize);
    }
  }

  /** The algorithm every resource of this serialization carries. */
  public String algorithm() {
    return Hashing.algorithmFor(shardSize);
  }
}
