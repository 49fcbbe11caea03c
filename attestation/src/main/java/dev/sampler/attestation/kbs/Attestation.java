package dev.sampler.attestation.kbs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.attestation.AttestationException;
import dev.sampler.attestation.internal.Codec;
import java.util.Objects;

/**
 * The RCAR Attestation body of {@code POST /attest} (B4):
 *
 * <pre>{@code
 * {"init-data": null | {"format":"toml","body":"…"},
 *  "runtime-data": {"nonce":"<challenge nonce>","tee-pubkey":<JWK>},
 *  "tee-evidence": {"primary_evidence":<TEE JSON>,"additional_evidence":""}}
 * }</pre>
 *
 * (kebab-case outside, snake_case inside {@code tee-evidence}).
 *
 * @param initData {@link NullNode} or {@code {"format","body"}}
 * @param runtimeData the nonce and the TEE public key
 * @param teeEvidence the primary evidence and the additional-evidence string
 */
public record Attestation(JsonNode initData, RuntimeData runtimeData, CompositeEvidence teeEvidence) {
  /** @throws NullPointerException if a member is null (use {@link NullNode} for no init-data) */
  public Attestation {
    Objects.requireNonNull(initData, "initData");
    Objects.requireNonNull(runtimeData, "runtimeData");
    Objects.requireNonNull(teeEvidence, "teeEvidence");
  }

  /**
   * The runtime data: the challenge nonce (verbatim) and the TEE public JWK (checked by the broker
   * with {@link dev.sampler.attestation.jwe.Jwk#publicKey}).
   *
   * @param nonce the challenge nonce
   * @param teePubkey the public JWK
   */
  public record RuntimeData(String nonce, JsonNode teePubkey) {
    /** @throws NullPointerException if a member is null */
    public RuntimeData {
      Objects.requireNonNull(nonce, "nonce");
      Objects.requireNonNull(teePubkey, "teePubkey");
    }
  }

  /**
   * The composite evidence.
   *
   * @param primaryEvidence the TEE's evidence JSON
   * @param additionalEvidence a JSON string mapping tee to evidence, or {@code ""}
   */
  public record CompositeEvidence(JsonNode primaryEvidence, String additionalEvidence) {
    /** @throws NullPointerException if a member is null */
    public CompositeEvidence {
      Objects.requireNonNull(primaryEvidence, "primaryEvidence");
      Objects.requireNonNull(additionalEvidence, "additionalEvidence");
    }
  }

  /** The JSON body, members in the order init-data, runtime-data, tee-evidence. */
  public ObjectNode toJson() {
    ObjectNode o = Codec.JSON.createObjectNode();
    o.set(KbsProtocol.INIT_DATA, initData.deepCopy());
    ObjectNode rd = o.putObject(KbsProtocol.RUNTIME_DATA);
    rd.put(KbsProtocol.NONCE, runtimeData.nonce());
    rd.set(KbsProtocol.TEE_PUBKEY, runtimeData.teePubkey().deepCopy());
    ObjectNode ev = o.putObject(KbsProtocol.TEE_EVIDENCE);
    ev.set(KbsProtocol.PRIMARY_EVIDENCE, teeEvidence.primaryEvidence().deepCopy());
    ev.put(KbsProtocol.ADDITIONAL_EVIDENCE, teeEvidence.additionalEvidence());
    return o;
  }

  /**
   * Reads an Attestation body, checking its shape: {@code init-data} absent, null or an object with
   * string {@code format} and {@code body}; {@code runtime-data} with a string nonce and an object
   * tee-pubkey; {@code tee-evidence} with {@code primary_evidence} present and a string {@code
   * additional_evidence} (absent means {@code ""}). Unknown members are ignored, as serde does.
   *
   * @throws AttestationException naming the member that is missing or has the wrong type
   */
  public static Attestation fromJson(JsonNode json) throws AttestationException {
    String what = "Attestation";
    if (json == null || !json.isObject()) {
      throw new AttestationException(what + ": must be a JSON object");
    }
    JsonNode init = json.get(KbsProtocol.INIT_DATA);
    if (init == null || init.isNull()) {
      init = NullNode.getInstance();
    } else if (init.isObject()) {
      Messages.text(init, "format", what + ": init-data");
      Messages.text(init, "body", what + ": init-data");
    } else {
      throw new AttestationException(what + ": init-data must be null or an object");
    }
    JsonNode rd = Messages.object(json, KbsProtocol.RUNTIME_DATA, what);
    String nonce = Messages.text(rd, KbsProtocol.NONCE, what + ": runtime-data");
    JsonNode key = Messages.object(rd, KbsProtocol.TEE_PUBKEY, what + ": runtime-data");
    JsonNode ev = Messages.object(json, KbsProtocol.TEE_EVIDENCE, what);
    JsonNode primary = ev.get(KbsProtocol.PRIMARY_EVIDENCE);
    if (primary == null || primary.isNull()) {
      throw new AttestationException(what + ": tee-evidence.primary_evidence is missing");
    }
    JsonNode add = ev.get(KbsProtocol.ADDITIONAL_EVIDENCE);
    String additional;
    if (add == null) {
      additional = "";
    } else if (add.isTextual()) {
      additional = add.textValue();
    } else {
      throw new AttestationException(what + ": tee-evidence.additional_evidence must be a string");
    }
    return new Attestation(
        init.deepCopy(),
        new RuntimeData(nonce, key.deepCopy()),
        new CompositeEvidence(primary.deepCopy(), additional));
  }
}
