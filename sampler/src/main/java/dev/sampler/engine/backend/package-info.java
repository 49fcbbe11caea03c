/**
 * The tensor backend SPI: {@link dev.sampler.engine.backend.TensorBackend} (a few float32
 * primitives), {@link dev.sampler.engine.backend.Tensor} handles, and {@link
 * dev.sampler.engine.backend.Backends} to create one by name ({@code "cpu"}, {@code
 * "reference"}).
 */
package dev.sampler.engine.backend;
