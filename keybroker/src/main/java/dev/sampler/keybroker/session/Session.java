package dev.sampler.keybroker.session;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;

/**
 * One RCAR session: created by {@code /auth} with a fresh nonce, attested at most once by {@code
 * /attest}. Thread-safe; the state moves only forward: challenged, nonce consumed, attested.
 */
public final class Session {
  /** What the session has been through. */
  public enum State {
    /** {@code /auth} answered; the nonce is waiting for one {@code /attest}. */
    CHALLENGED,
    /** An {@code /attest} used the nonce but did not succeed; the session is dead. */
    NONCE_USED,
    /** {@code /attest} succeeded: the session carries a token. */
    ATTESTED
  }

  /**
   * What a successful attestation established.
   *
   * @param token the EAR token issued
   * @param teePubkey the client's TEE public key (JWK), bound by the evidence
   * @param claims the verifier's claims about the TEE
   */
  public record Attested(String token, JsonNode teePubkey, JsonNode claims) {}

  private final String id;
  private final String tee;
  private final String nonce;
  private final Instant expires;
  private State state = State.CHALLENGED;
  private Attested attested;

  Session(String id, String tee, String nonce, Instant expires) {
    this.id = id;
    this.tee = tee;
    this.nonce = nonce;
    this.expires = expires;
  }

  /** The cookie value: a UUIDv4 as 32 lowercase hex digits. */
  public String id() {
    return id;
  }

  /** The tee named in {@code /auth}. */
  public String tee() {
    return tee;
  }

  /** The challenge nonce: standard base64 of 32 random bytes. */
  public String nonce() {
    return nonce;
  }

  /** When the session (and its cookie) expires. */
  public Instant expires() {
    return expires;
  }

  /** Whether {@code now} is at or past the expiry. */
  public boolean expiredAt(Instant now) {
    return !now.isBefore(expires);
  }

  /** The current state. */
  public synchronized State state() {
    return state;
  }

  /**
   * Uses the nonce: true exactly once, for the first caller; false once it was used. After a true
   * return the session either {@link #attest}s or stays {@link State#NONCE_USED}.
   */
  public synchronized boolean consumeNonce() {
    if (state != State.CHALLENGED) {
      return false;
    }
    state = State.NONCE_USED;
    return true;
  }

  /**
   * Records a successful attestation.
   *
   * @throws IllegalStateException unless the nonce was just consumed
   */
  public synchronized void attest(Attested result) {
    if (state != State.NONCE_USED || attested != null) {
      throw new IllegalStateException("attest() needs a consumed nonce and no earlier attestation");
    }
    attested = result;
    state = State.ATTESTED;
  }

  /** The attestation, when the session has one. */
  public synchronized Attested attested() {
    return attested;
  }

  @Override
  public String toString() {
    return "Session[" + state() + ", tee " + tee + "]"; // no id: it is a bearer secret
  }
}
