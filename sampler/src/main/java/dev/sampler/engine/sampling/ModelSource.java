package dev.sampler.engine.sampling;

import dev.sampler.integrity.safetensors.SafetensorsFile;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A model held in memory, for {@link DiffusionPipeline#load(ModelSource,
 * dev.sampler.engine.backend.TensorBackend)}: the bytes of its configuration files exactly as they
 * were read and verified, and its weights parsed from memory (for example unsealed in memory).
 *
 * @param name names the model in error messages (e.g. its directory)
 * @param directory the directory the model came from (reported, never read again)
 * @param config the bytes of {@code config.json}
 * @param schedulerConfig the bytes of {@code scheduler_config.json}
 * @param classes the bytes of {@code classes.json}, or null if the model has none
 * @param weights the weights, parsed from memory; owned by the caller
 * @param weightsSha256 SHA-256 (lower-case hex) of the weights file's plaintext bytes
 */
public record ModelSource(String name, Path directory, byte[] config, byte[] schedulerConfig, byte[] classes,
    SafetensorsFile weights, String weightsSha256) {
  /** Checks for nulls (only {@code classes} may be null). */
  public ModelSource {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(directory, "directory");
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(schedulerConfig, "schedulerConfig");
    Objects.requireNonNull(weights, "weights");
    Objects.requireNonNull(weightsSha256, "weightsSha256");
  }
}
