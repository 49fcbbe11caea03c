package dev.sampler.attestation;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.attestation.internal.Codec;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;

/**
 * SEV-SNP evidence in the JSON shape Trustee's snp verifier deserializes ({@code SnpEvidence} of
 * the {@code sev} crate: {@code {"attestation_report":{…},"cert_chain":[{"cert_type":"VCEK",
 * "data":[…]}] | null}}), built from the raw ATTESTATION_REPORT (AMD SEV-SNP ABI, 1184 bytes) and
 * the extended request's certificate table (GHCB spec: 24-byte entries {GUID, offset, length} up to
 * an all-zero entry).
 *
 * <p>Field offsets and the TCB layout (Milan/Genoa versus Turin) were checked by rebuilding the raw
 * report from Trustee's e2e SNP evidence and verifying AMD's signature over it (SnpReportTest).
 */
final class SnpReport {
  /** Size of ATTESTATION_REPORT. */
  static final int SIZE = 0x4A0;
  /** Offset of REPORT_DATA (64 bytes). */
  static final int REPORT_DATA = 0x50;

  private static final JsonNodeFactory F = Codec.JSON.getNodeFactory();
  private static final Map<String, String> CERT_TYPES =
      Map.of(
          "c0b406a4-a803-4952-9743-3fb6014cd0ae", "ARK",
          "4ab7b379-bbac-4fe4-a02f-05aef327c782", "ASK",
          "63da758d-e664-4564-adc5-f4b93be8accd", "VCEK",
          "a8074bc2-a25a-483e-aae6-39c045a0b8a1", "VLEK",
          "92f81bc3-5811-4d3d-97ff-d19f88dc67ea", "CRL");

  private SnpReport() {}

  /**
   * The {@code attestation_report} object.
   *
   * @throws AttestationException if the report is shorter than {@link #SIZE} or its version is
   *     below 2
   */
  static ObjectNode toJson(byte[] report) throws AttestationException {
    if (report.length < SIZE) {
      throw new AttestationException(
          "configfs-tsm: SEV-SNP report is " + report.length + " bytes, expected " + SIZE);
    }
    ByteBuffer b = ByteBuffer.wrap(report).order(ByteOrder.LITTLE_ENDIAN);
    long version = u32(b, 0x00);
    if (version < 2) {
      throw new AttestationException("configfs-tsm: SEV-SNP report version " + version + " is not supported (2 or later)");
    }
    int family = report[0x188] & 0xFF;
    int model = report[0x189] & 0xFF;
    // Report v3+ names the CPU; Turin (family 1Ah) moved the TCB fields and added FMC.
    boolean turin = version >= 3 && family == 0x1A;
    ObjectNode r = F.objectNode();
    r.put("version", version);
    r.put("guest_svn", u32(b, 0x04));
    r.set("policy", u64(b, 0x08));
    r.set("family_id", bytes(report, 0x10, 16));
    r.set("image_id", bytes(report, 0x20, 16));
    r.put("vmpl", u32(b, 0x30));
    r.put("sig_algo", u32(b, 0x34));
    r.set("current_tcb", tcb(report, 0x38, turin));
    r.set("plat_info", u64(b, 0x40));
    r.put("key_info", u32(b, 0x48));
    r.set("report_data", bytes(report, REPORT_DATA, 64));
    r.set("measurement", bytes(report, 0x90, 48));
    r.set("host_data", bytes(report, 0xC0, 32));
    r.set("id_key_digest", bytes(report, 0xE0, 48));
    r.set("author_key_digest", bytes(report, 0x110, 48));
    r.set("report_id", bytes(report, 0x140, 32));
    r.set("report_id_ma", bytes(report, 0x160, 32));
    r.set("reported_tcb", tcb(report, 0x180, turin));
    if (version >= 3) {
      r.put("cpuid_fam_id", family);
      r.put("cpuid_mod_id", model);
      r.put("cpuid_step", report[0x18A] & 0xFF);
    } else {
      r.putNull("cpuid_fam_id");
      r.putNull("cpuid_mod_id");
      r.putNull("cpuid_step");
    }
    r.set("chip_id", bytes(report, 0x1A0, 64));
    r.set("committed_tcb", tcb(report, 0x1E0, turin));
    r.set("current", version(report, 0x1E8));
    r.set("committed", version(report, 0x1EC));
    r.set("launch_tcb", tcb(report, 0x1F0, turin));
    ObjectNode sig = r.putObject("signature");
    sig.set("r", bytes(report, 0x2A0, 72));
    sig.set("s", bytes(report, 0x2A0 + 72, 72));
    return r;
  }

  /**
   * The {@code cert_chain} from an extended report's certificate table, or null when the table is
   * empty. Entries with an unknown GUID are left out (their serde form upstream is not pinned).
   *
   * @throws AttestationException if an entry points outside the table or the table has no
   *     terminating all-zero entry
   */
  static ArrayNode certChain(byte[] table) throws AttestationException {
    if (table == null || table.length == 0) {
      return null;
    }
    ByteBuffer b = ByteBuffer.wrap(table).order(ByteOrder.LITTLE_ENDIAN);
    ArrayNode chain = F.arrayNode();
    for (int at = 0; ; at += 24) {
      if (at + 24 > table.length) {
        throw new AttestationException("configfs-tsm: SEV-SNP certificate table has no terminating entry");
      }
      byte[] guid = Arrays.copyOfRange(table, at, at + 16);
      long offset = Integer.toUnsignedLong(b.getInt(at + 16));
      long length = Integer.toUnsignedLong(b.getInt(at + 20));
      if (Arrays.equals(guid, new byte[16])) {
        break;
      }
      if (offset + length > table.length) {
        throw new AttestationException("configfs-tsm: SEV-SNP certificate table entry points outside the table");
      }
      String type = CERT_TYPES.get(uuid(guid, false));
      if (type == null) {
        type = CERT_TYPES.get(uuid(guid, true)); // tolerate the mixed-endian GUID form
      }
      if (type == null) {
        continue;
      }
      ObjectNode entry = chain.addObject();
      entry.put("cert_type", type);
      entry.set("data", bytes(table, (int) offset, (int) length));
    }
    return chain.isEmpty() ? null : chain;
  }

  private static String uuid(byte[] g, boolean mixedEndian) {
    byte[] x = g.clone();
    if (mixedEndian) {
      swap(x, 0, 3);
      swap(x, 1, 2);
      swap(x, 4, 5);
      swap(x, 6, 7);
    }
    String h = HexFormat.of().formatHex(x);
    return h.substring(0, 8) + "-" + h.substring(8, 12) + "-" + h.substring(12, 16) + "-" + h.substring(16, 20) + "-" + h.substring(20);
  }

  private static void swap(byte[] a, int i, int j) {
    byte t = a[i];
    a[i] = a[j];
    a[j] = t;
  }

  private static long u32(ByteBuffer b, int at) {
    return Integer.toUnsignedLong(b.getInt(at));
  }

  private static com.fasterxml.jackson.databind.JsonNode u64(ByteBuffer b, int at) {
    long v = b.getLong(at);
    return v >= 0 ? F.numberNode(v) : F.numberNode(new BigInteger(Long.toUnsignedString(v)));
  }

  private static ArrayNode bytes(byte[] src, int at, int len) {
    ArrayNode a = F.arrayNode(len);
    for (int i = 0; i < len; i++) {
      a.add(src[at + i] & 0xFF);
    }
    return a;
  }

  // TCB_VERSION: Milan/Genoa {bootloader, tee, 4 reserved, snp, microcode}; Turin {fmc,
  // bootloader, tee, snp, 3 reserved, microcode}.
  private static ObjectNode tcb(byte[] r, int at, boolean turin) {
    ObjectNode t = F.objectNode();
    if (turin) {
      t.put("fmc", r[at] & 0xFF);
      t.put("bootloader", r[at + 1] & 0xFF);
      t.put("tee", r[at + 2] & 0xFF);
      t.put("snp", r[at + 3] & 0xFF);
    } else {
      t.putNull("fmc");
      t.put("bootloader", r[at] & 0xFF);
      t.put("tee", r[at + 1] & 0xFF);
      t.put("snp", r[at + 6] & 0xFF);
    }
    t.put("microcode", r[at + 7] & 0xFF);
    return t;
  }

  // {build, minor, major, reserved} in the report; serde order major, minor, build.
  private static ObjectNode version(byte[] r, int at) {
    ObjectNode v = F.objectNode();
    v.put("major", r[at + 2] & 0xFF);
    v.put("minor", r[at + 1] & 0xFF);
    v.put("build", r[at] & 0xFF);
    return v;
  }
}
