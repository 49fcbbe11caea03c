package dev.sampler.server.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * Gateway tokens (YAML section {@code identity.gateway-token}): a compact JWS (ES256) in the
 * {@code authorization: Bearer} metadata whose {@code sub} names the tenant.
 *
 * @param enabled accept tokens at all
 * @param publicKey the gateway's EC P-256 public key (PEM, SubjectPublicKeyInfo)
 * @param audience the required {@code aud} claim
 * @param issuer the required {@code iss} claim, if configured
 * @param clockSkew tolerance for {@code exp} and {@code nbf}
 * @param gatewayPeer if set, tokens are accepted only on connections whose verified client
 *     certificate carries this URI SAN (e.g. {@code spiffe://example.org/gateway}) or DNS SAN
 */
public record GatewayTokenSettings(boolean enabled, Optional<Path> publicKey, String audience, Optional<String> issuer,
    Duration clockSkew, Optional<String> gatewayPeer) {
  /** Tokens off. */
  public static GatewayTokenSettings disabled() {
    return new GatewayTokenSettings(false, Optional.empty(), "sampler", Optional.empty(), Duration.ofSeconds(30),
        Optional.empty());
  }
}
