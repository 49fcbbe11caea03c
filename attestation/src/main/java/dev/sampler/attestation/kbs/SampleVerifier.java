package dev.sampler.attestation.kbs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.attestation.AttestationException;
import dev.sampler.attestation.internal.Codec;
import java.security.MessageDigest;
import java.util.Objects;

/**
 * Verifies {@code sample} evidence the way Trustee's sample verifier does (B4): the evidence must be
 * {@code {"svn":<string>,"report_data":<standard base64>}} and its report data must equal the
 * expected binding digest byte for byte (no padding, no signature: this proves nothing about the
 * platform and is for development only).
 */
public final class SampleVerifier {
  private SampleVerifier() {}

  /**
   * Checks {@code sampleEvidence} against {@code expectedReportData}.
   *
   * @return the claims, as upstream: {@code {"svn","report_data","launch_digest":"abcde",
   *     "platform_version":{"major":1,"minor":4},"debug":false}}
   * @throws AttestationException if the evidence is not an object, {@code svn} is missing or not a
   *     string, {@code report_data} is not a string of canonical standard base64 (missing counts as
   *     empty, as upstream), or its bytes differ from {@code expectedReportData}
   */
  public static JsonNode verify(JsonNode sampleEvidence, byte[] expectedReportData)
      throws AttestationException {
    Objects.requireNonNull(expectedReportData, "expectedReportData");
    if (sampleEvidence == null || !sampleEvidence.isObject()) {
      throw new AttestationException("sample evidence: must be a JSON object");
    }
    JsonNode svn = sampleEvidence.get("svn");
    if (svn == null || !svn.isTextual()) {
      throw new AttestationException("sample evidence: svn is missing or not a string");
    }
    JsonNode rd = sampleEvidence.get("report_data");
    String reportData;
    if (rd == null) {
      reportData = ""; // serde default in Trustee's SampleTeeEvidence
    } else if (rd.isTextual()) {
      reportData = rd.textValue();
    } else {
      throw new AttestationException("sample evidence: report_data is not a string");
    }
    byte[] actual =
        Codec.fromB64(reportData)
            .orElseThrow(() -> new AttestationException("sample evidence: report_data is not standard base64"));
    if (!MessageDigest.isEqual(actual, expectedReportData)) {
      throw new AttestationException(
          "sample evidence: report_data does not match the expected binding digest"
              + " (evidence bound to another nonce or key)");
    }
    ObjectNode claims = Codec.JSON.createObjectNode();
    claims.put("svn", svn.textValue());
    claims.put("report_data", reportData);
    claims.put("launch_digest", "abcde");
    ObjectNode pv = claims.putObject("platform_version");
    pv.put("major", 1);
    pv.put("minor", 4);
    claims.put("debug", false);
    return claims;
  }
}
