/**
 * Randomness for the sampler: an SP 800-90A CTR_DRBG ({@link dev.sampler.rng.CtrDrbg}), client
 * seeds as secrets ({@link dev.sampler.rng.SecretSeed}), and per-request standard-normal noise
 * ({@link dev.sampler.rng.NoiseStream}). No global generator or seed exists anywhere in this
 * package.
 */
package dev.sampler.rng;
