package dev.sampler.integrity.signing;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * How {@link ModelSigner} serializes a model. Defaults, as the upstream signer's: whole files,
 * symbolic links refused, the git paths ({@code .git}, {@code .gitattributes}, {@code .github},
 * {@code .gitignore}) ignored, no other ignore paths, no signature file.
 *
 * @param shardSize 0 for the {@code files} method, else the shard size in bytes for {@code shards}
 *     (1 to 2^53)
 * @param ignorePaths paths relative to the model root to leave out (each with everything below it)
 * @param allowSymlinks whether symbolic links are followed; otherwise one fails signing
 * @param ignoreGitPaths whether the four git paths are left out
 * @param signatureFile where the signature will be written, or null; when it lies inside the model
 *     it is left out and recorded among the ignore paths, as upstream does
 * @param threads hashing threads, at least 1
 */
public record SignOptions(long shardSize, List<String> ignorePaths, boolean allowSymlinks, boolean ignoreGitPaths,
    Path signatureFile, int threads) {

  /** Largest shard size: {@code shard_size} is a JSON number (a double) in the statement. */
  public static final long MAX_SHARD_SIZE = 1L << 53;
  /** Upstream's default shard size, 1,000,000,000 bytes. */
  public static final long DEFAULT_SHARD_SIZE = 1_000_000_000L;

  /**
   * Validates and normalizes the ignore paths.
   *
   * @throws IllegalArgumentException for a shard size outside [0, 2^53], threads below 1, or an
   *     ignore path that is empty, absolute, contains {@code ..} or is {@code .}
   */
  public SignOptions {
    if (shardSize < 0 || shardSize > MAX_SHARD_SIZE) {
      throw new IllegalArgumentException("shard size must be between 1 and 2^53 bytes (0 for whole files), not "
          + shardSize);
    }
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, not " + threads);
    }
    List<String> norm = new ArrayList<>(ignorePaths.size());
    for (String p : ignorePaths) {
      norm.add(ModelTree.normalizeRelative(p));
    }
    ignorePaths = List.copyOf(norm);
  }

  /** Whole files, no links, git paths ignored, nothing else ignored, no signature file. */
  public static SignOptions defaults() {
    return new SignOptions(0, List.of(), false, true, null, Hashing.DEFAULT_THREADS);
  }

  /** These options with the {@code shards} method at {@code bytes} per shard (0: whole files). */
  public SignOptions withShardSize(long bytes) {
    return new SignOptions(bytes, ignorePaths, allowSymlinks, ignoreGitPaths, signatureFile, threads);
  }

  /** These options with {@code paths} (relative to the model root) left out. */
  public SignOptions withIgnorePaths(List<String> paths) {
    return new SignOptions(shardSize, paths, allowSymlinks, ignoreGitPaths, signatureFile, threads);
  }

  /** These options with symbolic links followed ({@code true}) or refused. */
  public SignOptions withAllowSymlinks(boolean allow) {
    return new SignOptions(shardSize, ignorePaths, allow, ignoreGitPaths, signatureFile, threads);
  }

  /** These options with the git paths ignored ({@code true}) or hashed like any file. */
  public SignOptions withIgnoreGitPaths(boolean ignore) {
    return new SignOptions(shardSize, ignorePaths, allowSymlinks, ignore, signatureFile, threads);
  }

  /** These options with the signature's destination (left out when inside the model), or null. */
  public SignOptions withSignatureFile(Path file) {
    return new SignOptions(shardSize, ignorePaths, allowSymlinks, ignoreGitPaths, file, threads);
  }

  /** These options hashing on {@code n} threads. */
  public SignOptions withThreads(int n) {
    return new SignOptions(shardSize, ignorePaths, allowSymlinks, ignoreGitPaths, signatureFile, n);
  }
}
