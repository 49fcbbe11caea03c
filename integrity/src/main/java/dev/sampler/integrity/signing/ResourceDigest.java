package dev.sampler.integrity.signing;

/**
 * The digest a manifest records for one resource.
 *
 * @param algorithm {@code sha256} for a whole file, {@code sha256-sharded-<S>} for a shard
 * @param digest lowercase hex SHA-256
 */
public record ResourceDigest(String algorithm, String digest) {}
