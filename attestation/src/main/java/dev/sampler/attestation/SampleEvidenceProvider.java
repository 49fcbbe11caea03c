package dev.sampler.attestation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.attestation.internal.Codec;
import java.util.Objects;

/**
 * INSECURE development evidence, like Trustee's {@code sample} attester: {@code {"svn":"1",
 * "report_data":"<standard base64 of the report data>"}} with no signature, so anyone can forge it.
 * A key broker must only release keys to it under an explicit development policy.
 *
 * <p>It refuses to run unless constructed with the development flag set, and it logs a warning
 * every time it produces evidence.
 */
public final class SampleEvidenceProvider implements EvidenceProvider {
  /** The KBS tee value of this evidence. */
  public static final String TEE = "sample";

  private static final System.Logger LOG = System.getLogger(SampleEvidenceProvider.class.getName());

  private final boolean devFlag;

  /**
   * @param devFlag true only when the operator explicitly enabled insecure development attestation;
   *     when false, {@link #evidence} always fails
   */
  public SampleEvidenceProvider(boolean devFlag) {
    this.devFlag = devFlag;
  }

  /** Always {@value #TEE}. */
  @Override
  public String tee() {
    return TEE;
  }

  /**
   * Sample evidence whose {@code report_data} is {@code reportData}, base64 (standard, padded).
   *
   * @throws AttestationException without the development flag ("sample evidence is insecure ...")
   *     or if {@code reportData} is longer than 64 bytes (a real TEE's report data field)
   */
  @Override
  public JsonNode evidence(byte[] reportData) throws AttestationException {
    Objects.requireNonNull(reportData, "reportData");
    if (!devFlag) {
      throw new AttestationException(
          "sample evidence: refused: sample evidence is INSECURE (unsigned, forgeable by anyone) and is"
              + " produced only when the development flag is set explicitly");
    }
    if (reportData.length > 64) {
      throw new AttestationException(
          "sample evidence: report data must be at most 64 bytes, got " + reportData.length);
    }
    LOG.log(System.Logger.Level.WARNING,
        "INSECURE sample attestation evidence produced (development flag set): it proves nothing about this machine");
    ObjectNode ev = Codec.JSON.createObjectNode();
    ev.put("svn", "1");
    ev.put("report_data", Codec.b64(reportData));
    return ev;
  }

  /** Says that this is the insecure sample provider and whether it is enabled. */
  @Override
  public String toString() {
    return "SampleEvidenceProvider[INSECURE, " + (devFlag ? "enabled by the development flag" : "disabled") + "]";
  }
}
