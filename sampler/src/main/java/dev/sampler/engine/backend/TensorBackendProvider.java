package dev.sampler.engine.backend;

import dev.sampler.engine.BackendException;

/**
 * Service-provider interface for tensor backends, registered in {@code
 * META-INF/services/dev.sampler.engine.backend.TensorBackendProvider}. Providers must be cheap to
 * instantiate: native libraries are loaded in {@link #create}, not in the constructor.
 */
public interface TensorBackendProvider {
  /** The unique name the backend is selected by, e.g. {@code "cpu"}. */
  String name();

  /**
   * Creates a backend.
   *
   * @throws BackendException if it cannot start (native library missing or failing, unsupported
   *     option); the message names the backend and the cause
   */
  TensorBackend create(BackendOptions options) throws BackendException;
}
