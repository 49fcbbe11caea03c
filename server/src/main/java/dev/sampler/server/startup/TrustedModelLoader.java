package dev.sampler.server.startup;

import dev.sampler.engine.EngineException;
import dev.sampler.server.config.ModelSettings;
import dev.sampler.server.config.TrustSettings;
import dev.sampler.server.engine.ModelHost;
import java.util.List;
import java.util.function.LongSupplier;

/** Start-up steps 3 to 6 for one model (interim: plaintext, unverified). */
public final class TrustedModelLoader {
  /** A loaded model and what re-verifies it. */
  public record Loaded(ModelHost host, List<Reverifier.Check> checks) {}

  private TrustedModelLoader() {}

  /** Loads {@code m}. */
  public static Loaded load(ModelSettings m, TrustSettings trust, StartupTimings timings, LongSupplier clock)
      throws StartupException {
    long t0 = clock.getAsLong();
    try {
      ModelHost host = ModelHost.load(m);
      timings.add(StartupStep.UPLOAD, clock.getAsLong() - t0);
      return new Loaded(host, List.of());
    } catch (EngineException e) {
      throw new StartupException(StartupStep.UPLOAD, "model " + m.name() + " (" + m.dir() + "): " + e.getMessage(), e);
    }
  }
}
