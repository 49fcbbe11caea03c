package dev.sampler.attestation.kbs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.attestation.internal.Codec;
import dev.sampler.attestation.jcs.Jcs;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;
import java.util.Objects;

/**
 * The RCAR report-data binding (B4): {@code report_data = H(JCS({"additional-evidence":
 * <string>, "nonce": <challenge nonce>, "tee-pubkey": <JWK>}))} with H = SHA-384 by default
 * (SHA-512 when the challenge selects it, as Trustee does for {@code se}). Both the client
 * (evidence) and the broker (verification) compute it; evidence bound to another nonce or key
 * therefore carries a different digest.
 */
public final class RcarBinding {
  /** The hash when the challenge selects none. */
  public static final String DEFAULT_HASH_ALGORITHM = "sha384";

  private RcarBinding() {}

  /**
   * The canonical JSON that is hashed (RFC 8785 bytes of the three-member object).
   *
   * @throws IllegalArgumentException if {@code teePubkey} cannot be canonicalized (see {@link Jcs})
   */
  public static byte[] canonicalInput(String nonce, JsonNode teePubkey, String additionalEvidence) {
    Objects.requireNonNull(nonce, "nonce");
    Objects.requireNonNull(teePubkey, "teePubkey");
    Objects.requireNonNull(additionalEvidence, "additionalEvidence");
    ObjectNode o = Codec.JSON.createObjectNode();
    o.put("additional-evidence", additionalEvidence);
    o.put("nonce", nonce);
    o.set("tee-pubkey", teePubkey);
    return Jcs.canonicalize(o);
  }

  /**
   * The report data binding {@code nonce} and {@code teePubkey}.
   *
   * @param nonce the challenge nonce, verbatim
   * @param teePubkey the public JWK sent as {@code tee-pubkey}
   * @param additionalEvidence the Attestation's {@code additional_evidence} string ({@code ""} when
   *     there is none)
   * @param hashAlgorithm {@code sha256}, {@code sha384} or {@code sha512} (case-insensitive); null
   *     means {@value #DEFAULT_HASH_ALGORITHM}
   * @return the digest (32, 48 or 64 bytes)
   * @throws IllegalArgumentException for another hash algorithm ({@code sm3} is not supported) or
   *     a {@code teePubkey} that cannot be canonicalized
   */
  public static byte[] reportData(
      String nonce, JsonNode teePubkey, String additionalEvidence, String hashAlgorithm) {
    return digest(hashAlgorithm, canonicalInput(nonce, teePubkey, additionalEvidence));
  }

  /** {@link #reportData} with no additional evidence and SHA-384 (every tee but {@code se}). */
  public static byte[] reportData(String nonce, JsonNode teePubkey) {
    return reportData(nonce, teePubkey, "", DEFAULT_HASH_ALGORITHM);
  }

  private static byte[] digest(String hashAlgorithm, byte[] input) {
    String name = hashAlgorithm == null ? DEFAULT_HASH_ALGORITHM : hashAlgorithm.toLowerCase(Locale.ROOT);
    String jdk =
        switch (name) {
          case "sha256" -> "SHA-256";
          case "sha384" -> "SHA-384";
          case "sha512" -> "SHA-512";
          default ->
              throw new IllegalArgumentException(
                  "RCAR binding: hash algorithm is not supported (allowed: sha256, sha384, sha512)");
        };
    try {
      return MessageDigest.getInstance(jdk).digest(input);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no " + jdk, e);
    }
  }
}
