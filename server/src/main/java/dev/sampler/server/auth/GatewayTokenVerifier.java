package dev.sampler.server.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.scheduler.Tenant;
import java.security.interfaces.ECPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Verifies gateway tokens: an ES256 compact JWS (RFC 7515) carrying JWT claims (RFC 7519). A
 * token is accepted when its signature verifies against the configured key, {@code aud} (a string
 * or an array) contains the configured audience, {@code exp} is present and not passed, {@code nbf}
 * (if present) has been reached, both within the clock skew, {@code iss} equals the configured
 * issuer when one is configured, and {@code sub} is a valid tenant id, which becomes the tenant.
 */
public final class GatewayTokenVerifier {
  private final ECPublicKey key;
  private final String audience;
  private final Optional<String> issuer;
  private final Duration skew;
  private final Supplier<Instant> clock;

  /**
   * @param clock the current time (the system clock in the server; fixed in tests)
   */
  public GatewayTokenVerifier(ECPublicKey key, String audience, Optional<String> issuer, Duration skew,
      Supplier<Instant> clock) {
    this.key = Objects.requireNonNull(key, "key");
    this.audience = Objects.requireNonNull(audience, "audience");
    this.issuer = Objects.requireNonNull(issuer, "issuer");
    this.skew = Objects.requireNonNull(skew, "skew");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * The tenant {@code token} names.
   *
   * @throws AuthenticationException saying which check failed (never echoing claim values a
   *     client chose)
   */
  public Tenant verify(String token) throws AuthenticationException {
    ObjectNode claims = Es256Jws.verify(token, key);
    long now = clock.get().getEpochSecond();
    JsonNode exp = claims.get("exp");
    if (exp == null || !exp.isNumber()) {
      throw new AuthenticationException("gateway token: the exp claim (expiry, seconds since the epoch) is required");
    }
    if (now > (long) Math.floor(exp.asDouble()) + skew.toSeconds()) {
      throw new AuthenticationException("gateway token: expired");
    }
    JsonNode nbf = claims.get("nbf");
    if (nbf != null) {
      if (!nbf.isNumber()) {
        throw new AuthenticationException("gateway token: the nbf claim must be a number");
      }
      if (now < (long) Math.floor(nbf.asDouble()) - skew.toSeconds()) {
        throw new AuthenticationException("gateway token: not valid yet (nbf)");
      }
    }
    if (!audienceMatches(claims.get("aud"))) {
      throw new AuthenticationException("gateway token: the aud claim does not include \"" + audience + "\"");
    }
    if (issuer.isPresent()) {
      JsonNode iss = claims.get("iss");
      if (iss == null || !iss.isTextual() || !iss.asText().equals(issuer.get())) {
        throw new AuthenticationException("gateway token: the iss claim is not \"" + issuer.get() + "\"");
      }
    }
    JsonNode sub = claims.get("sub");
    if (sub == null || !sub.isTextual()) {
      throw new AuthenticationException("gateway token: the sub claim (the tenant) is required");
    }
    try {
      return new Tenant(sub.asText());
    } catch (IllegalArgumentException e) {
      throw new AuthenticationException("gateway token: the sub claim is not a valid tenant id ("
          + "1..128 characters from [A-Za-z0-9._:@/-])");
    }
  }

  private boolean audienceMatches(JsonNode aud) {
    if (aud == null) {
      return false;
    }
    if (aud.isTextual()) {
      return aud.asText().equals(audience);
    }
    if (aud.isArray()) {
      for (JsonNode a : aud) {
        if (a.isTextual() && a.asText().equals(audience)) {
          return true;
        }
      }
    }
    return false;
  }
}
