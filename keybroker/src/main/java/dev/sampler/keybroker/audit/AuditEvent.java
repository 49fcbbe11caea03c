package dev.sampler.keybroker.audit;

/**
 * One audit record: who asked for what and what the broker decided. Fields that do not apply are
 * null. It can hold no key material: a key is named by its resource path and store version only.
 *
 * @param event {@code auth}, {@code attest}, {@code resource} or {@code rate-limit}
 * @param client the client's IP address
 * @param sessionHash {@code sha256:} and the first 16 hex digits of SHA-256 over the session id
 *     (the id itself is a bearer credential)
 * @param tee the tee the session named
 * @param teePubkeyThumbprint the RFC 7638 JWK thumbprint (SHA-256, base64url) of the client's key
 * @param resource the resource path asked for
 * @param keyVersion the store's version of the key released (0 when none)
 * @param decision {@code allow} or {@code deny}
 * @param reason why (for a denial: the error variant and its detail)
 */
public record AuditEvent(String event, String client, String sessionHash, String tee, String teePubkeyThumbprint,
    String resource, int keyVersion, String decision, String reason) {
  /** An allow or deny of {@code event} for {@code client}; add details with the withers. */
  public static AuditEvent of(String event, String client, boolean allowed, String reason) {
    return new AuditEvent(event, client, null, null, null, null, 0, allowed ? "allow" : "deny", reason);
  }

  /** This event with the session's hash. */
  public AuditEvent session(String hash) {
    return new AuditEvent(event, client, hash, tee, teePubkeyThumbprint, resource, keyVersion, decision, reason);
  }

  /** This event with the tee and key thumbprint. */
  public AuditEvent tee(String teeName, String thumbprint) {
    return new AuditEvent(event, client, sessionHash, teeName, thumbprint, resource, keyVersion, decision, reason);
  }

  /** This event with the resource path. */
  public AuditEvent resource(String path) {
    return new AuditEvent(event, client, sessionHash, tee, teePubkeyThumbprint, path, keyVersion, decision, reason);
  }

  /** This event with the version of the key released. */
  public AuditEvent keyVersion(int version) {
    return new AuditEvent(event, client, sessionHash, tee, teePubkeyThumbprint, resource, version, decision, reason);
  }
}
