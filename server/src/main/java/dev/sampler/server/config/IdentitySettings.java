package dev.sampler.server.config;

import java.util.Optional;

/**
 * Where a caller's tenant comes from (YAML section {@code identity}). Only verified sources count:
 * a client certificate that passed the TLS handshake, or a gateway token that verifies. Metadata a
 * client merely sends (such as {@code x-tenant}) is never used.
 *
 * @param spiffeTrustDomain a client certificate URI SAN {@code spiffe://<this>/tenant/<name>}
 *     names the tenant {@code <name>}
 * @param dnsSanSuffix a client certificate DNS SAN {@code <name><this suffix>} (e.g. suffix
 *     {@code .tenants.example.org}) names the tenant {@code <name>}; used when no SPIFFE ID matches
 * @param gatewayToken gateway token verification
 * @param devTenant the tenant of every caller without a verified identity when the server runs
 *     with {@code grpc.insecure-plaintext} on loopback (development only)
 */
public record IdentitySettings(Optional<String> spiffeTrustDomain, Optional<String> dnsSanSuffix,
    GatewayTokenSettings gatewayToken, String devTenant) {
  /** The tenant name of plaintext development mode unless configured. */
  public static final String DEFAULT_DEV_TENANT = "dev";
}
