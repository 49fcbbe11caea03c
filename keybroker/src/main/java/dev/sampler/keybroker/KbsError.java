package dev.sampler.keybroker;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A refusal the broker sends to a client: an HTTP status and the Trustee KBS error body
 * {@code {"type":"https://github.com/confidential-containers/kbs/errors/<Variant>","detail":"..."}}
 * (PROTOCOLS.md B1). The detail names the field or step and what is allowed; it never echoes a
 * client's string or any secret.
 */
public final class KbsError extends Exception {
  private static final long serialVersionUID = 1L;

  /** The prefix of every error {@code type} (upstream {@code ERROR_TYPE_PREFIX}). */
  public static final String TYPE_PREFIX = "https://github.com/confidential-containers/kbs/errors/";

  /**
   * The error variants this broker emits, with the status upstream gives each: 404 only for
   * {@code InvalidRequestPath}, 401 for the upstream rest; {@code TooManyRequests} (429) is this
   * broker's own (upstream has no rate limiting).
   */
  public enum Variant {
    /** A bad /auth or /attest request, a session problem, or evidence that does not verify. */
    AttestationError(401),
    /** A resource request without an attested session or a bearer token. */
    TokenNotFound(401),
    /** A bearer token that does not verify (signature, algorithm, expiry, shape). */
    TokenVerifierError(401),
    /** The policy refuses this resource to this attested client. */
    PolicyDeny(401),
    /** The key store has no key for the resource, or failed to produce it. */
    PluginInternalError(401),
    /** A path the broker does not serve, or a resource path segment that is not allowed. */
    InvalidRequestPath(404),
    /** The client's address has used up its request budget, or the session table is full. */
    TooManyRequests(429);

    private final int status;

    Variant(int status) {
      this.status = status;
    }

    /** The HTTP status sent with this variant. */
    public int status() {
      return status;
    }
  }

  private final Variant variant;
  private final String detail;
  private final long retryAfterSeconds;

  /** A refusal of {@code variant} with a detail that is safe to send to the client. */
  public KbsError(Variant variant, String detail) {
    this(variant, detail, 0);
  }

  /**
   * A 429 refusal that tells the client how long to wait ({@code Retry-After}, whole seconds,
   * at least 1).
   */
  public static KbsError tooManyRequests(String detail, long retryAfterSeconds) {
    return new KbsError(Variant.TooManyRequests, detail, Math.max(1, retryAfterSeconds));
  }

  private KbsError(Variant variant, String detail, long retryAfterSeconds) {
    super(variant.name() + ": " + detail, null, false, false);
    this.variant = variant;
    this.detail = detail;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** The variant, which fixes the status and the {@code type} URI. */
  public Variant variant() {
    return variant;
  }

  /** The human-readable detail sent to the client. */
  public String detail() {
    return detail;
  }

  /** The HTTP status. */
  public int status() {
    return variant.status();
  }

  /** Seconds for a {@code Retry-After} header, or 0 when none is sent. */
  public long retryAfterSeconds() {
    return retryAfterSeconds;
  }

  /** The JSON error body: {@code type} then {@code detail}, as upstream's ErrorInformation. */
  public ObjectNode body() {
    ObjectNode n = JsonNodeFactory.instance.objectNode();
    n.put("type", TYPE_PREFIX + variant.name());
    n.put("detail", detail);
    return n;
  }
}
