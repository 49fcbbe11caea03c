package dev.sampler.engine.internal.reference;

import dev.sampler.engine.BackendException;
import dev.sampler.engine.backend.BackendOptions;
import dev.sampler.engine.backend.TensorBackend;
import dev.sampler.engine.backend.TensorBackendProvider;

/** Provides the {@code "reference"} backend; it takes no properties and ignores the thread count. */
public final class ReferenceBackendProvider implements TensorBackendProvider {
  @Override
  public String name() {
    return ReferenceBackend.NAME;
  }

  @Override
  public TensorBackend create(BackendOptions options) throws BackendException {
    if (!options.properties().isEmpty()) {
      throw new BackendException("tensor backend \"reference\" takes no properties, got "
          + options.properties().keySet());
    }
    return new ReferenceBackend();
  }
}
