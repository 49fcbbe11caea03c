package dev.sampler.attestation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sampler.attestation.testing.Vectors;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TsmReportProvider's configfs-tsm file protocol against {@link SimulatedTsmKernel}: a temporary
 * directory and a thread playing the kernel. This is a SIMULATION of the kernel interface, not
 * attestation: no TEE is involved, the "quotes" are synthetic (TDX) or a real SEV-SNP report from
 * Trustee's tests with our report data spliced in (so its signature no longer verifies).
 */
class TsmReportProviderTest {
  private static final Duration LIMIT = Duration.ofSeconds(15);

  @TempDir Path dir;

  private static byte[] reportData() {
    byte[] rd = new byte[48];
    for (int i = 0; i < rd.length; i++) {
      rd[i] = (byte) (0xA0 + i);
    }
    return rd;
  }

  /** A synthetic TDX quote v4: header version 4, REPORTDATA at 568, some trailing bytes. */
  private static byte[] tdxQuote(byte[] inblob) {
    byte[] q = new byte[1024];
    ByteBuffer.wrap(q).order(ByteOrder.LITTLE_ENDIAN).putShort(0, (short) 4);
    System.arraycopy(inblob, 0, q, 568, 64);
    return q;
  }

  private static byte[] snpReport(byte[] inblob) {
    JsonNode ev = Vectors.json("trustee/attestation-service/tests/e2e/evidence.json");
    byte[] r = SnpReportTest.rawReport(ev.get("attestation_report"));
    System.arraycopy(inblob, 0, r, SnpReport.REPORT_DATA, 64);
    return r;
  }

  private JsonNode run(SimulatedTsmKernel k, byte[] rd) throws Exception {
    return assertTimeoutPreemptively(LIMIT, () -> new TsmReportProvider(dir, k).evidence(rd));
  }

  private void assertNoEntriesLeft() throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      assertEquals(0, s.count(), "report entries must be removed");
    }
  }

  @Test
  void evidence_tdxGuest_writesPaddedInblobAndReturnsQuote() throws Exception {
    try (SimulatedTsmKernel k = new SimulatedTsmKernel("tdx_guest", TsmReportProviderTest::tdxQuote, null, 1)) {
      byte[] rd = reportData();
      JsonNode ev = run(k, rd);
      assertArrayEquals(Arrays.copyOf(rd, 64), k.lastInblob);
      assertTrue(ev.get("cc_eventlog").isNull());
      assertArrayEquals(tdxQuote(Arrays.copyOf(rd, 64)), Base64.getDecoder().decode(ev.get("quote").textValue()));
      assertEquals(2, ev.size());
      assertEquals("tdx", assertTimeoutPreemptively(LIMIT, () -> new TsmReportProvider(dir, k).tee()));
      assertNoEntriesLeft();
    }
  }

  @Test
  void evidence_sevGuest_returnsParsedReportAndCertChain() throws Exception {
    JsonNode upstream = Vectors.json("trustee/attestation-service/tests/e2e/evidence.json");
    byte[] vcek = SnpReportTest.bytes(upstream.get("cert_chain").get(0).get("data"));
    byte[] aux = SnpReportTest.certTable(new String[] {"63da758de6644564adc5f4b93be8accd"}, new byte[][] {vcek});
    try (SimulatedTsmKernel k = new SimulatedTsmKernel("sev_guest", TsmReportProviderTest::snpReport, aux, 1)) {
      byte[] rd = reportData();
      JsonNode ev = run(k, rd);
      JsonNode report = SnpReportTest.reparse(ev.get("attestation_report"));
      for (int i = 0; i < 64; i++) {
        assertEquals(i < rd.length ? rd[i] & 0xFF : 0, report.get("report_data").get(i).intValue());
      }
      assertEquals(upstream.get("attestation_report").get("measurement"), report.get("measurement"));
      assertEquals(upstream.get("cert_chain"), SnpReportTest.reparse(ev.get("cert_chain")));
      assertNoEntriesLeft();
    }
  }

  @Test
  void evidence_concurrentWriterBumpsGeneration_refused() throws Exception {
    try (SimulatedTsmKernel k = new SimulatedTsmKernel("tdx_guest", TsmReportProviderTest::tdxQuote, null, 2)) {
      AttestationException e = assertThrows(AttestationException.class, () -> run(k, reportData()));
      assertEquals("configfs-tsm: generation went from 0 to 2 while the report was made"
          + " (another writer used the entry); report discarded", e.getMessage());
      assertNoEntriesLeft();
    }
  }

  @Test
  void evidence_reportWithoutOurReportData_refused() throws Exception {
    UnaryOperator<byte[]> other = in -> tdxQuote(new byte[64]);
    try (SimulatedTsmKernel k = new SimulatedTsmKernel("tdx_guest", other, null, 1)) {
      AttestationException e = assertThrows(AttestationException.class, () -> run(k, reportData()));
      assertEquals("configfs-tsm: the TDX quote does not carry the report data written to inblob", e.getMessage());
      assertNoEntriesLeft();
    }
  }

  @Test
  void evidence_unknownProvider_refusedNamingIt() throws Exception {
    try (SimulatedTsmKernel k = new SimulatedTsmKernel("arm_cca_guest", TsmReportProviderTest::tdxQuote, null, 1)) {
      AttestationException e = assertThrows(AttestationException.class, () -> run(k, reportData()));
      assertEquals("configfs-tsm: provider arm_cca_guest is not supported"
          + " (supported: sev_guest for SEV-SNP, tdx_guest for TDX)", e.getMessage());
      IllegalStateException t = assertThrows(IllegalStateException.class, () -> new TsmReportProvider(dir, k).tee());
      assertEquals(e.getMessage(), t.getMessage());
      assertNoEntriesLeft();
    }
  }

  @Test
  void evidence_noInterface_failsSayingSo() {
    Path missing = dir.resolve("no-such-tsm");
    AttestationException e = assertThrows(AttestationException.class,
        () -> new TsmReportProvider(missing).evidence(new byte[48]));
    assertEquals("configfs-tsm: " + missing + " is not a directory (no TSM report interface: not an SEV-SNP or"
        + " TDX guest, or configfs is not mounted)", e.getMessage());
  }

  @Test
  void evidence_reportDataOver64Bytes_refused() {
    AttestationException e = assertThrows(AttestationException.class,
        () -> new TsmReportProvider(dir).evidence(new byte[65]));
    assertEquals("configfs-tsm: report data must be at most 64 bytes, got 65", e.getMessage());
  }
}
