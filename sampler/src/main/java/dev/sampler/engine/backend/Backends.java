package dev.sampler.engine.backend;

import dev.sampler.engine.BackendException;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeSet;

/**
 * Finds tensor backends by name through {@link ServiceLoader}. There is no default and no
 * fallback: an unknown name or a backend that fails to start is a {@link BackendException}.
 */
public final class Backends {
  private Backends() {}

  /** The names of the backends on the class path, sorted. */
  public static List<String> available() {
    var names = new TreeSet<String>();
    for (TensorBackendProvider p : providers()) {
      names.add(p.name());
    }
    return List.copyOf(names);
  }

  /**
   * Creates the backend called {@code name}.
   *
   * @throws BackendException if no provider has that name, two providers claim it, or the
   *     provider fails to create the backend (wrapping its cause)
   */
  public static TensorBackend create(String name, BackendOptions options) throws BackendException {
    List<TensorBackendProvider> matches = new ArrayList<>();
    List<TensorBackendProvider> all;
    try {
      all = providers();
    } catch (ServiceConfigurationError e) {
      throw new BackendException("cannot list tensor backends: " + e.getMessage(), e);
    }
    for (TensorBackendProvider p : all) {
      if (p.name().equals(name)) {
        matches.add(p);
      }
    }
    if (matches.isEmpty()) {
      throw new BackendException(
          "unknown tensor backend \"" + name + "\" (available: " + String.join(", ", available()) + ")");
    }
    if (matches.size() > 1) {
      throw new BackendException(
          "tensor backend \"" + name + "\" is provided twice: " + matches.get(0).getClass().getName()
              + " and " + matches.get(1).getClass().getName());
    }
    try {
      return matches.get(0).create(options);
    } catch (BackendException e) {
      throw e;
    } catch (RuntimeException | LinkageError e) {
      throw new BackendException("tensor backend \"" + name + "\" failed to start: " + e, e);
    }
  }

  private static List<TensorBackendProvider> providers() {
    List<TensorBackendProvider> list = new ArrayList<>();
    ServiceLoader.load(TensorBackendProvider.class, Backends.class.getClassLoader()).forEach(list::add);
    return list;
  }
}
