package dev.sampler.server.config;

import dev.sampler.scheduler.admission.AdmissionPolicy;
import dev.sampler.scheduler.admission.TenantPolicy;
import dev.sampler.scheduler.admission.ThrottlePolicy;
import dev.sampler.scheduler.batch.BatchingPolicy;
import io.helidon.common.media.type.MediaTypes;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import io.helidon.config.yaml.YamlConfigParser;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Reads a {@link ServerConfig} from YAML (parsed by Helidon Config) with environment overrides.
 *
 * <p>Every scalar key can be overridden by an environment variable named {@code SAMPLER_} followed
 * by the key in upper case with {@code .} and {@code -} replaced by {@code _}: {@code grpc.port}
 * is {@code SAMPLER_GRPC_PORT}, {@code grpc.max-message-size} is {@code
 * SAMPLER_GRPC_MAX_MESSAGE_SIZE}, the first model's directory ({@code models[0].dir}) is {@code
 * SAMPLER_MODELS_0_DIR}. A variable overrides only a key of the fixed schema (and list entries the
 * file already has); per-tenant policies and extra models come from the file. Other {@code
 * SAMPLER_*} variables (SAMPLER_HOME, SAMPLER_DEBUG) are not configuration keys and are ignored.
 *
 * <p>Unknown keys in the file are errors (a typo must not silently fall back to a default).
 * Relative paths resolve against {@code $SAMPLER_HOME} when set, else the working directory.
 * Durations are ISO-8601 ({@code PT30S}).
 */
public final class ConfigLoader {
  private static final Pattern TENANT_NAME = Pattern.compile("[A-Za-z0-9._:@/-]{1,128}");
  private static final Set<String> TENANT_KEYS = Set.of("weight", "rate-per-second", "burst", "max-concurrent",
      "max-queued");
  private static final Set<String> MODEL_KEYS = Set.of("name", "dir", "backend", "threads", "signer-public-key",
      "signature", "insecure-skip-signature", "sealed-key");
  private static final Pattern KBS_RESOURCE = Pattern.compile(
      "kbs:///[A-Za-z0-9_-][A-Za-z0-9_.-]*/[A-Za-z0-9_-][A-Za-z0-9_.-]*/[A-Za-z0-9_-][A-Za-z0-9_.-]*");
  private static final Set<String> FIXED_KEYS = Set.of(
      "grpc.host", "grpc.port", "grpc.max-message-size", "grpc.max-concurrent-streams", "grpc.max-connections",
      "grpc.insecure-plaintext", "grpc.reflection", "grpc.max-rapid-resets", "grpc.rapid-reset-period",
      "grpc.idle-timeout",
      "tls.cert-chain", "tls.private-key", "tls.client-ca", "tls.client-auth",
      "identity.spiffe-trust-domain", "identity.dns-san-suffix", "identity.dev-tenant",
      "identity.gateway-token.enabled", "identity.gateway-token.public-key", "identity.gateway-token.audience",
      "identity.gateway-token.issuer", "identity.gateway-token.clock-skew", "identity.gateway-token.gateway-peer",
      "observe.enabled", "observe.host", "observe.port",
      "admission.queue-capacity",
      "admission.throttle.window", "admission.throttle.invalid-threshold", "admission.throttle.probe-threshold",
      "admission.throttle.reject-threshold", "admission.throttle.factor", "admission.throttle.min-factor",
      "admission.throttle.quiet-period", "admission.throttle.recovery-step",
      "batching.enabled", "batching.max-rows", "batching.max-active-rows", "batching.fair-rows",
      "warmup.enabled", "warmup.generations", "warmup.steps", "warmup.noise",
      "runtime.dir", "drain-timeout", "commitment-key-file",
      "attestation.kbs-url", "attestation.evidence", "attestation.tsm-dir", "attestation.timeout",
      "integrity.reverify-period", "integrity.reverify-jitter", "integrity.exit-on-drift");
  /** Keys holding a list of strings (an environment override is a comma-separated list). */
  private static final Set<String> LIST_KEYS = Set.of("sandbox.relax", "admin.tenants");

  private ConfigLoader() {}

  /** The environment variable that overrides {@code key} (Helidon-style key, e.g. {@code models.0.dir}). */
  public static String envName(String key) {
    return "SAMPLER_" + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
  }

  static ServerConfig load(Path file, Map<String, String> env) throws ConfigException {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigException("config file " + file + ": cannot read: " + e.getMessage(), e);
    }
    return parse(text, "config file " + file, env);
  }

  static ServerConfig loadResource(String resource, Map<String, String> env) throws ConfigException {
    try (InputStream in = ConfigLoader.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new ConfigException("the embedded configuration " + resource + " is missing from the class path");
      }
      return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "embedded configuration " + resource, env);
    } catch (IOException e) {
      throw new ConfigException("embedded configuration " + resource + ": cannot read: " + e.getMessage(), e);
    }
  }

  /**
   * Parses YAML {@code text} with overrides from {@code env}; {@code origin} names the text in
   * messages.
   *
   * @throws ConfigException naming the key that is wrong
   */
  public static ServerConfig parse(String text, String origin, Map<String, String> env) throws ConfigException {
    Config root;
    try {
      root = Config.builder()
          .disableEnvironmentVariablesSource()
          .disableSystemPropertiesSource()
          .disableParserServices()
          .addParser(YamlConfigParser.create())
          .sources(ConfigSources.create(text, MediaTypes.APPLICATION_X_YAML))
          .build();
      root.traverse().count(); // parse now, so syntax errors surface here
    } catch (RuntimeException e) {
      throw new ConfigException(origin + ": not valid YAML: " + e.getMessage(), e);
    }
    return new Reader(root, env, origin).read().validate();
  }

  private static final class Reader {
    private final Config root;
    private final Map<String, String> env;
    private final String origin;
    private final Path base;

    Reader(Config root, Map<String, String> env, String origin) {
      this.root = root;
      this.env = Map.copyOf(env);
      this.origin = origin;
      String home = env.get("SAMPLER_HOME");
      this.base = home != null && !home.isBlank() ? Path.of(home) : Path.of("").toAbsolutePath();
    }

    ServerConfig read() throws ConfigException {
      checkUnknownKeys();
      GrpcSettings grpc = new GrpcSettings(
          string("grpc.host", "127.0.0.1"),
          integer("grpc.port", GrpcSettings.DEFAULT_PORT, 0, 65535),
          integer("grpc.max-message-size", GrpcSettings.DEFAULT_MAX_MESSAGE_SIZE, 1024, 256 << 20),
          integer("grpc.max-concurrent-streams", GrpcSettings.DEFAULT_MAX_CONCURRENT_STREAMS, 1, Integer.MAX_VALUE),
          integer("grpc.max-connections", 1024, -1, 1 << 20),
          bool("grpc.insecure-plaintext", false),
          bool("grpc.reflection", true),
          integer("grpc.max-rapid-resets", GrpcSettings.DEFAULT_MAX_RAPID_RESETS, -1, 1 << 20),
          positiveDuration("grpc.rapid-reset-period", GrpcSettings.DEFAULT_RAPID_RESET_PERIOD, Duration.ofHours(1)),
          positiveDuration("grpc.idle-timeout", GrpcSettings.DEFAULT_IDLE_TIMEOUT, Duration.ofHours(24)));
      Optional<TlsSettings> tls = tls();
      IdentitySettings identity = new IdentitySettings(
          optionalString("identity.spiffe-trust-domain"),
          optionalString("identity.dns-san-suffix"),
          gatewayToken(),
          tenantName("identity.dev-tenant", IdentitySettings.DEFAULT_DEV_TENANT));
      ObserveSettings observe = new ObserveSettings(
          bool("observe.enabled", true),
          string("observe.host", "127.0.0.1"),
          integer("observe.port", ObserveSettings.DEFAULT_PORT, 0, 65535));
      List<ModelSettings> models = models();
      AdmissionPolicy admission = admission();
      BatchingPolicy defaults = BatchingPolicy.defaults();
      int maxRows = integer("batching.max-rows", defaults.maxRows(), 1, BatchingPolicy.LIMIT_MAX_ROWS);
      BatchingPolicy batching = new BatchingPolicy(bool("batching.enabled", defaults.enabled()), maxRows,
          integer("batching.max-active-rows", 4 * maxRows, maxRows, 16 * BatchingPolicy.LIMIT_MAX_ROWS),
          bool("batching.fair-rows", true));
      WarmupSettings warmup = new WarmupSettings(
          bool("warmup.enabled", true),
          integer("warmup.generations", 2, 0, 100),
          integer("warmup.steps", 4, 1, 200),
          duration("warmup.noise", Duration.ofSeconds(4), Duration.ofMinutes(5)));
      RuntimeSettings runtime = new RuntimeSettings(optionalString("runtime.dir").map(this::path));
      Duration drain = duration("drain-timeout", Duration.ofSeconds(30), Duration.ofHours(1));
      Optional<Path> commitmentKey = existingFile("commitment-key-file");
      return new ServerConfig(grpc, tls, identity, observe, models, admission, batching, warmup, runtime, drain,
          commitmentKey, trust());
    }

    private TrustSettings trust() throws ConfigException {
      List<String> relax = list("sandbox.relax");
      for (int i = 0; i < relax.size(); i++) {
        String r = relax.get(i);
        if (!r.equals("all") && !TrustSettings.SANDBOX_CHECKS.contains(r)) {
          throw bad("sandbox.relax", "entry \"" + r + "\" is not a check: use all or some of "
              + String.join(", ", new TreeSet<>(TrustSettings.SANDBOX_CHECKS)));
        }
      }
      Optional<java.net.URI> kbs = optionalString("attestation.kbs-url").map(java.net.URI::create);
      if (kbs.isPresent() && !(kbs.get().getScheme() != null && kbs.get().getScheme().matches("https?")
          && kbs.get().getHost() != null)) {
        throw bad("attestation.kbs-url", "must be an http(s) URL such as https://kbs.example/kbs/v0, got \""
            + kbs.get() + "\"");
      }
      String evidence = string("attestation.evidence", "tsm");
      if (!evidence.equals("tsm") && !evidence.equals("insecure-sample")) {
        throw bad("attestation.evidence", "must be tsm or insecure-sample, got \"" + evidence + "\"");
      }
      TrustSettings.Attestation attestation = new TrustSettings.Attestation(kbs, evidence,
          path(string("attestation.tsm-dir", "/sys/kernel/config/tsm/report")),
          positiveDuration("attestation.timeout", Duration.ofSeconds(10), Duration.ofMinutes(5)));
      TrustSettings.Reverify reverify = new TrustSettings.Reverify(
          duration("integrity.reverify-period", Duration.ofMinutes(10), Duration.ofDays(7)),
          decimal("integrity.reverify-jitter", 0.2, 0, 0.9),
          bool("integrity.exit-on-drift", false));
      List<String> admins = list("admin.tenants");
      for (String a : admins) {
        if (!TENANT_NAME.matcher(a).matches()) {
          throw bad("admin.tenants", "entries must be tenant ids: 1..128 characters from [A-Za-z0-9._:@/-]");
        }
      }
      return new TrustSettings(new java.util.HashSet<>(relax), attestation, reverify, new java.util.HashSet<>(admins));
    }

    private List<String> list(String key) throws ConfigException {
      String fromEnv = env.get(envName(key));
      if (fromEnv != null) {
        List<String> out = new ArrayList<>();
        for (String part : fromEnv.split(",")) {
          if (!part.isBlank()) {
            out.add(part.strip());
          }
        }
        return out;
      }
      Config node = root.get(key);
      if (!node.exists()) {
        return List.of();
      }
      if (node.type() != Config.Type.LIST) {
        throw bad(key, "must be a list");
      }
      List<String> out = new ArrayList<>();
      for (Config c : node.asNodeList().get()) {
        if (!c.isLeaf()) {
          throw bad(key, "must be a list of strings");
        }
        out.add(c.asString().get().strip());
      }
      return out;
    }

    private Optional<TlsSettings> tls() throws ConfigException {
      Optional<Path> chain = existingFile("tls.cert-chain");
      Optional<Path> key = existingFile("tls.private-key");
      Optional<Path> ca = existingFile("tls.client-ca");
      String authText = string("tls.client-auth", ca.isPresent() ? "required" : "none");
      TlsSettings.ClientAuth auth;
      try {
        auth = TlsSettings.ClientAuth.valueOf(authText.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw bad("tls.client-auth", "must be one of required, optional, none, got \"" + authText + "\"");
      }
      if (chain.isEmpty() && key.isEmpty()) {
        if (ca.isPresent() || has("tls.client-auth")) {
          throw bad("tls.cert-chain", "and tls.private-key are required when tls.client-ca or tls.client-auth is set");
        }
        return Optional.empty();
      }
      if (chain.isEmpty()) {
        throw bad("tls.cert-chain", "is required with tls.private-key");
      }
      if (key.isEmpty()) {
        throw bad("tls.private-key", "is required with tls.cert-chain");
      }
      if (auth != TlsSettings.ClientAuth.NONE && ca.isEmpty()) {
        throw bad("tls.client-ca", "is required when tls.client-auth is " + authText);
      }
      return Optional.of(new TlsSettings(chain.get(), key.get(), ca, auth));
    }

    private GatewayTokenSettings gatewayToken() throws ConfigException {
      String p = "identity.gateway-token.";
      return new GatewayTokenSettings(
          bool(p + "enabled", false),
          existingFile(p + "public-key"),
          string(p + "audience", "sampler"),
          optionalString(p + "issuer"),
          duration(p + "clock-skew", Duration.ofSeconds(30), Duration.ofMinutes(10)),
          optionalString(p + "gateway-peer"));
    }

    private List<ModelSettings> models() throws ConfigException {
      Config list = root.get("models");
      if (!list.exists()) {
        throw new ConfigException(origin + ": models: at least one model is required");
      }
      if (list.type() != Config.Type.LIST) {
        throw new ConfigException(origin + ": models must be a list of {name, dir, backend, threads, properties}");
      }
      List<Config> nodes = list.asNodeList().get();
      List<ModelSettings> out = new ArrayList<>();
      for (int i = 0; i < nodes.size(); i++) {
        String k = "models." + i + ".";
        String name = string(k + "name", null);
        if (name == null || !name.matches("[A-Za-z0-9._-]{1,64}")) {
          throw bad(k + "name", "is required: 1..64 characters from [A-Za-z0-9._-]");
        }
        String dirText = string(k + "dir", null);
        if (dirText == null) {
          throw bad(k + "dir", "is required (a diffusers model directory)");
        }
        Path dir = path(dirText);
        if (!Files.isDirectory(dir)) {
          throw bad(k + "dir", "is not a directory: " + dir);
        }
        Map<String, String> props = new LinkedHashMap<>();
        Config pnode = nodes.get(i).get("properties");
        if (pnode.exists()) {
          for (Map.Entry<String, String> e : pnode.detach().asMap().get().entrySet()) {
            props.put(e.getKey(), e.getValue());
          }
        }
        Optional<String> sealed = optionalString(k + "sealed-key");
        if (sealed.isPresent() && !KBS_RESOURCE.matcher(sealed.get()).matches()) {
          throw bad(k + "sealed-key", "must be a key-broker resource kbs:///<repo>/<type>/<tag> (segments from"
              + " [A-Za-z0-9_.-]), got \"" + sealed.get() + "\"");
        }
        Path signature = optionalString(k + "signature").map(this::path).orElse(dir.resolve("model.sig"));
        ModelTrust trust = new ModelTrust(existingFile(k + "signer-public-key"), signature, List.of(),
            bool(k + "insecure-skip-signature", false), sealed);
        out.add(new ModelSettings(name, dir, string(k + "backend", "cpu"), integer(k + "threads", 0, 0, 1024), props,
            trust));
      }
      return out;
    }

    private AdmissionPolicy admission() throws ConfigException {
      AdmissionPolicy d = AdmissionPolicy.defaults();
      int capacity = integer("admission.queue-capacity", d.queueCapacity(), 1, 1 << 20);
      TenantPolicy defaults = tenantPolicy("admission.defaults.", d.tenantDefaults());
      Map<String, TenantPolicy> tenants = new LinkedHashMap<>();
      Config tnode = root.get("admission.tenants");
      if (tnode.exists()) {
        // A list of {id, ...} rather than a map: tenant ids may contain dots, which config keys cannot.
        if (tnode.type() != Config.Type.LIST) {
          throw new ConfigException(origin + ": admission.tenants must be a list of {id, weight, rate-per-second,"
              + " burst, max-concurrent, max-queued}");
        }
        int n = tnode.asNodeList().get().size();
        for (int i = 0; i < n; i++) {
          String k = "admission.tenants." + i + ".";
          String id = string(k + "id", "");
          if (!TENANT_NAME.matcher(id).matches()) {
            throw bad(k + "id", "must be a tenant id: 1..128 characters from [A-Za-z0-9._:@/-]");
          }
          if (tenants.put(id, tenantPolicy(k, defaults)) != null) {
            throw bad(k + "id", "repeats an earlier tenant's id");
          }
        }
      }
      return new AdmissionPolicy(capacity, defaults, tenants, throttle(d.throttle()));
    }

    private ThrottlePolicy throttle(ThrottlePolicy d) throws ConfigException {
      String p = "admission.throttle.";
      Duration window = duration(p + "window", d.window(), Duration.ofHours(1));
      Duration quiet = duration(p + "quiet-period", d.quietPeriod(), Duration.ofHours(24));
      Duration step = duration(p + "recovery-step", d.recoveryStep(), Duration.ofHours(24));
      for (var e : Map.of("window", window, "quiet-period", quiet, "recovery-step", step).entrySet()) {
        if (e.getValue().isZero()) {
          throw bad(p + e.getKey(), "must be positive, got PT0S");
        }
      }
      int invalid = integer(p + "invalid-threshold", d.invalidThreshold(), 0, 1 << 20);
      int probe = integer(p + "probe-threshold", d.probeThreshold(), 0, 1 << 20);
      int reject = integer(p + "reject-threshold", d.rejectThreshold(), 0, 1 << 20);
      double factor = decimal(p + "factor", d.factor(), 0.0001, 0.9999);
      double min = decimal(p + "min-factor", d.minFactor(), 0.0001, 0.9999);
      if (min > factor) {
        throw bad(p + "min-factor", "must be at most admission.throttle.factor (" + factor + "), got " + min);
      }
      try {
        return new ThrottlePolicy(window, invalid, probe, reject, factor, min, quiet, step);
      } catch (IllegalArgumentException e) {
        throw new ConfigException(origin + ": admission.throttle: " + e.getMessage());
      }
    }

    private TenantPolicy tenantPolicy(String prefix, TenantPolicy d) throws ConfigException {
      double weight = decimal(prefix + "weight", d.weight(), 0.001, 1000);
      double rate = decimal(prefix + "rate-per-second", d.ratePerSecond(), 0.001, 1e6);
      int burst = integer(prefix + "burst", d.burst(), 1, 1 << 20);
      int concurrent = integer(prefix + "max-concurrent", d.maxConcurrent(), 1, 1 << 20);
      int queued = integer(prefix + "max-queued", d.maxQueued(), 1, 1 << 20);
      try {
        return new TenantPolicy(weight, rate, burst, concurrent, queued);
      } catch (IllegalArgumentException e) {
        throw new ConfigException(origin + ": " + display(prefix.substring(0, prefix.length() - 1)) + ": "
            + e.getMessage());
      }
    }

    private void checkUnknownKeys() throws ConfigException {
      List<String> unknown = new ArrayList<>();
      root.traverse().filter(Config::isLeaf).forEach(c -> {
        String key = c.key().toString();
        if (!known(key)) {
          unknown.add(display(key));
        }
      });
      if (!unknown.isEmpty()) {
        throw new ConfigException(origin + ": unknown key" + (unknown.size() > 1 ? "s " : " ")
            + String.join(", ", new TreeSet<>(unknown)) + " (see config/sampler-example.yaml for the schema)");
      }
    }

    private static boolean known(String key) {
      if (FIXED_KEYS.contains(key)) {
        return true;
      }
      String[] parts = key.split("\\.");
      if (parts.length == 3 && parts[0].equals("models") && parts[1].matches("\\d+")) {
        return MODEL_KEYS.contains(parts[2]);
      }
      if (parts.length == 3 && LIST_KEYS.contains(parts[0] + "." + parts[1]) && parts[2].matches("\\d+")) {
        return true;
      }
      if (parts.length >= 4 && parts[0].equals("models") && parts[1].matches("\\d+") && parts[2].equals("properties")) {
        return true;
      }
      if (parts.length == 3 && parts[0].equals("admission") && parts[1].equals("defaults")) {
        return TENANT_KEYS.contains(parts[2]);
      }
      if (parts.length == 4 && parts[0].equals("admission") && parts[1].equals("tenants") && parts[2].matches("\\d+")) {
        return parts[3].equals("id") || TENANT_KEYS.contains(parts[3]);
      }
      return false;
    }

    // --- scalar readers: the environment first, then the file ---

    private boolean has(String key) {
      return env.containsKey(envName(key)) || root.get(key).exists();
    }

    private Optional<String> raw(String key) throws ConfigException {
      String fromEnv = env.get(envName(key));
      if (fromEnv != null) {
        return Optional.of(fromEnv.strip());
      }
      Config node = root.get(key);
      if (!node.exists()) {
        return Optional.empty();
      }
      if (!node.isLeaf()) {
        throw bad(key, "must be a single value, not a section or list");
      }
      return Optional.of(node.asString().get().strip());
    }

    private String string(String key, String def) throws ConfigException {
      return raw(key).filter(s -> !s.isEmpty()).orElse(def);
    }

    private Optional<String> optionalString(String key) throws ConfigException {
      return raw(key).filter(s -> !s.isEmpty());
    }

    private String tenantName(String key, String def) throws ConfigException {
      String v = string(key, def);
      if (!TENANT_NAME.matcher(v).matches()) {
        throw bad(key, "must be 1..128 characters from [A-Za-z0-9._:@/-]");
      }
      return v;
    }

    private int integer(String key, int def, int min, int max) throws ConfigException {
      Optional<String> v = raw(key);
      if (v.isEmpty() || v.get().isEmpty()) {
        return def;
      }
      long n;
      try {
        n = Long.parseLong(v.get());
      } catch (NumberFormatException e) {
        throw bad(key, "must be an integer in " + min + ".." + max + ", got \"" + v.get() + "\"");
      }
      if (n < min || n > max) {
        throw bad(key, "must be " + min + ".." + max + ", got " + n);
      }
      return (int) n;
    }

    private double decimal(String key, double def, double min, double max) throws ConfigException {
      Optional<String> v = raw(key);
      if (v.isEmpty() || v.get().isEmpty()) {
        return def;
      }
      double d;
      try {
        d = Double.parseDouble(v.get());
      } catch (NumberFormatException e) {
        throw bad(key, "must be a number in " + min + ".." + max + ", got \"" + v.get() + "\"");
      }
      if (!(d >= min && d <= max)) {
        throw bad(key, "must be " + min + ".." + max + ", got " + v.get());
      }
      return d;
    }

    private boolean bool(String key, boolean def) throws ConfigException {
      Optional<String> v = raw(key);
      if (v.isEmpty() || v.get().isEmpty()) {
        return def;
      }
      return switch (v.get().toLowerCase(Locale.ROOT)) {
        case "true" -> true;
        case "false" -> false;
        default -> throw bad(key, "must be true or false, got \"" + v.get() + "\"");
      };
    }

    private Duration positiveDuration(String key, Duration def, Duration max) throws ConfigException {
      Duration d = duration(key, def, max);
      if (d.isZero()) {
        throw bad(key, "must be more than PT0S");
      }
      return d;
    }

    private Duration duration(String key, Duration def, Duration max) throws ConfigException {
      Optional<String> v = raw(key);
      if (v.isEmpty() || v.get().isEmpty()) {
        return def;
      }
      Duration d;
      try {
        d = Duration.parse(v.get());
      } catch (DateTimeParseException e) {
        throw bad(key, "must be an ISO-8601 duration such as PT30S or PT0.5S, got \"" + v.get() + "\"");
      }
      if (d.isNegative() || d.compareTo(max) > 0) {
        throw bad(key, "must be between PT0S and " + max + ", got " + d);
      }
      return d;
    }

    private Optional<Path> existingFile(String key) throws ConfigException {
      Optional<String> v = optionalString(key);
      if (v.isEmpty()) {
        return Optional.empty();
      }
      Path p = path(v.get());
      if (!Files.isRegularFile(p)) {
        throw bad(key, "no such file: " + p);
      }
      if (!Files.isReadable(p)) {
        throw bad(key, "not readable: " + p);
      }
      return Optional.of(p);
    }

    private Path path(String text) {
      Path p = Path.of(text);
      return p.isAbsolute() ? p : base.resolve(p).normalize();
    }

    private ConfigException bad(String key, String problem) {
      String where = env.containsKey(envName(key)) ? " (from " + envName(key) + ")" : "";
      return new ConfigException(origin + ": " + display(key) + where + " " + problem);
    }

    /** {@code models.0.dir} as {@code models[0].dir}. */
    private static String display(String key) {
      return key.replaceAll("\\.(\\d+)(\\.|$)", "[$1]$2");
    }
  }
}
