/**
 * Validated, memory-mapped, zero-copy access to <a
 * href="https://github.com/huggingface/safetensors">safetensors</a> files.
 *
 * <p>Entry points: {@link dev.sampler.integrity.safetensors.SafetensorsFile#open} to map and
 * validate a file, {@link dev.sampler.integrity.safetensors.SafetensorsFile#parse} for bytes
 * already in memory, and {@link dev.sampler.integrity.safetensors.SafetensorsWriter} for tools and
 * tests. A file is validated completely before any tensor can be read; every rejection is a {@link
 * dev.sampler.integrity.safetensors.SafetensorsException}.
 */
package dev.sampler.integrity.safetensors;
