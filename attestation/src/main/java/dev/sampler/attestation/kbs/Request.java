package dev.sampler.attestation.kbs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.attestation.AttestationException;
import dev.sampler.attestation.internal.Codec;
import java.util.Objects;

/**
 * The RCAR Request body of {@code POST /auth} (B2): {@code {"version":"0.4.0","tee":…,
 * "extra-params":{"supported-hash-algorithms":[…]}}}.
 *
 * @param version the protocol version ({@link KbsProtocol#VERSION})
 * @param tee the TEE type, one of {@link KbsProtocol#TEES}
 * @param extraParams free-form extra parameters (an object, or {@code ""} in older clients)
 */
public record Request(String version, String tee, JsonNode extraParams) {
  /** @throws NullPointerException if a member is null */
  public Request {
    Objects.requireNonNull(version, "version");
    Objects.requireNonNull(tee, "tee");
    Objects.requireNonNull(extraParams, "extraParams");
  }

  /** The Request this client sends for {@code tee}, offering {@link KbsProtocol#HASH_ALGORITHMS}. */
  public static Request of(String tee) {
    ObjectNode extra = Codec.JSON.createObjectNode();
    extra.putArray(KbsProtocol.SUPPORTED_HASH_ALGORITHMS).addAll(
        KbsProtocol.HASH_ALGORITHMS.stream().map(Codec.JSON.getNodeFactory()::textNode).toList());
    return new Request(KbsProtocol.VERSION, tee, extra);
  }

  /** The JSON body, members in the order version, tee, extra-params. */
  public ObjectNode toJson() {
    ObjectNode o = Codec.JSON.createObjectNode();
    o.put("version", version);
    o.put("tee", tee);
    o.set(KbsProtocol.EXTRA_PARAMS, extraParams.deepCopy());
    return o;
  }

  /**
   * Reads a Request body. It checks the shape only (the broker decides whether the version and tee
   * are acceptable); {@code extra-params} may be absent (then {@code ""}). Unknown members are
   * ignored, as serde does upstream.
   *
   * @throws AttestationException naming the member that is missing or has the wrong type
   */
  public static Request fromJson(JsonNode json) throws AttestationException {
    if (json == null || !json.isObject()) {
      throw new AttestationException("Request: must be a JSON object");
    }
    JsonNode extra = json.get(KbsProtocol.EXTRA_PARAMS);
    return new Request(
        Messages.text(json, "version", "Request"),
        Messages.text(json, "tee", "Request"),
        extra == null ? Codec.JSON.getNodeFactory().textNode("") : extra.deepCopy());
  }
}
