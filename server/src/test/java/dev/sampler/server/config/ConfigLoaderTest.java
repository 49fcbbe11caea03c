package dev.sampler.server.config;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sampler.scheduler.admission.TenantPolicy;
import dev.sampler.server.testing.Servers;
import dev.sampler.server.testing.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** YAML plus environment into typed records, and precise messages for every bad value. */
class ConfigLoaderTest {
  static final String KEY = "    signer-public-key: models/demo/signer.pub.pem\n";
  static final String MODELS = "models:\n  - name: demo\n    dir: models/demo\n" + KEY;
  static final String PLAIN = "grpc:\n  insecure-plaintext: true\n";

  static ServerConfig parse(String yaml, Map<String, String> env) throws ConfigException {
    Map<String, String> all = new HashMap<>(Servers.ENV);
    all.putAll(env);
    return ConfigLoader.parse(yaml, "test", all);
  }

  @Test
  void embeddedDemo_noOverrides_servesTheDemoModelInLoopbackPlaintext() throws Exception {
    ServerConfig c = ServerConfig.embeddedDemo(Servers.ENV);
    assertEquals("127.0.0.1", c.grpc().host());
    assertEquals(50051, c.grpc().port());
    assertTrue(c.grpc().insecurePlaintext());
    assertEquals(4 << 20, c.grpc().maxMessageSize());
    assertTrue(c.tls().isEmpty());
    assertEquals("dev", c.identity().devTenant());
    assertFalse(c.identity().gatewayToken().enabled());
    assertEquals(new ObserveSettings(true, "127.0.0.1", 9464), c.observe());
    assertEquals(1, c.models().size());
    assertEquals(Servers.HOME.resolve("models/demo"), c.models().getFirst().dir());
    assertEquals("cpu", c.models().getFirst().backend());
    assertTrue(c.warmup().enabled());
    assertEquals(Duration.ofSeconds(30), c.drainTimeout());
    assertTrue(c.runtime().dir().isEmpty());
    assertEquals(TenantPolicy.defaults(), c.admission().tenantDefaults());
  }

  @Test
  void parse_environmentVariables_overrideTheFile() throws Exception {
    ServerConfig c = parse(PLAIN + MODELS + "warmup:\n  steps: 3\n", Map.of(
        "SAMPLER_GRPC_PORT", "6000",
        "SAMPLER_GRPC_MAX_MESSAGE_SIZE", "65536",
        "SAMPLER_MODELS_0_THREADS", "3",
        "SAMPLER_ADMISSION_DEFAULTS_BURST", "7",
        "SAMPLER_WARMUP_ENABLED", "false",
        "SAMPLER_DRAIN_TIMEOUT", "PT2S",
        "SAMPLER_DEBUG", "1"));
    assertEquals(6000, c.grpc().port());
    assertEquals(65536, c.grpc().maxMessageSize());
    assertEquals(3, c.models().getFirst().threads());
    assertEquals(7, c.admission().tenantDefaults().burst());
    assertFalse(c.warmup().enabled());
    assertEquals(3, c.warmup().steps(), "the file's value where no variable overrides it");
    assertEquals(Duration.ofSeconds(2), c.drainTimeout());
    assertEquals("SAMPLER_MODELS_0_DIR", ConfigLoader.envName("models.0.dir"));
  }

  @Test
  void parse_modelPropertiesAndTenants_keepTheirKeys() throws Exception {
    ServerConfig c = parse(PLAIN + """
        models:
          - name: demo
            dir: models/demo
            signer-public-key: models/demo/signer.pub.pem
            properties:
              conv: onednn
              conv.onednn.min-mflop: 10
              profile: "true"
        admission:
          defaults:
            rate-per-second: 2.5
          tenants:
            - id: acme
              weight: 3
            - id: team@example.org
              max-queued: 4
        """, Map.of());
    assertEquals(Map.of("conv", "onednn", "conv.onednn.min-mflop", "10", "profile", "true"),
        c.models().getFirst().properties());
    assertEquals(new TenantPolicy(3, 2.5, 40, 32, 32), c.admission().tenants().get("acme"));
    assertEquals(4, c.admission().tenants().get("team@example.org").maxQueued());
  }

  @Test
  void parse_invalidValues_failNamingTheKeyTheValueAndWhatIsAllowed(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("cert.pem"), "x");
    Map<String, String> cases = new LinkedHashMap<>();
    Map<String, Map<String, String>> envs = new HashMap<>();
    cases.put("grpc:\n  port: 70000\n  insecure-plaintext: true\n" + MODELS,
        "test: grpc.port must be 0..65535, got 70000");
    cases.put(PLAIN + MODELS + "#env", "test: grpc.port (from SAMPLER_GRPC_PORT) must be an integer in 0..65535,"
        + " got \"fifty\"");
    envs.put(PLAIN + MODELS + "#env", Map.of("SAMPLER_GRPC_PORT", "fifty"));
    cases.put("grpc:\n  insecure-plaintext: yes please\n" + MODELS,
        "test: grpc.insecure-plaintext must be true or false, got \"yes please\"");
    cases.put(PLAIN + MODELS + "drain-timeout: 30s\n",
        "test: drain-timeout must be an ISO-8601 duration such as PT30S or PT0.5S, got \"30s\"");
    cases.put(PLAIN + MODELS + "grpc-port: 1\nobserve:\n  prot: 2\n",
        "test: unknown keys grpc-port, observe.prot (see config/sampler-example.yaml for the schema)");
    cases.put("grpc:\n  host: 0.0.0.0\n  insecure-plaintext: true\n" + MODELS,
        "grpc.insecure-plaintext: allowed only on a loopback grpc.host (127.0.0.1, ::1, localhost), got"
            + " \"0.0.0.0\"; configure tls.* to serve other addresses");
    cases.put(MODELS, "tls: no TLS configured (tls.cert-chain and tls.private-key); serving plaintext needs"
        + " grpc.insecure-plaintext: true, and is allowed only on a loopback grpc.host");
    cases.put(MODELS + "tls:\n  cert-chain: " + dir.resolve("cert.pem") + "\n",
        "test: tls.private-key is required with tls.cert-chain");
    cases.put(MODELS + "tls:\n  cert-chain: " + dir.resolve("missing.pem") + "\n",
        "test: tls.cert-chain no such file: " + dir.resolve("missing.pem"));
    cases.put(MODELS + "tls:\n  cert-chain: " + dir.resolve("cert.pem") + "\n  private-key: " + dir.resolve("cert.pem")
        + "\n  client-auth: sometimes\n", "test: tls.client-auth must be one of required, optional, none, got"
        + " \"sometimes\"");
    cases.put(PLAIN + "models:\n  - name: demo\n    dir: models/nowhere\n",
        "test: models[0].dir is not a directory: " + Servers.HOME.resolve("models/nowhere"));
    cases.put(PLAIN + "models:\n  - name: demo\n    dir: models/demo\n" + KEY + "  - name: demo\n    dir: models/demo\n"
        + KEY,
        "models[1].name: the name \"demo\" is used by an earlier model");
    cases.put(PLAIN + "models:\n  - name: bad name\n    dir: models/demo\n",
        "test: models[0].name is required: 1..64 characters from [A-Za-z0-9._-]");
    cases.put(PLAIN + "models:\n  - name: demo\n    dir: models/demo\n",
        "models[0].signer-public-key is required: the model's signature (model.sig) is verified against this pinned"
            + " key before anything is loaded (models[0].insecure-skip-signature: true skips it, development only)");
    cases.put(PLAIN + MODELS + "    sealed-key: kbs://broker/a/b/c\n", "test: models[0].sealed-key must be a key-broker"
        + " resource kbs:///<repo>/<type>/<tag> (segments from [A-Za-z0-9_.-]), got \"kbs://broker/a/b/c\"");
    cases.put(PLAIN + MODELS + "    sealed-key: kbs:///a/b/c\n", "attestation.kbs-url is required: models[0].sealed-key"
        + " names a key held by the key broker");
    cases.put(PLAIN + MODELS + "attestation:\n  kbs-url: ftp://x/kbs/v0\n", "test: attestation.kbs-url must be an"
        + " http(s) URL such as https://kbs.example/kbs/v0, got \"ftp://x/kbs/v0\"");
    cases.put(PLAIN + MODELS + "attestation:\n  evidence: sample\n", "test: attestation.evidence must be tsm or"
        + " insecure-sample, got \"sample\"");
    cases.put(PLAIN + MODELS + "sandbox:\n  relax: [root]\n", "test: sandbox.relax entry \"root\" is not a check: use"
        + " all or some of capabilities, new-privileges, no-seccomp, run-as-root, writable-root");
    cases.put(PLAIN + MODELS + "integrity:\n  reverify-jitter: 2\n", "test: integrity.reverify-jitter must be 0.0..0.9,"
        + " got 2");
    cases.put(PLAIN, "test: models: at least one model is required");
    cases.put(PLAIN + MODELS + "identity:\n  gateway-token:\n    enabled: true\n",
        "identity.gateway-token.public-key is required when identity.gateway-token.enabled is true");
    cases.put(PLAIN + MODELS + "admission:\n  defaults:\n    weight: 0\n",
        "test: admission.defaults.weight must be 0.001..1000.0, got 0");
    cases.put(PLAIN + MODELS + "admission:\n  throttle:\n    factor: 0.5\n    min-factor: 0.75\n",
        "test: admission.throttle.min-factor must be at most admission.throttle.factor (0.5), got 0.75");
    cases.put(PLAIN + MODELS + "batching:\n  max-rows: 0\n", "test: batching.max-rows must be 1..4096, got 0");
    cases.put(PLAIN + MODELS + "observe: {port: 1\n", "test: not valid YAML");
    cases.put(PLAIN + MODELS + "admission:\n  tenants:\n    - id: a b\n",
        "test: admission.tenants[0].id must be a tenant id: 1..128 characters from [A-Za-z0-9._:@/-]");
    List<Executable> checks = new ArrayList<>();
    for (var c : cases.entrySet()) {
      ConfigException e = assertThrows(ConfigException.class, () -> parse(c.getKey().replace("#env", ""),
          envs.getOrDefault(c.getKey(), Map.of())), c.getValue());
      checks.add(() -> assertTrue(e.getMessage().startsWith(c.getValue()) || e.getMessage().equals(c.getValue()),
          "expected: " + c.getValue() + "\n     got: " + e.getMessage()));
    }
    assertAll(checks);
  }

  @Test
  void load_exampleConfig_parsesWithItsFilesReplaced(@TempDir Path dir) throws Exception {
    TestPki pki = TestPki.get();
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    Path pub = dir.resolve("gateway.pem");
    Files.writeString(pub, TestPki.pem("PUBLIC KEY", g.generateKeyPair().getPublic().getEncoded()));
    Map<String, String> env = new HashMap<>(Servers.ENV);
    env.putAll(Map.of(
        "SAMPLER_TLS_CERT_CHAIN", pki.server().cert().toString(),
        "SAMPLER_TLS_PRIVATE_KEY", pki.server().key().toString(),
        "SAMPLER_TLS_CLIENT_CA", pki.ca().toString(),
        "SAMPLER_IDENTITY_GATEWAY_TOKEN_PUBLIC_KEY", pub.toString(),
        "SAMPLER_RUNTIME_DIR", dir.resolve("run").toString()));
    ServerConfig c = ServerConfig.load(Servers.HOME.resolve("config/sampler-example.yaml"), env);
    assertEquals("0.0.0.0", c.grpc().host());
    assertEquals(TlsSettings.ClientAuth.REQUIRED, c.tls().orElseThrow().clientAuth());
    assertEquals(Optional.of("sampler.example.org"), c.identity().spiffeTrustDomain());
    assertEquals(Optional.of("spiffe://sampler.example.org/gateway"), c.identity().gatewayToken().gatewayPeer());
    assertEquals(new TenantPolicy(0.5, 5, 40, 32, 32), c.admission().tenants().get("batch-jobs"));
    assertEquals(0.0625, c.admission().throttle().minFactor());
    assertEquals(Map.of("conv", "java"), c.models().getFirst().properties());
    assertEquals(Optional.of(dir.resolve("run")), c.runtime().dir());
    assertEquals(Optional.of(Servers.HOME.resolve("models/demo/signer.pub.pem")),
        c.models().getFirst().trust().signerPublicKey());
    assertEquals(Optional.of(java.net.URI.create("https://kbs.example:8080/kbs/v0")),
        c.trust().attestation().kbsUrl());
    assertEquals(Duration.ofMinutes(10), c.trust().reverify().period());
    assertTrue(c.trust().sandboxRelax().isEmpty());
  }

  @Test
  void parse_trustKeys_typedAndEnvironmentListsSplitOnCommas() throws Exception {
    ServerConfig c = parse(PLAIN + MODELS + "    sealed-key: kbs:///sampler/demo/weights\n"
        + "attestation:\n  kbs-url: http://127.0.0.1:8080/kbs/v0\n  evidence: insecure-sample\n"
        + "sandbox:\n  relax: [no-seccomp]\nadmin:\n  tenants: [ops]\nintegrity:\n  exit-on-drift: true\n",
        Map.of("SAMPLER_SANDBOX_RELAX", "run-as-root, writable-root"));
    assertEquals(Optional.of("kbs:///sampler/demo/weights"), c.models().getFirst().trust().sealedKey());
    assertEquals("insecure-sample", c.trust().attestation().evidence());
    assertEquals(java.util.Set.of("run-as-root", "writable-root"), c.trust().sandboxRelax());
    assertTrue(c.trust().relaxed("writable-root") && !c.trust().relaxed("no-seccomp"));
    assertEquals(java.util.Set.of("ops"), c.trust().adminTenants());
    assertTrue(c.trust().reverify().exitOnDrift());
    assertEquals(Servers.HOME.resolve("models/demo/model.sig"), c.models().getFirst().trust().signature());
  }
}
