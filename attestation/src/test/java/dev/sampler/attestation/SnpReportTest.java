package dev.sampler.attestation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sampler.attestation.testing.Vectors;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/**
 * The SEV-SNP report parser against Trustee's e2e SNP evidence (a real Genoa report and its VCEK,
 * vectors/trustee/attestation-service/tests/e2e/evidence.json). The raw report is rebuilt from the
 * JSON by {@link #rawReport}; AMD's signature verifying over the rebuilt bytes proves they are the
 * original report, so the parser's output matching the JSON proves the offsets and TCB layout.
 */
class SnpReportTest {
  private static final JsonNode EVIDENCE = Vectors.json("trustee/attestation-service/tests/e2e/evidence.json");

  @Test
  void toJson_realGenoaReport_matchesTrusteeEvidenceExactly() throws Exception {
    JsonNode expected = EVIDENCE.get("attestation_report");
    byte[] raw = rawReport(expected);
    assertTrue(amdSignatureVerifies(raw, EVIDENCE.get("cert_chain").get(0).get("data")),
        "the rebuilt report must be byte-exact (AMD's signature over it verifies)");
    // Compare as parsed JSON text: Jackson's IntNode and LongNode never compare equal.
    assertEquals(expected, reparse(SnpReport.toJson(raw)));
  }

  @Test
  void certChain_tableWithVcek_matchesTrusteeEvidence() throws Exception {
    byte[] vcek = bytes(EVIDENCE.get("cert_chain").get(0).get("data"));
    byte[] table = certTable(new String[] {"63da758de6644564adc5f4b93be8accd"}, new byte[][] {vcek});
    assertEquals(EVIDENCE.get("cert_chain"), reparse(SnpReport.certChain(table)));
  }

  @Test
  void certChain_emptyOrOnlyTerminator_isNull() throws Exception {
    assertNull(SnpReport.certChain(new byte[0]));
    assertNull(SnpReport.certChain(new byte[24]));
  }

  @Test
  void certChain_entryOutsideTable_fails() {
    byte[] table = certTable(new String[] {"63da758de6644564adc5f4b93be8accd"}, new byte[][] {new byte[10]});
    ByteBuffer.wrap(table).order(ByteOrder.LITTLE_ENDIAN).putInt(20, 10_000);
    AttestationException e = assertThrows(AttestationException.class, () -> SnpReport.certChain(table));
    assertEquals("configfs-tsm: SEV-SNP certificate table entry points outside the table", e.getMessage());
  }

  @Test
  void toJson_shortReport_fails() {
    AttestationException e = assertThrows(AttestationException.class, () -> SnpReport.toJson(new byte[100]));
    assertEquals("configfs-tsm: SEV-SNP report is 100 bytes, expected 1184", e.getMessage());
  }

  static JsonNode reparse(JsonNode n) throws Exception {
    return new com.fasterxml.jackson.databind.ObjectMapper().readTree(n.toString());
  }

  /** A GHCB certificate table: entries, the all-zero terminator, then the certificates. */
  static byte[] certTable(String[] guidsHex, byte[][] certs) {
    int header = 24 * (certs.length + 1);
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    ByteBuffer h = ByteBuffer.allocate(header).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < certs.length; i++) {
      h.put(HexFormat.of().parseHex(guidsHex[i]));
      h.putInt(header + data.size());
      h.putInt(certs[i].length);
      data.writeBytes(certs[i]);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(h.array());
    out.writeBytes(data.toByteArray());
    return out.toByteArray();
  }

  /** The raw ATTESTATION_REPORT for a (non-Turin) report JSON, per the AMD SEV-SNP ABI layout. */
  static byte[] rawReport(JsonNode r) {
    ByteBuffer b = ByteBuffer.allocate(SnpReport.SIZE).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(0x00, (int) r.get("version").longValue());
    b.putInt(0x04, (int) r.get("guest_svn").longValue());
    b.putLong(0x08, r.get("policy").longValue());
    put(b, 0x10, r.get("family_id"));
    put(b, 0x20, r.get("image_id"));
    b.putInt(0x30, (int) r.get("vmpl").longValue());
    b.putInt(0x34, (int) r.get("sig_algo").longValue());
    tcb(b, 0x38, r.get("current_tcb"));
    b.putLong(0x40, r.get("plat_info").longValue());
    b.putInt(0x48, (int) r.get("key_info").longValue());
    put(b, 0x50, r.get("report_data"));
    put(b, 0x90, r.get("measurement"));
    put(b, 0xC0, r.get("host_data"));
    put(b, 0xE0, r.get("id_key_digest"));
    put(b, 0x110, r.get("author_key_digest"));
    put(b, 0x140, r.get("report_id"));
    put(b, 0x160, r.get("report_id_ma"));
    tcb(b, 0x180, r.get("reported_tcb"));
    b.put(0x188, (byte) r.get("cpuid_fam_id").intValue());
    b.put(0x189, (byte) r.get("cpuid_mod_id").intValue());
    b.put(0x18A, (byte) r.get("cpuid_step").intValue());
    put(b, 0x1A0, r.get("chip_id"));
    tcb(b, 0x1E0, r.get("committed_tcb"));
    version(b, 0x1E8, r.get("current"));
    version(b, 0x1EC, r.get("committed"));
    tcb(b, 0x1F0, r.get("launch_tcb"));
    put(b, 0x2A0, r.get("signature").get("r"));
    put(b, 0x2A0 + 72, r.get("signature").get("s"));
    return b.array();
  }

  private static void tcb(ByteBuffer b, int at, JsonNode t) {
    b.put(at, (byte) t.get("bootloader").intValue());
    b.put(at + 1, (byte) t.get("tee").intValue());
    b.put(at + 6, (byte) t.get("snp").intValue());
    b.put(at + 7, (byte) t.get("microcode").intValue());
  }

  private static void version(ByteBuffer b, int at, JsonNode v) {
    b.put(at, (byte) v.get("build").intValue());
    b.put(at + 1, (byte) v.get("minor").intValue());
    b.put(at + 2, (byte) v.get("major").intValue());
  }

  private static void put(ByteBuffer b, int at, JsonNode array) {
    for (int i = 0; i < array.size(); i++) {
      b.put(at + i, (byte) array.get(i).intValue());
    }
  }

  static byte[] bytes(JsonNode array) {
    byte[] out = new byte[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (byte) array.get(i).intValue();
    }
    return out;
  }

  /** ECDSA P-384 / SHA-384 over bytes 0..0x29F, r and s little-endian (SEV-SNP ABI). */
  private static boolean amdSignatureVerifies(byte[] report, JsonNode vcekDer) throws Exception {
    X509Certificate vcek = (X509Certificate) CertificateFactory.getInstance("X.509")
        .generateCertificate(new ByteArrayInputStream(bytes(vcekDer)));
    BigInteger r = littleEndian(report, 0x2A0, 72);
    BigInteger s = littleEndian(report, 0x2A0 + 72, 72);
    Signature sig = Signature.getInstance("SHA384withECDSAinP1363Format");
    sig.initVerify(vcek.getPublicKey());
    sig.update(report, 0, 0x2A0);
    byte[] p1363 = new byte[96];
    System.arraycopy(fixed(r, 48), 0, p1363, 0, 48);
    System.arraycopy(fixed(s, 48), 0, p1363, 48, 48);
    return sig.verify(p1363);
  }

  private static BigInteger littleEndian(byte[] b, int at, int len) {
    byte[] be = new byte[len];
    for (int i = 0; i < len; i++) {
      be[i] = b[at + len - 1 - i];
    }
    return new BigInteger(1, be);
  }

  private static byte[] fixed(BigInteger v, int len) {
    byte[] raw = v.toByteArray();
    byte[] out = new byte[len];
    int n = Math.min(raw.length, len);
    System.arraycopy(raw, raw.length - n, out, len - n, n);
    return out;
  }
}
