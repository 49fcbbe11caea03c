package dev.sampler.server.config;

import dev.sampler.scheduler.admission.AdmissionPolicy;
import dev.sampler.scheduler.batch.BatchingPolicy;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The whole server configuration, typed. Built by {@link ConfigLoader} from a YAML file plus
 * environment overrides ({@link #load}), or from the embedded demo defaults ({@link
 * #embeddedDemo}); the {@code with*} methods give modified copies (tests, the in-process demo).
 * {@link #validate()} checks the rules that span sections (TLS or loopback plaintext, unique model
 * names).
 *
 * @param grpc the gRPC socket
 * @param tls TLS for the gRPC socket; empty only with {@code grpc.insecure-plaintext} on loopback
 * @param identity how callers' tenants are established
 * @param observe the observability socket
 * @param models the models to serve (at least one)
 * @param admission admission control: queue capacity, per-tenant quotas, adaptive throttle
 * @param batching step-level batching
 * @param warmup work before readiness
 * @param runtime the one writable directory
 * @param drainTimeout how long shutdown waits for in-flight requests before failing them
 * @param commitmentKeyFile HMAC key (hex, at least 64 digits) for seed commitments; empty: a random
 *     key per process (commitments then compare only within one server run)
 * @param trust the sandbox self-check, attestation and key broker, runtime re-verification, admin
 *     callers
 */
public record ServerConfig(GrpcSettings grpc, Optional<TlsSettings> tls, IdentitySettings identity,
    ObserveSettings observe, List<ModelSettings> models, AdmissionPolicy admission, BatchingPolicy batching,
    WarmupSettings warmup, RuntimeSettings runtime, Duration drainTimeout, Optional<Path> commitmentKeyFile,
    TrustSettings trust) {

  /** Class-path resource holding the embedded demo configuration. */
  public static final String EMBEDDED_DEMO = "/dev/sampler/server/config/embedded-demo.yaml";

  /** Checks for nulls and copies the model list. */
  public ServerConfig {
    Objects.requireNonNull(grpc, "grpc");
    Objects.requireNonNull(tls, "tls");
    Objects.requireNonNull(identity, "identity");
    Objects.requireNonNull(observe, "observe");
    models = List.copyOf(models);
    Objects.requireNonNull(admission, "admission");
    Objects.requireNonNull(batching, "batching");
    Objects.requireNonNull(warmup, "warmup");
    Objects.requireNonNull(runtime, "runtime");
    Objects.requireNonNull(drainTimeout, "drainTimeout");
    Objects.requireNonNull(commitmentKeyFile, "commitmentKeyFile");
    Objects.requireNonNull(trust, "trust");
  }

  /**
   * Reads {@code file} (YAML) with environment overrides from {@code env} (normally {@link
   * System#getenv()}): see {@link ConfigLoader} for the keys and the variable names.
   *
   * @throws ConfigException naming the file or the key that is wrong
   */
  public static ServerConfig load(Path file, Map<String, String> env) throws ConfigException {
    return ConfigLoader.load(file, env);
  }

  /**
   * The embedded demo: the demo model under {@code $SAMPLER_HOME/models/demo} (or {@code
   * models/demo} of the working directory), gRPC on 127.0.0.1:50051 in insecure plaintext with
   * every caller the tenant {@code dev}, observability on 127.0.0.1:9464; environment overrides
   * from {@code env} apply as for a file.
   *
   * @throws ConfigException if an override is invalid
   */
  public static ServerConfig embeddedDemo(Map<String, String> env) throws ConfigException {
    return ConfigLoader.loadResource(EMBEDDED_DEMO, env);
  }

  /**
   * Checks the rules that span sections: without TLS the server needs {@code
   * grpc.insecure-plaintext: true} and a loopback {@code grpc.host}; gateway tokens need a public
   * key; model names are unique; the two sockets differ unless one is ephemeral.
   *
   * @throws ConfigException naming the keys involved
   */
  public ServerConfig validate() throws ConfigException {
    if (models.isEmpty()) {
      throw new ConfigException("models: at least one model is required");
    }
    Set<String> names = new HashSet<>();
    for (int i = 0; i < models.size(); i++) {
      if (!names.add(models.get(i).name())) {
        throw new ConfigException("models[" + i + "].name: the name \"" + models.get(i).name()
            + "\" is used by an earlier model");
      }
    }
    if (tls.isEmpty()) {
      if (!grpc.insecurePlaintext()) {
        throw new ConfigException("tls: no TLS configured (tls.cert-chain and tls.private-key); serving plaintext"
            + " needs grpc.insecure-plaintext: true, and is allowed only on a loopback grpc.host");
      }
      if (!isLoopback(grpc.host())) {
        throw new ConfigException("grpc.insecure-plaintext: allowed only on a loopback grpc.host (127.0.0.1, ::1,"
            + " localhost), got \"" + grpc.host() + "\"; configure tls.* to serve other addresses");
      }
    } else if (grpc.insecurePlaintext()) {
      throw new ConfigException("grpc.insecure-plaintext: true contradicts the tls section; remove one of them");
    }
    for (int i = 0; i < models.size(); i++) {
      ModelTrust t = models.get(i).trust();
      if (t.signerPublicKey().isEmpty() && !t.insecureSkipSignature()) {
        throw new ConfigException("models[" + i + "].signer-public-key is required: the model's signature ("
            + t.signature().getFileName() + ") is verified against this pinned key before anything is loaded"
            + " (models[" + i + "].insecure-skip-signature: true skips it, development only)");
      }
      if (t.sealedKey().isPresent() && trust.attestation().kbsUrl().isEmpty()) {
        throw new ConfigException("attestation.kbs-url is required: models[" + i + "].sealed-key names a key held"
            + " by the key broker");
      }
    }
    GatewayTokenSettings gt = identity.gatewayToken();
    if (gt.enabled() && gt.publicKey().isEmpty()) {
      throw new ConfigException("identity.gateway-token.public-key is required when identity.gateway-token.enabled"
          + " is true");
    }
    if (gt.gatewayPeer().isPresent() && tls.map(t -> t.clientAuth() == TlsSettings.ClientAuth.NONE).orElse(true)) {
      throw new ConfigException("identity.gateway-token.gateway-peer needs client certificates (tls.client-ca and"
          + " tls.client-auth required or optional)");
    }
    if (observe.enabled() && observe.port() != 0 && observe.port() == grpc.port()) {
      throw new ConfigException("observe.port must differ from grpc.port (both " + grpc.port() + ")");
    }
    return this;
  }

  /** True if {@code host} names a loopback address (it is resolved; an unknown name is not loopback). */
  static boolean isLoopback(String host) {
    try {
      InetAddress[] all = InetAddress.getAllByName(host);
      for (InetAddress a : all) {
        if (!a.isLoopbackAddress()) {
          return false;
        }
      }
      return all.length > 0;
    } catch (UnknownHostException e) {
      return false;
    }
  }

  /** A copy with other gRPC settings. */
  public ServerConfig withGrpc(GrpcSettings grpc) {
    return new ServerConfig(grpc, tls, identity, observe, models, admission, batching, warmup, runtime, drainTimeout,
        commitmentKeyFile, trust);
  }

  /** A copy with other TLS settings (empty: plaintext, loopback only). */
  public ServerConfig withTls(Optional<TlsSettings> tls) {
    return new ServerConfig(grpc, tls, identity, observe, models, admission, batching, warmup, runtime, drainTimeout,
        commitmentKeyFile, trust);
  }

  /** A copy with other identity settings. */
  public ServerConfig withIdentity(IdentitySettings identity) {
    return new ServerConfig(grpc, tls, identity, observe, models, admission, batching, warmup, runtime, drainTimeout,
        commitmentKeyFile, trust);
  }

  /** A copy with other observability settings. */
  public ServerConfig withObserve(ObserveSettings observe) {
    return new ServerConfig(grpc, tls, identity, observe, models, admission, batching, warmup, runtime, drainTimeout,
        commitmentKeyFile, trust);
  }

  /** A copy serving other models. */
  public ServerConfig withModels(List<ModelSettings> models) {
    return new ServerConfig(grpc, tls, identity, observe, models, admission, batching, warmup, runtime, drainTimeout,
        commitmentKeyFile, trust);
  }

  /** A copy with another admission policy. */
  public ServerConfig withAdmission(AdmissionPolicy admission) {
    return new ServerConfig(grpc, tls, identity, observe, models, admission, batching, warmup, runtime, drainTimeout,
        commitmentKeyFile, trust);
  }

  /** A copy with another batching policy. */
  public ServerConfig withBatching(BatchingPolicy batching) {
    return new ServerConfig(grpc, tls, identity, observe, models, admission, batching, warmup, runtime, drainTimeout,
        commitmentKeyFile, trust);
  }

  /** A copy with other warm-up settings. */
  public ServerConfig withWarmup(WarmupSettings warmup) {
    return new ServerConfig(grpc, tls, identity, observe, models, admission, batching, warmup, runtime, drainTimeout,
        commitmentKeyFile, trust);
  }

  /** A copy with another runtime directory setting. */
  public ServerConfig withRuntime(RuntimeSettings runtime) {
    return new ServerConfig(grpc, tls, identity, observe, models, admission, batching, warmup, runtime, drainTimeout,
        commitmentKeyFile, trust);
  }

  /** A copy with another drain timeout. */
  public ServerConfig withDrainTimeout(Duration drainTimeout) {
    return new ServerConfig(grpc, tls, identity, observe, models, admission, batching, warmup, runtime, drainTimeout,
        commitmentKeyFile, trust);
  }

  /** A copy with other trust settings. */
  public ServerConfig withTrust(TrustSettings trust) {
    return new ServerConfig(grpc, tls, identity, observe, models, admission, batching, warmup, runtime, drainTimeout,
        commitmentKeyFile, trust);
  }

  /** A copy with another commitment key file (empty: random per process). */
  public ServerConfig withCommitmentKeyFile(Optional<Path> commitmentKeyFile) {
    return new ServerConfig(grpc, tls, identity, observe, models, admission, batching, warmup, runtime, drainTimeout,
        commitmentKeyFile, trust);
  }
}
