package dev.sampler.engine.schedule;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.engine.ModelException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;

/**
 * A diffusers {@code scheduler_config.json}: the same keys, read with each scheduler's own
 * defaults (as diffusers' {@code from_config} does: keys a scheduler does not know are ignored,
 * missing keys take that scheduler's default). Immutable.
 *
 * <p>{@link #sha256()} is the digest of the file's bytes as read (the "scheduler-config digest"
 * reported with every image); a config derived with {@link #with} keeps the source digest and
 * records its overrides in {@link #overrides()}.
 */
public final class SchedulerConfig {
  /**
   * Python's json (which diffusers' save_config uses) writes -Infinity / NaN as bare tokens, e.g.
   * DPMSolverMultistepScheduler's default {@code "lambda_min_clipped": -Infinity}: read them as
   * numbers, and write them back the same way.
   */
  private static final ObjectMapper MAPPER = JsonMapper.builder()
      .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
      .disable(JsonWriteFeature.WRITE_NAN_AS_STRINGS)
      .build();

  private final ObjectNode root;
  private final String source;
  private final String sha256;
  private final Map<String, Object> overrides;

  private SchedulerConfig(ObjectNode root, String source, String sha256, Map<String, Object> overrides) {
    this.root = root;
    this.source = source;
    this.sha256 = sha256;
    this.overrides = overrides;
  }

  /** Reads a scheduler_config.json. */
  public static SchedulerConfig read(Path file) throws ModelException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new ModelException(file + ": cannot read scheduler config: " + e.getMessage(), e);
    }
    return parse(bytes, file.getFileName().toString());
  }

  /**
   * Parses scheduler_config.json bytes; {@code source} names them in error messages.
   *
   * @throws ModelException if the bytes are not a JSON object
   */
  public static SchedulerConfig parse(byte[] json, String source) throws ModelException {
    JsonNode node;
    try {
      node = MAPPER.readTree(json);
    } catch (IOException e) {
      throw new ModelException(source + ": not valid JSON: " + e.getMessage(), e);
    }
    if (!(node instanceof ObjectNode object)) {
      throw new ModelException(source + ": a scheduler config must be a JSON object");
    }
    return new SchedulerConfig(object, source, digest(json), Map.of());
  }

  /** A config from a JSON object (tests; the digest is over its compact serialization). */
  public static SchedulerConfig of(ObjectNode json, String source) {
    try {
      return parse(MAPPER.writeValueAsBytes(json), source);
    } catch (IOException | ModelException e) {
      throw new IllegalArgumentException(e);
    }
  }

  /**
   * This config with some keys replaced (for example {@code _class_name} and
   * {@code use_karras_sigmas}), like diffusers' {@code Scheduler.from_config(config, **kwargs)}.
   * Values may be String, Boolean, Integer, Long, Double or null.
   */
  public SchedulerConfig with(Map<String, ?> replace) {
    ObjectNode copy = root.deepCopy();
    java.util.LinkedHashMap<String, Object> all = new java.util.LinkedHashMap<>(overrides);
    for (Map.Entry<String, ?> e : replace.entrySet()) {
      Object v = e.getValue();
      switch (v) {
        case null -> copy.putNull(e.getKey());
        case String s -> copy.put(e.getKey(), s);
        case Boolean b -> copy.put(e.getKey(), b);
        case Integer i -> copy.put(e.getKey(), i);
        case Long l -> copy.put(e.getKey(), l);
        case Double d -> copy.put(e.getKey(), d);
        default -> throw new IllegalArgumentException("unsupported override type for '" + e.getKey() + "': "
            + v.getClass().getSimpleName());
      }
      all.put(e.getKey(), v);
    }
    return new SchedulerConfig(copy, source, sha256, java.util.Collections.unmodifiableMap(all));
  }

  /** {@code _class_name}, or null if absent. */
  public String className() {
    JsonNode n = root.get("_class_name");
    return n == null || n.isNull() ? null : n.asText();
  }

  /** Where the config came from (file name), for messages. */
  public String source() {
    return source;
  }

  /** Lower-case hex SHA-256 of the source bytes. */
  public String sha256() {
    return sha256;
  }

  /** Keys replaced by {@link #with}, in order; empty for a config as read. */
  public Map<String, Object> overrides() {
    return overrides;
  }

  /** True if the key is present and not JSON null. */
  public boolean has(String key) {
    JsonNode n = root.get(key);
    return n != null && !n.isNull();
  }

  /** The raw JSON value (null if absent). */
  public JsonNode get(String key) {
    return root.get(key);
  }

  /** An integer key, or {@code dflt} if absent or null. */
  public int getInt(String key, int dflt) {
    JsonNode n = root.get(key);
    if (n == null || n.isNull()) {
      return dflt;
    }
    if (!n.isIntegralNumber() || !n.canConvertToInt()) {
      throw new IllegalArgumentException(source + ": '" + key + "' must be an integer, got " + n);
    }
    return n.intValue();
  }

  /** A number key, or {@code dflt} if absent or null. */
  public double getDouble(String key, double dflt) {
    JsonNode n = root.get(key);
    if (n == null || n.isNull()) {
      return dflt;
    }
    if (!n.isNumber()) {
      throw new IllegalArgumentException(source + ": '" + key + "' must be a number, got " + n);
    }
    return n.doubleValue();
  }

  /** A boolean key, or {@code dflt} if absent or null. */
  public boolean getBoolean(String key, boolean dflt) {
    JsonNode n = root.get(key);
    if (n == null || n.isNull()) {
      return dflt;
    }
    if (!n.isBoolean()) {
      throw new IllegalArgumentException(source + ": '" + key + "' must be true or false, got " + n);
    }
    return n.booleanValue();
  }

  /** A string key, or {@code dflt} if absent or null. */
  public String getString(String key, String dflt) {
    JsonNode n = root.get(key);
    if (n == null || n.isNull()) {
      return dflt;
    }
    if (!n.isTextual()) {
      throw new IllegalArgumentException(source + ": '" + key + "' must be a string, got " + n);
    }
    return n.textValue();
  }

  /**
   * A string key that must be one of {@code allowed}.
   *
   * @throws IllegalArgumentException naming the key, the value and the supported values
   */
  public String getChoice(String key, String dflt, String... allowed) {
    String v = getString(key, dflt);
    for (String a : allowed) {
      if (a.equals(v)) {
        return v;
      }
    }
    throw new IllegalArgumentException(source + ": unsupported value for '" + key + "': \"" + v
        + "\" (supported: " + String.join(", ", allowed) + ")");
  }

  /** The JSON text (compact), as this config's keys stand. */
  public String toJson() {
    try {
      return MAPPER.writeValueAsString(root);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String digest(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK provides no SHA-256", e);
    }
  }

  @Override
  public String toString() {
    return "SchedulerConfig[" + source + ", " + Objects.requireNonNullElse(className(), "?") + "]";
  }
}
