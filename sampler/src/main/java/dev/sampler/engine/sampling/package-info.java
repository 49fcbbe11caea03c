/**
 * The denoising loop: {@link dev.sampler.engine.sampling.Sampler} runs a
 * {@link dev.sampler.engine.schedule.NoiseScheduler} over a UNet with classifier-free guidance,
 * drawing all randomness from a per-request noise source; {@link dev.sampler.engine.sampling.Images}
 * turns results into 8-bit pixels and PNG.
 */
package dev.sampler.engine.sampling;
