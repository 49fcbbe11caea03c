package dev.sampler.engine.internal.cpu;

import dev.sampler.engine.BackendException;
import dev.sampler.engine.backend.BackendOptions;
import dev.sampler.engine.backend.TensorBackend;
import dev.sampler.engine.backend.TensorBackendProvider;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Provides the {@code "cpu"} backend. Properties:
 *
 * <ul>
 *   <li>{@code conv}: {@code java} (default: the Java Vector API kernels) or {@code onednn}
 *       (convolutions of at least {@code conv.onednn.min-mflop} MFLOP on oneDNN through ND4J);
 *   <li>{@code conv.onednn.min-mflop}: that threshold, default 0;
 *   <li>{@code profile}: {@code true} to time every operation (see {@link TensorBackend#profile()}).
 * </ul>
 */
public final class CpuBackendProvider implements TensorBackendProvider {
  private static final Set<String> KEYS = Set.of("conv", "conv.onednn.min-mflop", "profile");

  @Override
  public String name() {
    return CpuBackend.NAME;
  }

  @Override
  public TensorBackend create(BackendOptions options) throws BackendException {
    if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
      throw new BackendException("cpu backend: the JVM was started without the Vector API; add the flag "
          + "--add-modules=jdk.incubator.vector");
    }
    Map<String, String> p = options.properties();
    var unknown = new TreeSet<>(p.keySet());
    unknown.removeAll(KEYS);
    if (!unknown.isEmpty()) {
      throw new BackendException("cpu backend: unknown properties " + unknown + " (known: " + new TreeSet<>(KEYS) + ")");
    }
    boolean profile = bool(p, "profile");
    String conv = p.getOrDefault("conv", "java");
    ConvEngine engine;
    switch (conv) {
      case "java" -> engine = null;
      case "onednn" -> {
        long minMflop;
        try {
          minMflop = Long.parseLong(p.getOrDefault("conv.onednn.min-mflop", "0"));
        } catch (NumberFormatException e) {
          throw new BackendException("cpu backend: conv.onednn.min-mflop must be an integer, got \""
              + p.get("conv.onednn.min-mflop") + "\"");
        }
        engine = Nd4jConvEngine.load(options.threads(), minMflop * 1_000_000L);
      }
      default -> throw new BackendException("cpu backend: unsupported value for 'conv': \"" + conv
          + "\" (supported: java, onednn)");
    }
    return new CpuBackend(options.threads(), engine, profile);
  }

  private static boolean bool(Map<String, String> p, String key) throws BackendException {
    String v = p.getOrDefault(key, "false");
    return switch (v) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new BackendException("cpu backend: '" + key + "' must be true or false, got \"" + v + "\"");
    };
  }
}
