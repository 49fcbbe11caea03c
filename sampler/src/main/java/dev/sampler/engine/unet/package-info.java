/**
 * The diffusers {@code UNet2DModel}: {@link dev.sampler.engine.unet.UNet2DConfig} (a validated
 * {@code config.json}) and {@link dev.sampler.engine.unet.UNet2DModel} (weights by diffusers'
 * names, forward pass on any {@link dev.sampler.engine.backend.TensorBackend}).
 */
package dev.sampler.engine.unet;
