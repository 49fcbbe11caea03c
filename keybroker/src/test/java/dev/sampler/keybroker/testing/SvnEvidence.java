package dev.sampler.keybroker.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.attestation.EvidenceProvider;
import java.util.Base64;

/**
 * A test evidence provider: sample evidence with a chosen svn, bound to the report data the
 * client asks for (so it verifies, and the policy decides).
 */
public final class SvnEvidence implements EvidenceProvider {
  private final String svn;

  /** Evidence claiming {@code svn}. */
  public SvnEvidence(String svn) {
    this.svn = svn;
  }

  @Override
  public String tee() {
    return "sample";
  }

  @Override
  public JsonNode evidence(byte[] reportData) {
    ObjectNode n = RawKbs.JSON.createObjectNode();
    n.put("svn", svn);
    n.put("report_data", Base64.getEncoder().encodeToString(reportData));
    return n;
  }
}
