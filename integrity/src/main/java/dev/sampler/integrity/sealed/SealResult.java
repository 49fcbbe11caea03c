package dev.sampler.integrity.sealed;

/**
 * What {@link Sealer} wrote.
 *
 * @param plaintextBytes size of the plaintext
 * @param sealedBytes size of the sealed file ({@link SealedFormat#sealedSize} of the plaintext)
 * @param segments number of segments
 */
public record SealResult(long plaintextBytes, long sealedBytes, long segments) {}
