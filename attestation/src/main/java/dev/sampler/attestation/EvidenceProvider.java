package dev.sampler.attestation;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Produces TEE evidence (the {@code primary_evidence} of an RCAR Attestation) whose report data is
 * the caller's binding digest. Implementations: {@link SampleEvidenceProvider} (insecure, for
 * development) and {@link TsmReportProvider} (Linux configfs-tsm: SEV-SNP and TDX).
 */
public interface EvidenceProvider {
  /**
   * The KBS {@code tee} value this provider's evidence is for ({@code "sample"}, {@code "snp"},
   * {@code "tdx"}, ...). It may need to look at the platform; it never returns null.
   *
   * @throws IllegalStateException if the platform cannot be identified (the message says why)
   */
  String tee();

  /**
   * Collects evidence whose report data carries {@code reportData} (the RCAR binding digest, at
   * most 64 bytes).
   *
   * @param reportData the binding digest; not retained
   * @return evidence JSON in the shape the key broker's verifier for {@link #tee()} expects
   * @throws AttestationException if evidence cannot be produced; the message names the step
   */
  JsonNode evidence(byte[] reportData) throws AttestationException;
}
