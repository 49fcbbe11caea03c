package dev.sampler.integrity.crypto;

import java.lang.foreign.MemorySegment;

/** An incremental SHA-256 (FIPS 180-4). Not thread-safe: one thread at a time. */
public interface Sha256 extends AutoCloseable {
  /** Digest length, bytes. */
  int DIGEST_BYTES = 32;

  /** Hashes all of {@code data} (on or off heap, any size). */
  void update(MemorySegment data);

  /** Finishes: returns the 32-byte digest of everything updated since creation or the last digest, and resets. */
  byte[] digest();

  /** Frees the context; idempotent. */
  @Override
  void close();
}
