package dev.sampler.server.cli;

import dev.sampler.engine.BackendException;
import dev.sampler.engine.backend.BackendOptions;
import dev.sampler.engine.backend.Backends;
import dev.sampler.engine.backend.TensorBackend;
import picocli.CommandLine.Option;

/** The options that choose and size the tensor backend, shared by every command that runs a model. */
final class BackendMixin {

  @Option(names = "--backend", defaultValue = "cpu", paramLabel = "NAME", description = "tensor backend (default: ${DEFAULT-VALUE})")
  String name;

  @Option(names = "--threads", paramLabel = "N", description = "compute threads (default: the number of available processors)")
  Integer threads;

  TensorBackend create() throws BackendException {
    return Backends.create(name, BackendOptions.threads(threadCount()));
  }

  /** --threads, or the number of available processors. */
  int threadCount() {
    return threads != null ? threads : Runtime.getRuntime().availableProcessors();
  }
}
