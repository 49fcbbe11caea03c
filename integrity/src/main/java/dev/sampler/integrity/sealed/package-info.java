/**
 * Sealed weights: model files encrypted at rest with a per-model {@link
 * dev.sampler.integrity.sealed.DataKey} in Tink's streaming AEAD format AES256_GCM_HKDF_1MB
 * ({@link dev.sampler.integrity.sealed.SealedFormat}), the plaintext file name as associated data.
 * {@link dev.sampler.integrity.sealed.Sealer} writes them (build side); {@link
 * dev.sampler.integrity.sealed.Unsealer} decrypts them in parallel straight into off-heap memory
 * ({@link dev.sampler.integrity.sealed.UnsealedBytes}), optionally checking SHA-256 digests while
 * it decrypts ({@link dev.sampler.integrity.sealed.DigestPlan}). Plaintext never goes to disk.
 */
package dev.sampler.integrity.sealed;
