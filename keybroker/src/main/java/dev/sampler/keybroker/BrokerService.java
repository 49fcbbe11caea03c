package dev.sampler.keybroker;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.attestation.AttestationException;
import dev.sampler.attestation.jwe.Jwe;
import dev.sampler.attestation.kbs.RcarBinding;
import dev.sampler.attestation.kbs.SampleVerifier;
import dev.sampler.keybroker.KbsError.Variant;
import dev.sampler.keybroker.audit.AuditEvent;
import dev.sampler.keybroker.audit.AuditLog;
import dev.sampler.keybroker.keystore.DataKey;
import dev.sampler.keybroker.keystore.DataKeyStore;
import dev.sampler.keybroker.keystore.StoreException;
import dev.sampler.keybroker.policy.Policy;
import dev.sampler.keybroker.session.RateLimiter;
import dev.sampler.keybroker.session.Session;
import dev.sampler.keybroker.session.SessionTable;
import dev.sampler.keybroker.token.EarTokens;
import dev.sampler.keybroker.token.Jwks;
import dev.sampler.keybroker.token.TokenException;
import java.io.IOException;
import java.time.InstantSource;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The broker's protocol logic (Trustee KBS RCAR, PROTOCOLS.md B1-B7), independent of the web
 * server: {@link #handle} turns one {@link HttpCall} into one {@link HttpReply}.
 *
 * <ul>
 *   <li>{@code POST /kbs/v0/auth}: a KBS Request (version 0.4.0, a known tee) gets a Challenge
 *       (32 random bytes, standard base64) and a {@code kbs-session-id} cookie.
 *   <li>{@code POST /kbs/v0/attest}: checks in upstream's order, each failure a 401
 *       AttestationError: cookie present, session found and unexpired, body an Attestation, nonce
 *       equal to the session's and unused, evidence verified against the report data recomputed
 *       from the nonce and tee-pubkey; then an EAR token.
 *   <li>{@code GET /kbs/v0/resource/<repo>/<type>/<tag>}: with an attested session's cookie or a
 *       bearer token; policy, then key store; the key comes back as a JWE to the tee-pubkey.
 *   <li>{@code GET /health}: 200 {@code {"status":"UP"}}, not rate limited.
 * </ul>
 *
 * <p>Every request to {@code /kbs/v0} first takes a token from the client address's bucket (429
 * TooManyRequests with Retry-After when there is none). Every decision is written to the audit log.
 */
public final class BrokerService {
  /** The API prefix. */
  public static final String PREFIX = "/kbs/v0";
  /** The session cookie's name. */
  public static final String COOKIE = "kbs-session-id";
  /** The only protocol version accepted (upstream VERSION_REQ {@code =0.4.0}). */
  public static final String VERSION = "0.4.0";
  /** Largest request body accepted. */
  public static final int MAX_BODY = 64 * 1024;

  private static final Logger LOG = Logger.getLogger(BrokerService.class.getName());
  private static final String RESOURCE_PREFIX = PREFIX + "/resource/";
  private static final Set<String> REQUEST_MEMBERS = Set.of("version", "tee", "extra-params");
  private static final Set<String> ATTESTATION_MEMBERS = Set.of("init-data", "runtime-data", "tee-evidence");
  private static final Set<String> RUNTIME_MEMBERS = Set.of("nonce", "tee-pubkey");
  private static final Set<String> EVIDENCE_MEMBERS = Set.of("primary_evidence", "additional_evidence");
  private static final DateTimeFormatter COOKIE_DATE = DateTimeFormatter.RFC_1123_DATE_TIME.withZone(ZoneOffset.UTC);
  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();

  static {
    JSON.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build());
  }

  /**
   * What the service needs.
   *
   * @param policy the policy
   * @param sessions the session table
   * @param limiter the per-address rate limiter
   * @param tokens the token signer and verifier
   * @param store the data key store
   * @param audit the audit log
   * @param allowSampleTee whether sample evidence (unsigned) is accepted at all
   * @param clock the clock for session expiry
   */
  public record Parts(Policy policy, SessionTable sessions, RateLimiter limiter, EarTokens tokens,
      DataKeyStore store, AuditLog audit, boolean allowSampleTee, InstantSource clock) {}

  private final Parts p;

  /** A service over {@code parts}. */
  public BrokerService(Parts parts) {
    this.p = parts;
  }

  /** Handles one request; never throws for anything a client sends. */
  public HttpReply handle(HttpCall call) {
    String path = call.rawPath();
    if (path.equals("/health")) {
      return call.method().equals("GET") ? HttpReply.ok("{\"status\":\"UP\"}", Map.of())
          : HttpReply.error(new KbsError(Variant.InvalidRequestPath, "/health answers GET only"));
    }
    RateLimiter.Decision d = p.limiter().acquire(call.client());
    if (!d.allowed()) {
      KbsError e = KbsError.tooManyRequests("too many requests from this address; retry after "
          + d.retryAfterSeconds() + " s", d.retryAfterSeconds());
      if (d.firstRefusal()) {
        p.audit().write(AuditEvent.of("rate-limit", call.client(), false, reason(e)));
      }
      return HttpReply.error(e);
    }
    try {
      if (path.equals(PREFIX + "/auth")) {
        requireMethod(call, "POST");
        return auth(call);
      }
      if (path.equals(PREFIX + "/attest")) {
        requireMethod(call, "POST");
        return attest(call);
      }
      if (path.startsWith(RESOURCE_PREFIX)) {
        requireMethod(call, "GET");
        return resource(call, path.substring(RESOURCE_PREFIX.length()));
      }
      throw new KbsError(Variant.InvalidRequestPath, "this broker serves POST " + PREFIX + "/auth, POST " + PREFIX
          + "/attest and GET " + PREFIX + "/resource/<repo>/<type>/<tag> only");
    } catch (KbsError e) {
      return HttpReply.error(e);
    } catch (RuntimeException e) {
      LOG.log(Level.SEVERE, "keybroker: internal error handling a request", e);
      return HttpReply.error(new KbsError(Variant.PluginInternalError, "internal broker error (see the broker log)"));
    }
  }

  private static void requireMethod(HttpCall call, String method) throws KbsError {
    if (!call.method().equals(method)) {
      throw new KbsError(Variant.InvalidRequestPath, "this path answers " + method + " only");
    }
  }

  // ---- POST /auth ---------------------------------------------------------------------------

  private HttpReply auth(HttpCall call) throws KbsError {
    AuditEvent audit = AuditEvent.of("auth", call.client(), false, null);
    try {
      JsonNode req = parseObject(call.body(), "Request");
      onlyMembers(req, REQUEST_MEMBERS, "Request");
      String version = textMember(req, "version", "Request");
      if (!VERSION.equals(version)) {
        throw attestationError("Request.version must be " + VERSION + " (the KBS protocol version this broker speaks)");
      }
      String tee = textMember(req, "tee", "Request");
      if (!Tees.known(tee)) {
        throw attestationError("Request.tee is not one of " + Tees.ALL);
      }
      audit = audit.tee(tee, null);
      JsonNode extra = req.get("extra-params");
      if (extra != null && !extra.isNull() && !(extra.isTextual() && extra.asText().isEmpty())) {
        if (!extra.isObject()) {
          throw attestationError("Request.extra-params must be an object or \"\"");
        }
        JsonNode algs = extra.get("supported-hash-algorithms");
        if (algs != null) {
          if (!algs.isArray()) {
            throw attestationError("Request.extra-params.supported-hash-algorithms must be a list of strings");
          }
          boolean sha384 = false;
          for (JsonNode a : algs) {
            sha384 |= a.isTextual() && a.asText().equalsIgnoreCase(RcarBinding.DEFAULT_HASH_ALGORITHM);
          }
          if (!sha384) {
            throw attestationError("Request.extra-params.supported-hash-algorithms lacks sha384, which this broker's"
                + " binding uses for every tee");
          }
        }
      }
      Session s;
      try {
        s = p.sessions().create(tee);
      } catch (SessionTable.TableFullException e) {
        throw KbsError.tooManyRequests(e.getMessage() + "; retry later", e.retryAfterSeconds());
      }
      audit = audit.session(AuditLog.sessionHash(s.id()));
      ObjectNode challenge = JSON.createObjectNode();
      challenge.put("nonce", s.nonce());
      challenge.put("extra-params", "");
      p.audit().write(allow(audit, "challenge issued"));
      return HttpReply.ok(challenge.toString(), Map.of("Set-Cookie", cookie(s)));
    } catch (KbsError e) {
      p.audit().write(deny(audit, e));
      throw e;
    }
  }

  // ---- POST /attest -------------------------------------------------------------------------

  private HttpReply attest(HttpCall call) throws KbsError {
    AuditEvent audit = AuditEvent.of("attest", call.client(), false, null);
    try {
      // 1. cookie, 2. session: upstream's order (PROTOCOLS.md B4)
      String id = sessionCookie(call).orElseThrow(() -> attestationError(
          "no " + COOKIE + " cookie: POST " + PREFIX + "/auth first"));
      audit = audit.session(AuditLog.sessionHash(id));
      Session s = p.sessions().get(id).orElseThrow(() -> attestationError(
          "session not found (never issued, or expired and removed): POST " + PREFIX + "/auth again"));
      audit = audit.tee(s.tee(), null);
      if (s.expiredAt(p.clock().instant())) {
        throw attestationError("session expired (sessions last " + p.sessions().timeout().toSeconds()
            + " s): POST " + PREFIX + "/auth again");
      }
      // 3. body
      JsonNode att = parseObject(call.body(), "Attestation");
      onlyMembers(att, ATTESTATION_MEMBERS, "Attestation");
      JsonNode initData = att.get("init-data");
      if (initData != null && !initData.isNull()) {
        throw attestationError("Attestation.init-data is not supported by this reference broker (send null)");
      }
      JsonNode runtime = objectMember(att, "runtime-data", "Attestation");
      onlyMembers(runtime, RUNTIME_MEMBERS, "Attestation.runtime-data");
      String nonce = textMember(runtime, "nonce", "Attestation.runtime-data");
      JsonNode teePubkey = runtime.get("tee-pubkey");
      try {
        Jwks.validateTeePubkey(teePubkey);
      } catch (IllegalArgumentException e) {
        throw attestationError("Attestation.runtime-data." + e.getMessage().replaceFirst("^runtime-data\\.", ""));
      }
      String thumbprint = Jwks.thumbprint(teePubkey);
      audit = audit.tee(s.tee(), thumbprint);
      JsonNode evidence = objectMember(att, "tee-evidence", "Attestation");
      onlyMembers(evidence, EVIDENCE_MEMBERS, "Attestation.tee-evidence");
      JsonNode primary = evidence.get("primary_evidence");
      if (primary == null) {
        throw attestationError("Attestation.tee-evidence.primary_evidence is missing");
      }
      String additional = textMember(evidence, "additional_evidence", "Attestation.tee-evidence");
      if (!additional.isEmpty()) {
        throw attestationError("Attestation.tee-evidence.additional_evidence is not supported by this reference"
            + " broker (send \"\")");
      }
      // 4. nonce: the session's own, used once
      if (!nonce.equals(s.nonce())) {
        Optional<Session> owner = p.sessions().byNonce(nonce);
        if (owner.isPresent() && owner.get().state() != Session.State.CHALLENGED) {
          throw attestationError("nonce already used (a challenge is good for one /attest; POST " + PREFIX
              + "/auth for a new one)");
        }
        throw attestationError("nonce does not match this session's challenge");
      }
      if (!s.consumeNonce()) {
        throw attestationError("nonce already used (a challenge is good for one /attest; POST " + PREFIX
            + "/auth for a new one)");
      }
      // 5. evidence
      byte[] reportData = RcarBinding.reportData(nonce, teePubkey, additional, RcarBinding.DEFAULT_HASH_ALGORITHM);
      JsonNode claims = verifyEvidence(s.tee(), primary, reportData);
      // 6. token
      Optional<String> appraisal = p.policy().appraise(s.tee(), claims);
      String token = p.tokens().issue(s.tee(), claims, teePubkey, nonce, reportData, appraisal.isEmpty());
      s.attest(new Session.Attested(token, teePubkey, claims));
      p.audit().write(allow(audit, appraisal.map(r -> "token issued, ear.status contraindicated: " + r)
          .orElse("token issued, ear.status affirming")));
      ObjectNode body = JSON.createObjectNode();
      body.put("token", token);
      return HttpReply.ok(body.toString(), Map.of("Set-Cookie", cookie(s)));
    } catch (KbsError e) {
      p.audit().write(deny(audit, e));
      throw e;
    }
  }

  private JsonNode verifyEvidence(String tee, JsonNode primary, byte[] reportData)
      throws KbsError {
    if (!tee.equals(Tees.SAMPLE)) {
      throw attestationError("no verifier for tee '" + tee + "' in this reference broker (it verifies sample"
          + " evidence only, and only with --allow-sample-tee)");
    }
    if (!p.allowSampleTee()) {
      throw attestationError("tee 'sample' is refused: this broker was started without --allow-sample-tee"
          + " (sample evidence is unsigned and proves nothing; development only)");
    }
    try {
      return SampleVerifier.verify(primary, reportData);
    } catch (AttestationException e) {
      throw attestationError(e.getMessage());
    }
  }

  // ---- GET /resource/<repo>/<type>/<tag> ----------------------------------------------------

  private HttpReply resource(HttpCall call, String rest) throws KbsError {
    ResourcePath resource;
    try {
      resource = ResourcePath.parse(rest);
    } catch (IllegalArgumentException e) {
      throw new KbsError(Variant.InvalidRequestPath, e.getMessage());
    }
    AuditEvent audit = AuditEvent.of("resource", call.client(), false, null).resource(resource.path());
    try {
      String tee;
      JsonNode claims;
      JsonNode teePubkey;
      Optional<String> auth = call.authorization();
      if (auth.isPresent()) {
        String h = auth.get();
        if (!h.regionMatches(true, 0, "Bearer ", 0, 7) || h.length() <= 7) {
          throw new KbsError(Variant.TokenVerifierError, "Authorization header must be 'Bearer <token>'");
        }
        EarTokens.Verified v;
        try {
          v = p.tokens().verify(h.substring(7).strip());
        } catch (TokenException e) {
          throw new KbsError(Variant.TokenVerifierError, e.getMessage());
        }
        tee = v.tee();
        claims = v.claims();
        teePubkey = v.teePubkey();
      } else {
        String id = sessionCookie(call).orElseThrow(() -> new KbsError(Variant.TokenNotFound,
            "no attested " + COOKIE + " cookie and no Authorization: Bearer token"));
        audit = audit.session(AuditLog.sessionHash(id));
        Session s = p.sessions().get(id).orElseThrow(() -> new KbsError(Variant.TokenNotFound,
            "session not found (never issued, or expired and removed)"));
        if (s.expiredAt(p.clock().instant())) {
          throw new KbsError(Variant.TokenNotFound, "session expired: attest again");
        }
        Session.Attested a = s.attested();
        if (a == null) {
          throw new KbsError(Variant.TokenNotFound, "session is not attested: POST " + PREFIX + "/attest first");
        }
        tee = s.tee();
        claims = a.claims();
        teePubkey = a.teePubkey();
      }
      audit = audit.tee(tee, Jwks.thumbprint(teePubkey));
      Optional<String> denied = p.policy().authorize(tee, claims, resource);
      if (denied.isPresent()) {
        throw new KbsError(Variant.PolicyDeny, denied.get());
      }
      Optional<DataKey> key;
      try {
        key = p.store().fetch(resource);
      } catch (StoreException e) {
        LOG.log(Level.WARNING, "keybroker: key store failed for resource " + resource.path() + ": " + e.getMessage());
        throw new KbsError(Variant.PluginInternalError, "the key store failed to produce this resource's key"
            + " (see the broker log)");
      }
      if (key.isEmpty()) {
        throw new KbsError(Variant.PluginInternalError, "no key is stored for this resource");
      }
      try (DataKey k = key.get()) {
        String jwe;
        try {
          jwe = Jwe.encrypt(k.plaintext(DataKey.ReleaseAccess.get()), teePubkey);
        } catch (AttestationException e) {
          LOG.log(Level.WARNING, "keybroker: JWE encryption failed: " + e.getMessage());
          throw new KbsError(Variant.PluginInternalError, "encrypting the key to tee-pubkey failed");
        }
        p.audit().write(allow(audit.keyVersion(k.version()), "key released as JWE to tee-pubkey"));
        return HttpReply.ok(jwe, Map.of());
      }
    } catch (KbsError e) {
      p.audit().write(deny(audit, e));
      throw e;
    }
  }

  // ---- helpers ------------------------------------------------------------------------------

  private String cookie(Session s) {
    return COOKIE + "=" + s.id() + "; Expires=" + COOKIE_DATE.format(s.expires());
  }

  /**
   * The {@code kbs-session-id} value from the Cookie headers: empty when absent.
   *
   * @throws KbsError when present but not 32 lowercase hex digits, or given twice with different values
   */
  private static Optional<String> sessionCookie(HttpCall call) throws KbsError {
    String found = null;
    for (String header : call.cookieHeaders()) {
      for (String part : header.split(";")) {
        String c = part.strip();
        int eq = c.indexOf('=');
        if (eq > 0 && c.substring(0, eq).strip().equals(COOKIE)) {
          String v = c.substring(eq + 1).strip();
          if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
            v = v.substring(1, v.length() - 1);
          }
          if (!SessionTable.ID.matcher(v).matches()) {
            throw attestationOrToken(call, COOKIE + " cookie must be 32 lowercase hex digits");
          }
          if (found != null && !found.equals(v)) {
            throw attestationOrToken(call, COOKIE + " cookie is given twice with different values");
          }
          found = v;
        }
      }
    }
    return Optional.ofNullable(found);
  }

  private static KbsError attestationOrToken(HttpCall call, String detail) {
    return new KbsError(call.method().equals("GET") ? Variant.TokenNotFound : Variant.AttestationError, detail);
  }

  private static JsonNode parseObject(byte[] body, String what) throws KbsError {
    if (body.length == 0) {
      throw attestationError("request body is empty (expected a KBS " + what + " JSON object)");
    }
    JsonNode n;
    try {
      n = JSON.readTree(body);
    } catch (IOException e) {
      throw attestationError("request body is not valid JSON (expected a KBS " + what + " object)");
    }
    if (n == null || !n.isObject()) {
      throw attestationError("request body must be a JSON object (a KBS " + what + ")");
    }
    return n;
  }

  private static void onlyMembers(JsonNode n, Set<String> allowed, String what) throws KbsError {
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      if (!allowed.contains(it.next())) {
        throw attestationError(what + " has an unknown member (allowed: " + new TreeSet<>(allowed) + ")");
      }
    }
  }

  private static String textMember(JsonNode n, String name, String what) throws KbsError {
    JsonNode v = n.get(name);
    if (v == null || !v.isTextual()) {
      throw attestationError(what + "." + name + " must be a string");
    }
    return v.asText();
  }

  private static JsonNode objectMember(JsonNode n, String name, String what) throws KbsError {
    JsonNode v = n.get(name);
    if (v == null || !v.isObject()) {
      throw attestationError(what + "." + name + " must be an object");
    }
    return v;
  }

  private static KbsError attestationError(String detail) {
    return new KbsError(Variant.AttestationError, detail);
  }

  private static AuditEvent allow(AuditEvent e, String reason) {
    return new AuditEvent(e.event(), e.client(), e.sessionHash(), e.tee(), e.teePubkeyThumbprint(), e.resource(),
        e.keyVersion(), "allow", reason);
  }

  private static AuditEvent deny(AuditEvent e, KbsError err) {
    return new AuditEvent(e.event(), e.client(), e.sessionHash(), e.tee(), e.teePubkeyThumbprint(), e.resource(),
        0, "deny", reason(err));
  }

  private static String reason(KbsError e) {
    return e.variant().name() + ": " + e.detail();
  }
}
