package dev.sampler.server.testing;

import dev.sampler.server.SamplerServer;
import dev.sampler.server.SamplerServerException;
import dev.sampler.server.config.ConfigException;
import dev.sampler.server.config.ConfigLoader;
import dev.sampler.server.config.ServerConfig;
import java.nio.file.Path;
import java.util.Map;

/** Real servers for integration tests: on 127.0.0.1, ephemeral ports, the demo model, no warm-up. */
public final class Servers {
  /** The checkout root (tests run in server/); the demo model is models/demo under it. */
  public static final Path HOME = Path.of("..").toAbsolutePath().normalize();

  /** The environment the test configurations are read with: only SAMPLER_HOME. */
  public static final Map<String, String> ENV = Map.of("SAMPLER_HOME", HOME.toString());

  private Servers() {}

  /**
   * A configuration from YAML {@code sections} on top of the test defaults (gRPC and observability
   * on 127.0.0.1 port 0, the demo model, warm-up off, drain timeout 20 s). A section given here
   * replaces the default of the same name.
   */
  public static ServerConfig config(String sections) throws ConfigException {
    StringBuilder yaml = new StringBuilder();
    if (!sections.contains("grpc:")) {
      yaml.append("grpc:\n  host: 127.0.0.1\n  port: 0\n  insecure-plaintext: true\n");
    }
    if (!sections.contains("observe:")) {
      yaml.append("observe:\n  host: 127.0.0.1\n  port: 0\n");
    }
    if (!sections.contains("models:")) {
      yaml.append("models:\n  - name: demo\n    dir: models/demo\n    threads: 2\n"
          + "    signer-public-key: models/demo/signer.pub.pem\n");
    }
    if (!sections.contains("sandbox:")) {
      yaml.append("sandbox:\n  relax: [all]\n"); // tests run as root on a writable root filesystem
    }
    if (!sections.contains("warmup:")) {
      yaml.append("warmup:\n  enabled: false\n");
    }
    if (!sections.contains("drain-timeout:")) {
      yaml.append("drain-timeout: PT20S\n");
    }
    yaml.append(sections);
    return ConfigLoader.parse(yaml.toString(), "test configuration", ENV);
  }

  /** Starts a server with {@code config} and waits until it is ready. */
  public static SamplerServer start(ServerConfig config) throws SamplerServerException, InterruptedException {
    return SamplerServer.builder().config(config).build().start();
  }

  /** Starts the default test server (plaintext on loopback, tenant "dev"). */
  public static SamplerServer start() throws Exception {
    return start(config(""));
  }
}
