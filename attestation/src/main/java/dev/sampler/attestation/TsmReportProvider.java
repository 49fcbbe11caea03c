package dev.sampler.attestation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.attestation.internal.Codec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * Evidence from the Linux configfs-tsm report interface ({@code Documentation/ABI/testing/
 * configfs-tsm}), which the kernel offers in SEV-SNP ({@code sev_guest}) and TDX ({@code
 * tdx_guest}) guests under {@code /sys/kernel/config/tsm/report}.
 *
 * <p>One report: {@code mkdir} a fresh entry; read {@code provider}; on SEV-SNP write {@code
 * privlevel} when {@code privlevel_floor} is above 0; read {@code generation}; write the 64-byte
 * {@code inblob} (the binding digest, zero-padded); read {@code outblob} (the kernel asks the TSM for
 * the report while the read blocks); read {@code generation} again, which must be exactly one more
 * than before (otherwise another writer used the entry and the report may carry its data); on
 * SEV-SNP read {@code auxblob} (the certificate table) and check {@code generation} once more;
 * check the report carries our report data; {@code rmdir} the entry.
 *
 * <p>Evidence shapes (what Trustee's verifiers deserialize): {@code tdx} → {@code
 * {"cc_eventlog":null,"quote":"<standard base64 of the quote>"}} (the CCEL event log is not sent,
 * so a policy that replays RTMR events cannot pass); {@code snp} → {@code {"attestation_report":
 * {…},"cert_chain":[…]|null}} (see {@link SnpReport}).
 *
 * <p>Not verified on real hardware here (no TEE on the build machines): tests drive the file
 * protocol against a temporary directory with a thread playing the kernel.
 */
public final class TsmReportProvider implements EvidenceProvider {
  /** Where the kernel mounts the interface. */
  public static final Path DEFAULT_DIR = Path.of("/sys/kernel/config/tsm/report");

  private static final int INBLOB_BYTES = 64;
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final System.Logger LOG = System.getLogger(TsmReportProvider.class.getName());

  /**
   * What configfs does on mkdir and rmdir of a report entry (create and drop its attribute files);
   * real configfs does this itself, a plain directory used in tests needs it done.
   */
  interface EntryHooks {
    /** Called right after the entry directory was created. */
    void afterMkdir(Path entry) throws IOException;

    /** Called right before the entry directory is removed. */
    void beforeRmdir(Path entry) throws IOException;
  }

  private static final EntryHooks CONFIGFS =
      new EntryHooks() {
        @Override
        public void afterMkdir(Path entry) {}

        @Override
        public void beforeRmdir(Path entry) {}
      };

  private final Path dir;
  private final EntryHooks hooks;
  private volatile String tee;

  /**
   * @param configfsTsmReportDir the report directory, normally {@link #DEFAULT_DIR}; nothing is
   *     touched until {@link #tee()} or {@link #evidence} is called
   */
  public TsmReportProvider(Path configfsTsmReportDir) {
    this(configfsTsmReportDir, CONFIGFS);
  }

  TsmReportProvider(Path configfsTsmReportDir, EntryHooks hooks) {
    this.dir = Objects.requireNonNull(configfsTsmReportDir, "configfsTsmReportDir");
    this.hooks = Objects.requireNonNull(hooks, "hooks");
  }

  /**
   * {@code "snp"} for the {@code sev_guest} provider, {@code "tdx"} for {@code tdx_guest}, found by
   * creating (and removing) a report entry once; cached afterwards.
   *
   * @throws IllegalStateException if there is no configfs-tsm interface or its provider is neither
   */
  @Override
  public String tee() {
    String t = tee;
    if (t == null) {
      try {
        t = withEntry(this::teeOf);
      } catch (AttestationException e) {
        throw new IllegalStateException(e.getMessage(), e);
      }
      tee = t;
    }
    return t;
  }

  /**
   * A TSM report whose report data is {@code reportData} zero-padded to 64 bytes.
   *
   * @throws AttestationException naming the configfs step that failed: no interface, an unknown
   *     provider, a concurrent writer (generation mismatch), an empty or short report, a report not
   *     carrying our report data, or an I/O error on an attribute
   */
  @Override
  public JsonNode evidence(byte[] reportData) throws AttestationException {
    Objects.requireNonNull(reportData, "reportData");
    if (reportData.length > INBLOB_BYTES) {
      throw new AttestationException(
          "configfs-tsm: report data must be at most " + INBLOB_BYTES + " bytes, got " + reportData.length);
    }
    byte[] inblob = Arrays.copyOf(reportData, INBLOB_BYTES);
    return withEntry(entry -> report(entry, inblob));
  }

  private interface EntryWork<T> {
    T run(Path entry) throws AttestationException, IOException;
  }

  private <T> T withEntry(EntryWork<T> work) throws AttestationException {
    if (!Files.isDirectory(dir)) {
      throw new AttestationException(
          "configfs-tsm: " + dir + " is not a directory (no TSM report interface: not an SEV-SNP or TDX guest,"
              + " or configfs is not mounted)");
    }
    byte[] name = new byte[8];
    RANDOM.nextBytes(name);
    Path entry = dir.resolve("sampler-" + HexFormat.of().formatHex(name));
    try {
      Files.createDirectory(entry); // fails if it exists: the entry must be ours alone
      hooks.afterMkdir(entry);
    } catch (FileAlreadyExistsException e) {
      throw new AttestationException("configfs-tsm: report entry " + entry + " already exists", e);
    } catch (IOException e) {
      throw new AttestationException(
          "configfs-tsm: cannot create a report entry under " + dir + " (" + e.getClass().getSimpleName() + ")", e);
    }
    try {
      return work.run(entry);
    } catch (IOException e) {
      throw new AttestationException(
          "configfs-tsm: I/O error on " + entry + " (" + describe(e) + ")", e);
    } finally {
      try {
        hooks.beforeRmdir(entry);
        Files.delete(entry);
      } catch (IOException e) {
        LOG.log(System.Logger.Level.WARNING, "configfs-tsm: could not remove report entry {0} ({1})", entry, describe(e));
      }
    }
  }

  private String teeOf(Path entry) throws AttestationException, IOException {
    String provider = new String(read(entry, "provider"), StandardCharsets.US_ASCII).strip();
    return switch (provider) {
      case "sev_guest" -> "snp";
      case "tdx_guest" -> "tdx";
      default ->
          throw new AttestationException(
              "configfs-tsm: provider "
                  + (provider.matches("[a-z0-9_]{1,32}") ? provider : "<unprintable>")
                  + " is not supported (supported: sev_guest for SEV-SNP, tdx_guest for TDX)");
    };
  }

  private JsonNode report(Path entry, byte[] inblob) throws AttestationException, IOException {
    String t = teeOf(entry);
    if (t.equals("snp")) {
      Path floor = entry.resolve("privlevel_floor");
      if (Files.exists(floor)) {
        int level;
        try {
          level = Integer.parseInt(new String(Files.readAllBytes(floor), StandardCharsets.US_ASCII).strip());
        } catch (NumberFormatException e) {
          throw new AttestationException("configfs-tsm: privlevel_floor is not a number");
        }
        if (level > 0) {
          write(entry, "privlevel", (level + "\n").getBytes(StandardCharsets.US_ASCII));
        }
      }
    }
    long before = generation(entry);
    write(entry, "inblob", inblob);
    byte[] outblob = read(entry, "outblob");
    long after = generation(entry);
    if (after != before + 1) {
      throw concurrentWriter(before, after);
    }
    if (outblob.length == 0) {
      throw new AttestationException("configfs-tsm: the TSM returned an empty report (outblob)");
    }
    ObjectNode ev = Codec.JSON.createObjectNode();
    if (t.equals("snp")) {
      byte[] aux = readOptional(entry, "auxblob");
      long afterAux = generation(entry);
      if (afterAux != after) {
        throw concurrentWriter(after, afterAux);
      }
      checkReportData(outblob, SnpReport.REPORT_DATA, inblob, "SEV-SNP report");
      ev.set("attestation_report", SnpReport.toJson(outblob));
      ArrayNode chain = SnpReport.certChain(aux);
      if (chain == null) {
        ev.putNull("cert_chain");
      } else {
        ev.set("cert_chain", chain);
      }
    } else {
      checkReportData(outblob, tdxReportDataOffset(outblob), inblob, "TDX quote");
      ev.putNull("cc_eventlog");
      ev.put("quote", Codec.b64(outblob));
    }
    tee = t;
    return ev;
  }

  // TDX quote v4: 48-byte header, then the TD report body whose REPORTDATA is at offset 520; v5
  // inserts a 2-byte body type and a 4-byte body size after the header.
  private static int tdxReportDataOffset(byte[] quote) throws AttestationException {
    if (quote.length < 2) {
      throw new AttestationException("configfs-tsm: TDX quote is " + quote.length + " bytes");
    }
    int version = ByteBuffer.wrap(quote).order(ByteOrder.LITTLE_ENDIAN).getShort(0) & 0xFFFF;
    return switch (version) {
      case 4 -> 48 + 520;
      case 5 -> 48 + 6 + 520;
      default -> throw new AttestationException("configfs-tsm: TDX quote version " + version + " is not supported (4 or 5)");
    };
  }

  private static void checkReportData(byte[] report, int at, byte[] inblob, String what) throws AttestationException {
    if (report.length < at + INBLOB_BYTES) {
      throw new AttestationException("configfs-tsm: " + what + " is " + report.length + " bytes, too short for its report data");
    }
    if (!MessageDigest.isEqual(Arrays.copyOfRange(report, at, at + INBLOB_BYTES), inblob)) {
      throw new AttestationException("configfs-tsm: the " + what + " does not carry the report data written to inblob");
    }
  }

  private static AttestationException concurrentWriter(long before, long after) {
    return new AttestationException(
        "configfs-tsm: generation went from " + before + " to " + after
            + " while the report was made (another writer used the entry); report discarded");
  }

  private static long generation(Path entry) throws AttestationException, IOException {
    String g = new String(read(entry, "generation"), StandardCharsets.US_ASCII).strip();
    try {
      return Long.parseLong(g);
    } catch (NumberFormatException e) {
      throw new AttestationException("configfs-tsm: generation is not a number");
    }
  }

  private static byte[] read(Path entry, String attribute) throws IOException {
    return Files.readAllBytes(entry.resolve(attribute));
  }

  private static byte[] readOptional(Path entry, String attribute) throws IOException {
    try {
      return Files.readAllBytes(entry.resolve(attribute));
    } catch (NoSuchFileException e) {
      return new byte[0];
    }
  }

  // Attributes exist as soon as the entry does: never create one (a missing attribute is an error).
  private static void write(Path entry, String attribute, byte[] value) throws IOException {
    Files.write(entry.resolve(attribute), value, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
  }

  private static String describe(IOException e) {
    return e.getClass().getSimpleName() + (e instanceof NoSuchFileException n ? " " + n.getFile() : "");
  }

  /** Names the directory, never report contents. */
  @Override
  public String toString() {
    return "TsmReportProvider[" + dir + "]";
  }
}
