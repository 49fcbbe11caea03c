package dev.sampler.server.config;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * One served model (an entry of the YAML list {@code models}).
 *
 * @param name the name clients use (GenerateRequest.model, KServe model_name)
 * @param dir the diffusers model directory
 * @param backend the tensor backend ({@code cpu}, {@code reference})
 * @param threads compute threads; 0 means the number of available processors
 * @param properties backend-specific settings (e.g. {@code conv: onednn}); the backend rejects
 *     keys it does not know
 * @param trust how the model's files are verified and whether its weights are sealed
 */
public record ModelSettings(String name, Path dir, String backend, int threads, Map<String, String> properties,
    ModelTrust trust) {
  /** Copies the properties. */
  public ModelSettings {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(dir, "dir");
    Objects.requireNonNull(backend, "backend");
    properties = Map.copyOf(properties);
    Objects.requireNonNull(trust, "trust");
  }
}
