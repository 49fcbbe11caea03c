package dev.sampler.keybroker.audit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.InstantSource;
import java.util.HexFormat;

/**
 * The audit log: one JSON object per line, flushed per line, to a file (appended, created 0600) or
 * to standard error. Members, in this order, absent when they do not apply: {@code time} (ISO-8601
 * UTC), {@code event}, {@code client}, {@code session}, {@code tee}, {@code tee_pubkey_thumbprint},
 * {@code resource}, {@code key_id}, {@code key_version}, {@code decision}, {@code reason}. {@code
 * key_id} is the resource path of a released key; key bytes and key hashes are never written.
 */
public final class AuditLog implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final OutputStream out;
  private final boolean closeOut;
  private final InstantSource clock;
  private final String where;

  private AuditLog(OutputStream out, boolean closeOut, InstantSource clock, String where) {
    this.out = out;
    this.closeOut = closeOut;
    this.clock = clock;
    this.where = where;
  }

  /**
   * Appends to {@code file}, creating it 0600 when it does not exist.
   *
   * @throws IOException when it cannot be opened for appending
   */
  public static AuditLog toFile(Path file, InstantSource clock) throws IOException {
    if (!Files.exists(file)) {
      Files.createFile(file);
      try {
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
      } catch (UnsupportedOperationException ignored) {
        // not a POSIX file system
      }
    }
    OutputStream o = Files.newOutputStream(file, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
    return new AuditLog(o, true, clock, file.toString());
  }

  /** Writes to {@code stream} (standard error, normally), which it does not close. */
  public static AuditLog toStream(PrintStream stream, InstantSource clock) {
    return new AuditLog(stream, false, clock, "stderr");
  }

  /** Where the lines go, for the start-up log. */
  public String where() {
    return where;
  }

  /**
   * Writes one line. An I/O failure is reported on standard error (never silently dropped) but
   * does not stop the broker from answering.
   */
  public void write(AuditEvent e) {
    ObjectNode n = JSON.createObjectNode();
    n.put("time", clock.instant().toString());
    n.put("event", e.event());
    putIf(n, "client", e.client());
    putIf(n, "session", e.sessionHash());
    putIf(n, "tee", e.tee());
    putIf(n, "tee_pubkey_thumbprint", e.teePubkeyThumbprint());
    putIf(n, "resource", e.resource());
    if (e.keyVersion() > 0) {
      n.put("key_id", e.resource());
      n.put("key_version", e.keyVersion());
    }
    n.put("decision", e.decision());
    putIf(n, "reason", e.reason());
    byte[] line = (n.toString() + "\n").getBytes(StandardCharsets.UTF_8);
    synchronized (this) {
      try {
        out.write(line);
        out.flush();
      } catch (IOException ex) {
        System.err.println("keybroker: audit log " + where + " write failed: " + ex.getMessage());
      }
    }
  }

  /** {@code sha256:} and the first 16 hex digits of SHA-256 over {@code sessionId}. */
  public static String sessionHash(String sessionId) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(sessionId.getBytes(StandardCharsets.US_ASCII));
      return "sha256:" + HexFormat.of().formatHex(d, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 missing from the JDK", e);
    }
  }

  /** Closes the file (not standard error). */
  @Override
  public synchronized void close() {
    if (closeOut) {
      try {
        out.close();
      } catch (IOException e) {
        System.err.println("keybroker: closing audit log " + where + " failed: " + e.getMessage());
      }
    }
  }

  private static void putIf(ObjectNode n, String name, String value) {
    if (value != null) {
      n.put(name, value);
    }
  }
}
