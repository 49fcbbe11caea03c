package dev.sampler.keybroker.session;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * The broker's sessions, bounded: at most {@code maxSessions} live at once. Expired sessions are
 * swept at most once a second and whenever the table is full; a full table of live sessions
 * refuses new ones ({@link TableFullException}) instead of growing, so a flood of {@code /auth}
 * requests cannot exhaust memory.
 *
 * <p>An expired session stays findable until the next sweep, so a client learns "session expired"
 * rather than "not found".
 */
public final class SessionTable {
  /** The cookie value's format: a UUIDv4 as 32 lowercase hex digits, no dashes. */
  public static final Pattern ID = Pattern.compile("[0-9a-f]{32}");
  /** Bytes of randomness in a nonce (upstream NONCE_SIZE_BYTES). */
  public static final int NONCE_BYTES = 32;

  /** Thrown by {@link #create} when the table is full of live sessions. */
  public static final class TableFullException extends Exception {
    private static final long serialVersionUID = 1L;
    private final long retryAfterSeconds;

    TableFullException(int max, long retryAfterSeconds) {
      super("session table is full (" + max + " live sessions)", null, false, false);
      this.retryAfterSeconds = retryAfterSeconds;
    }

    /** Seconds until the oldest possible session expires. */
    public long retryAfterSeconds() {
      return retryAfterSeconds;
    }
  }

  private final ConcurrentHashMap<String, Session> byId = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Session> byNonce = new ConcurrentHashMap<>();
  private final Duration timeout;
  private final int maxSessions;
  private final InstantSource clock;
  private final SecureRandom random = new SecureRandom();
  private final AtomicLong nextSweepMillis = new AtomicLong();

  /**
   * A table whose sessions live {@code timeout} and which holds at most {@code maxSessions}.
   *
   * @throws IllegalArgumentException when timeout is not positive or maxSessions &lt; 1
   */
  public SessionTable(Duration timeout, int maxSessions, InstantSource clock) {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("session timeout must be positive");
    }
    if (maxSessions < 1) {
      throw new IllegalArgumentException("max sessions must be >= 1");
    }
    this.timeout = timeout;
    this.maxSessions = maxSessions;
    this.clock = clock;
  }

  /** The session lifetime. */
  public Duration timeout() {
    return timeout;
  }

  /**
   * A new session for {@code tee} with a fresh id (UUIDv4) and nonce (32 random bytes, base64).
   *
   * @throws TableFullException when {@code maxSessions} live sessions exist
   */
  public Session create(String tee) throws TableFullException {
    Instant now = clock.instant();
    if (now.toEpochMilli() >= nextSweepMillis.get() || byId.size() >= maxSessions) {
      sweep(now);
    }
    if (byId.size() >= maxSessions) {
      throw new TableFullException(maxSessions, Math.max(1, timeout.toSeconds()));
    }
    byte[] n = new byte[NONCE_BYTES];
    random.nextBytes(n);
    String nonce = Base64.getEncoder().encodeToString(n);
    Session s = new Session(newId(), tee, nonce, now.plus(timeout));
    byId.put(s.id(), s);
    byNonce.put(nonce, s);
    return s;
  }

  /** The session with this cookie value, expired or not (until swept). */
  public Optional<Session> get(String id) {
    return id == null ? Optional.empty() : Optional.ofNullable(byId.get(id));
  }

  /** The session that was challenged with {@code nonce}, while it is in the table. */
  public Optional<Session> byNonce(String nonce) {
    return nonce == null ? Optional.empty() : Optional.ofNullable(byNonce.get(nonce));
  }

  /** Sessions in the table (live and not yet swept). */
  public int size() {
    return byId.size();
  }

  /** Removes every session expired at {@code now}. */
  public void sweep(Instant now) {
    nextSweepMillis.set(now.toEpochMilli() + 1000);
    byId.values().removeIf(s -> {
      if (s.expiredAt(now)) {
        byNonce.remove(s.nonce(), s);
        return true;
      }
      return false;
    });
  }

  private String newId() {
    byte[] b = new byte[16];
    random.nextBytes(b);
    b[6] = (byte) ((b[6] & 0x0f) | 0x40); // version 4
    b[8] = (byte) ((b[8] & 0x3f) | 0x80); // IETF variant
    return HexFormat.of().formatHex(b);
  }
}
