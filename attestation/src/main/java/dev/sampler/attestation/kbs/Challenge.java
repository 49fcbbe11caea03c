package dev.sampler.attestation.kbs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.attestation.AttestationException;
import dev.sampler.attestation.internal.Codec;
import java.util.Locale;
import java.util.Objects;

/**
 * The RCAR Challenge body answering {@code POST /auth} (B3): {@code {"nonce":"<standard base64 of
 * 32 random bytes>","extra-params":""}}; for {@code se} extra-params is {@code
 * {"selected-hash-algorithm":"sha512"}}.
 *
 * @param nonce the nonce, used verbatim in the Attestation and the binding
 * @param extraParams {@code ""} or an object
 */
public record Challenge(String nonce, JsonNode extraParams) {
  /** @throws NullPointerException if a member is null */
  public Challenge {
    Objects.requireNonNull(nonce, "nonce");
    Objects.requireNonNull(extraParams, "extraParams");
  }

  /** A challenge with {@code "extra-params":""} (every tee but {@code se}). */
  public static Challenge of(String nonce) {
    return new Challenge(nonce, Codec.JSON.getNodeFactory().textNode(""));
  }

  /**
   * The binding hash the broker selected ({@code extra-params.selected-hash-algorithm}, lower-cased),
   * else {@link RcarBinding#DEFAULT_HASH_ALGORITHM}.
   *
   * @throws AttestationException if the selected algorithm is present but not a string, or is not
   *     one of {@link KbsProtocol#HASH_ALGORITHMS}
   */
  public String hashAlgorithm() throws AttestationException {
    JsonNode sel = extraParams.isObject() ? extraParams.get(KbsProtocol.SELECTED_HASH_ALGORITHM) : null;
    if (sel == null) {
      return RcarBinding.DEFAULT_HASH_ALGORITHM;
    }
    if (!sel.isTextual()) {
      throw new AttestationException("Challenge: extra-params.selected-hash-algorithm is not a string");
    }
    String name = sel.textValue().toLowerCase(Locale.ROOT);
    if (!KbsProtocol.HASH_ALGORITHMS.contains(name)) {
      throw new AttestationException(
          "Challenge: selected hash algorithm is not supported (allowed: " + String.join(", ", KbsProtocol.HASH_ALGORITHMS) + ")");
    }
    return name;
  }

  /** The JSON body, members in the order nonce, extra-params. */
  public ObjectNode toJson() {
    ObjectNode o = Codec.JSON.createObjectNode();
    o.put("nonce", nonce);
    o.set(KbsProtocol.EXTRA_PARAMS, extraParams.deepCopy());
    return o;
  }

  /**
   * Reads a Challenge body; {@code extra-params} may be absent (then {@code ""}).
   *
   * @throws AttestationException if it is not an object or the nonce is missing or not a string
   */
  public static Challenge fromJson(JsonNode json) throws AttestationException {
    if (json == null || !json.isObject()) {
      throw new AttestationException("Challenge: must be a JSON object");
    }
    JsonNode extra = json.get(KbsProtocol.EXTRA_PARAMS);
    return new Challenge(
        Messages.text(json, "nonce", "Challenge"),
        extra == null ? Codec.JSON.getNodeFactory().textNode("") : extra.deepCopy());
  }
}
