package dev.sampler.keybroker.token;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.keybroker.Tees;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The broker's attestation tokens: EAR-shaped JWTs (PROTOCOLS.md B5) signed ES256 with a key made
 * for this process at start (so a restart voids every token), carrying the signer's public JWK in
 * the header as upstream does. Verification never trusts that header key: it uses this process's
 * own.
 *
 * <p>Claims: {@code eat_profile}, {@code iat}, {@code exp}, {@code ear.verifier-id}, {@code
 * submods.cpu0} with {@code ear.status} ({@code affirming} when the evidence met the policy's
 * appraisal, else {@code contraindicated}), an all-zero (no claim) {@code
 * ear.trustworthiness-vector}, {@code ear.appraisal-policy-id}, and {@code
 * ear.veraison.annotated-evidence} = {@code {<tee>: claims, init_data: null, init_data_claims:
 * null, report_data: hex, runtime_data_claims: {nonce, tee-pubkey}}}.
 */
public final class EarTokens {
  /** The EAT profile upstream's attestation service uses. */
  public static final String EAT_PROFILE = "tag:github.com,2024:confidential-containers/Trustee";
  /** Largest token accepted for verification. */
  public static final int MAX_TOKEN_CHARS = 32 * 1024;

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern COMPACT = Pattern.compile("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+");
  private static final Base64.Encoder B64U = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64U_DEC = Base64.getUrlDecoder();
  private static final List<String> TRUSTWORTHINESS_CLAIMS = List.of("instance-identity", "configuration",
      "executables", "file-system", "hardware", "runtime-opaque", "storage-opaque", "sourced-data");
  /** Tolerated clock difference for {@code iat} (tokens come back to the same process). */
  private static final Duration SKEW = Duration.ofSeconds(60);

  /**
   * A token that verified.
   *
   * @param tee the tee whose evidence it attests
   * @param claims that tee's verifier claims
   * @param teePubkey the client key bound by the evidence
   * @param affirming whether {@code ear.status} is {@code affirming}
   * @param expires its {@code exp}
   */
  public record Verified(String tee, JsonNode claims, JsonNode teePubkey, boolean affirming, Instant expires) {}

  private final KeyPair keyPair;
  private final Duration lifetime;
  private final InstantSource clock;
  private final String policyId;
  private final String build;
  private final String headerB64;

  /**
   * A signer with a fresh P-256 key.
   *
   * @param lifetime how long an issued token is valid ({@code exp - iat})
   * @param policyId recorded as {@code ear.appraisal-policy-id}
   * @param build recorded as {@code ear.verifier-id.build}
   */
  public static EarTokens generate(Duration lifetime, InstantSource clock, String policyId, String build) {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      return new EarTokens(g.generateKeyPair(), lifetime, clock, policyId, build);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK cannot generate a P-256 key", e);
    }
  }

  EarTokens(KeyPair keyPair, Duration lifetime, InstantSource clock, String policyId, String build) {
    if (lifetime.isNegative() || lifetime.isZero()) {
      throw new IllegalArgumentException("token lifetime must be positive");
    }
    this.keyPair = keyPair;
    this.lifetime = lifetime;
    this.clock = clock;
    this.policyId = policyId;
    this.build = build;
    ObjectNode h = JSON.createObjectNode();
    h.put("alg", "ES256");
    h.put("typ", "JWT");
    h.set("jwk", publicJwk((ECPublicKey) keyPair.getPublic()));
    this.headerB64 = B64U.encodeToString(h.toString().getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Issues a token for a verified attestation.
   *
   * @param tee the tee name
   * @param claims the verifier's claims
   * @param teePubkey the client's TEE key, as validated
   * @param nonce the challenge nonce the evidence bound
   * @param reportData the report data the evidence carried
   * @param affirming whether the policy's appraisal passed
   */
  public String issue(String tee, JsonNode claims, JsonNode teePubkey, String nonce, byte[] reportData,
      boolean affirming) {
    Instant now = clock.instant();
    ObjectNode c = JSON.createObjectNode();
    c.put("eat_profile", EAT_PROFILE);
    c.put("iat", now.getEpochSecond());
    ObjectNode verifier = c.putObject("ear.verifier-id");
    verifier.put("developer", "https://github.com/sampler/keybroker");
    verifier.put("build", build);
    ObjectNode cpu0 = c.putObject("submods").putObject("cpu0");
    cpu0.put("ear.status", affirming ? "affirming" : "contraindicated");
    ObjectNode tv = cpu0.putObject("ear.trustworthiness-vector");
    TRUSTWORTHINESS_CLAIMS.forEach(k -> tv.put(k, 0)); // 0 = no claim: this broker appraises no measurements
    cpu0.put("ear.appraisal-policy-id", policyId);
    ObjectNode ev = cpu0.putObject("ear.veraison.annotated-evidence");
    ev.set(tee, claims.deepCopy());
    ev.putNull("init_data");
    ev.putNull("init_data_claims");
    ev.put("report_data", HexFormat.of().formatHex(reportData));
    ObjectNode rt = ev.putObject("runtime_data_claims");
    rt.put("nonce", nonce);
    rt.set("tee-pubkey", teePubkey.deepCopy());
    c.put("exp", now.plus(lifetime).getEpochSecond());
    String signingInput = headerB64 + "." + B64U.encodeToString(c.toString().getBytes(StandardCharsets.UTF_8));
    try {
      Signature s = Signature.getInstance("SHA256withECDSAinP1363Format");
      s.initSign(keyPair.getPrivate());
      s.update(signingInput.getBytes(StandardCharsets.US_ASCII));
      return signingInput + "." + B64U.encodeToString(s.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("ES256 signing failed", e);
    }
  }

  /**
   * Verifies a token this process issued: shape, {@code alg} ES256, the signature under this
   * process's key, {@code exp} in the future, {@code iat} not in the future, the EAT profile, and
   * the evidence members the broker relies on.
   *
   * @throws TokenException naming the first check that failed
   */
  public Verified verify(String token) throws TokenException {
    if (token.length() > MAX_TOKEN_CHARS || !COMPACT.matcher(token).matches()) {
      throw new TokenException("token is not a compact JWS (three base64url parts) of at most "
          + MAX_TOKEN_CHARS + " characters");
    }
    String[] p = token.split("\\.");
    JsonNode header = parse(p[0], "header");
    if (!"ES256".equals(header.path("alg").asText(null))) {
      throw new TokenException("token header alg must be ES256");
    }
    byte[] sig = B64U_DEC.decode(p[2]);
    try {
      Signature s = Signature.getInstance("SHA256withECDSAinP1363Format");
      s.initVerify(keyPair.getPublic());
      s.update((p[0] + "." + p[1]).getBytes(StandardCharsets.US_ASCII));
      if (sig.length != 64 || !s.verify(sig)) {
        throw new TokenException("token signature does not verify under this broker's signing key"
            + " (issued by another broker or before a restart, or altered)");
      }
    } catch (java.security.SignatureException e) {
      throw new TokenException("token signature does not verify under this broker's signing key");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("ES256 verification unavailable", e);
    }
    JsonNode c = parse(p[1], "claims");
    if (!EAT_PROFILE.equals(c.path("eat_profile").asText(null))) {
      throw new TokenException("token eat_profile is not " + EAT_PROFILE);
    }
    long now = clock.instant().getEpochSecond();
    if (!c.path("exp").canConvertToLong() || !c.path("exp").isIntegralNumber()) {
      throw new TokenException("token has no numeric exp");
    }
    if (c.path("exp").asLong() <= now) {
      throw new TokenException("token expired");
    }
    if (!c.path("iat").isIntegralNumber() || c.path("iat").asLong() > now + SKEW.toSeconds()) {
      throw new TokenException("token iat is missing or in the future");
    }
    JsonNode cpu0 = c.path("submods").path("cpu0");
    JsonNode ev = cpu0.path("ear.veraison.annotated-evidence");
    List<String> tees = new ArrayList<>();
    for (Iterator<String> it = ev.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (Tees.known(k)) {
        tees.add(k);
      }
    }
    if (tees.size() != 1) {
      throw new TokenException("token annotated-evidence must name exactly one tee");
    }
    JsonNode pub = ev.path("runtime_data_claims").path("tee-pubkey");
    try {
      Jwks.validateTeePubkey(pub);
    } catch (IllegalArgumentException e) {
      throw new TokenException("token runtime_data_claims: " + e.getMessage());
    }
    return new Verified(tees.get(0), ev.get(tees.get(0)), pub, "affirming".equals(cpu0.path("ear.status").asText()),
        Instant.ofEpochSecond(c.path("exp").asLong()));
  }

  /** This process's token-signing public key as a JWK (for the start-up log and the token header). */
  public ObjectNode publicJwk() {
    return publicJwk((ECPublicKey) keyPair.getPublic());
  }

  private static ObjectNode publicJwk(ECPublicKey k) {
    ObjectNode j = JSON.createObjectNode();
    j.put("kty", "EC");
    j.put("crv", "P-256");
    j.put("x", B64U.encodeToString(fixed(k.getW().getAffineX(), 32)));
    j.put("y", B64U.encodeToString(fixed(k.getW().getAffineY(), 32)));
    return j;
  }

  private static byte[] fixed(BigInteger v, int len) {
    byte[] b = v.toByteArray();
    byte[] out = new byte[len];
    int n = Math.min(b.length, len);
    System.arraycopy(b, b.length - n, out, len - n, n);
    return out;
  }

  private static JsonNode parse(String part, String what) throws TokenException {
    try {
      JsonNode n = JSON.readTree(B64U_DEC.decode(part));
      if (n == null || !n.isObject()) {
        throw new TokenException("token " + what + " is not a JSON object");
      }
      return n;
    } catch (IOException | IllegalArgumentException e) {
      throw new TokenException("token " + what + " is not base64url JSON");
    }
  }
}
