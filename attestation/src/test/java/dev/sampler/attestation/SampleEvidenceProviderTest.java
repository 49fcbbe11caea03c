package dev.sampler.attestation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sampler.attestation.kbs.SampleVerifier;
import org.junit.jupiter.api.Test;

class SampleEvidenceProviderTest {
  @Test
  void evidence_withoutDevFlag_refusesSayingInsecure() {
    SampleEvidenceProvider p = new SampleEvidenceProvider(false);
    AttestationException e = assertThrows(AttestationException.class, () -> p.evidence(new byte[48]));
    assertEquals("sample evidence: refused: sample evidence is INSECURE (unsigned, forgeable by anyone) and is"
        + " produced only when the development flag is set explicitly", e.getMessage());
    assertEquals("sample", p.tee());
  }

  @Test
  void evidence_withDevFlag_isTrusteeSampleShapeAndVerifies() throws Exception {
    byte[] rd = new byte[48];
    for (int i = 0; i < rd.length; i++) {
      rd[i] = (byte) i;
    }
    JsonNode ev = new SampleEvidenceProvider(true).evidence(rd);
    assertEquals("{\"svn\":\"1\",\"report_data\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v\"}",
        ev.toString());
    SampleVerifier.verify(ev, rd);
  }

  @Test
  void evidence_reportDataOver64Bytes_refused() {
    AttestationException e = assertThrows(AttestationException.class,
        () -> new SampleEvidenceProvider(true).evidence(new byte[65]));
    assertEquals("sample evidence: report data must be at most 64 bytes, got 65", e.getMessage());
  }
}
