/**
 * The sampler engine: tensor backends ({@link dev.sampler.engine.backend}) and the diffusers
 * UNet2DModel ({@link dev.sampler.engine.unet}). Packages under {@code internal} are
 * implementation details and must not be imported from outside this module.
 */
package dev.sampler.engine;
