package dev.sampler.attestation.kbs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sampler.attestation.AttestationException;

/** Shared member checks for the protocol records; messages name the member, never its value. */
final class Messages {
  private Messages() {}

  static String text(JsonNode json, String member, String what) throws AttestationException {
    JsonNode v = json.get(member);
    if (v == null || !v.isTextual()) {
      throw new AttestationException(what + ": " + member + " is missing or not a string");
    }
    return v.textValue();
  }

  static JsonNode object(JsonNode json, String member, String what) throws AttestationException {
    JsonNode v = json.get(member);
    if (v == null || !v.isObject()) {
      throw new AttestationException(what + ": " + member + " is missing or not an object");
    }
    return v;
  }
}
