package dev.sampler.attestation.kbs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.attestation.internal.Codec;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A key broker error body (B1): {@code {"type":"https://github.com/confidential-containers/kbs/
 * errors/<Variant>","detail":"…"}}, sent with 401 (or 404 for {@code InvalidRequestPath} and
 * {@code PluginNotFound}).
 *
 * @param type the full type URL
 * @param detail a human-readable detail (never secrets)
 */
public record ErrorInformation(String type, String detail) {
  private static final Pattern VARIANT = Pattern.compile("[A-Za-z][A-Za-z0-9_]{0,63}");

  /** @throws NullPointerException if a member is null */
  public ErrorInformation {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(detail, "detail");
  }

  /**
   * The error for {@code variant} (e.g. {@link KbsProtocol#ERROR_ATTESTATION}).
   *
   * @throws IllegalArgumentException if the variant is not an identifier
   */
  public static ErrorInformation of(String variant, String detail) {
    if (variant == null || !VARIANT.matcher(variant).matches()) {
      throw new IllegalArgumentException("error variant must be an identifier [A-Za-z][A-Za-z0-9_]*");
    }
    return new ErrorInformation(KbsProtocol.ERROR_TYPE_PREFIX + variant, detail);
  }

  /** The Variant after {@link KbsProtocol#ERROR_TYPE_PREFIX}, if the type has that form. */
  public Optional<String> variant() {
    if (!type.startsWith(KbsProtocol.ERROR_TYPE_PREFIX)) {
      return Optional.empty();
    }
    String v = type.substring(KbsProtocol.ERROR_TYPE_PREFIX.length());
    return VARIANT.matcher(v).matches() ? Optional.of(v) : Optional.empty();
  }

  /** The JSON body, members in the order type, detail. */
  public ObjectNode toJson() {
    ObjectNode o = Codec.JSON.createObjectNode();
    o.put("type", type);
    o.put("detail", detail);
    return o;
  }

  /** Reads an error body; empty unless it is an object with string {@code type} and {@code detail}. */
  public static Optional<ErrorInformation> fromJson(JsonNode json) {
    if (json == null || !json.isObject()) {
      return Optional.empty();
    }
    JsonNode t = json.get("type");
    JsonNode d = json.get("detail");
    if (t == null || !t.isTextual() || d == null || !d.isTextual()) {
      return Optional.empty();
    }
    return Optional.of(new ErrorInformation(t.textValue(), d.textValue()));
  }
}
