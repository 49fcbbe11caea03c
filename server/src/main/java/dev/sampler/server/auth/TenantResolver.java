package dev.sampler.server.auth;

import dev.sampler.scheduler.Tenant;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * Decides a caller's tenant from what the transport verified. In order:
 *
 * <ol>
 *   <li>an {@code authorization: Bearer <token>} header: only if gateway tokens are enabled, only
 *       on a connection whose client certificate is the gateway's when a gateway peer is
 *       configured; the verified token's {@code sub} is the tenant (any failure is final: no
 *       fallback to the certificate);
 *   <li>a verified client certificate naming a tenant ({@link CertificateIdentity});
 *   <li>in plaintext development mode only, the configured development tenant.
 * </ol>
 *
 * Anything else is refused. Headers other than {@code authorization} (such as {@code x-tenant})
 * are never consulted.
 */
public final class TenantResolver {
  private final CertificateIdentity certificates;
  private final Optional<GatewayTokenVerifier> tokens;
  private final Optional<String> gatewayPeer;
  private final Optional<Tenant> devTenant;

  /**
   * @param tokens the token verifier, empty when gateway tokens are disabled
   * @param gatewayPeer the URI or DNS SAN of the gateway's client certificate, if tokens are
   *     accepted only from it
   * @param devTenant the tenant of unauthenticated callers in plaintext development mode; empty
   *     otherwise
   */
  public TenantResolver(CertificateIdentity certificates, Optional<GatewayTokenVerifier> tokens,
      Optional<String> gatewayPeer, Optional<Tenant> devTenant) {
    this.certificates = Objects.requireNonNull(certificates, "certificates");
    this.tokens = Objects.requireNonNull(tokens, "tokens");
    this.gatewayPeer = Objects.requireNonNull(gatewayPeer, "gatewayPeer");
    this.devTenant = Objects.requireNonNull(devTenant, "devTenant");
  }

  /**
   * The caller's tenant.
   *
   * @param peer the client certificate the TLS handshake verified, if any
   * @param authorization every {@code authorization} header value the call carried
   * @throws AuthenticationException with a message the caller can act on
   */
  public Tenant resolve(Optional<X509Certificate> peer, List<String> authorization) throws AuthenticationException {
    if (!authorization.isEmpty()) {
      return fromToken(peer, authorization);
    }
    if (peer.isPresent()) {
      if (gatewayPeer.isPresent() && CertificateIdentity.hasSan(peer.get(), gatewayPeer.get())) {
        throw new AuthenticationException("the gateway's connection must carry a gateway token"
            + " (authorization: Bearer)");
      }
      return certificates.tenant(peer.get()).orElseThrow(() -> new AuthenticationException(
          "the client certificate names no tenant; expected " + certificates.expectation()));
    }
    return devTenant.orElseThrow(() -> new AuthenticationException(
        "no client identity: present a client certificate or a gateway token"));
  }

  private Tenant fromToken(Optional<X509Certificate> peer, List<String> authorization)
      throws AuthenticationException {
    if (tokens.isEmpty()) {
      throw new AuthenticationException("this server does not accept gateway tokens (authorization header sent)");
    }
    if (authorization.size() != 1) {
      throw new AuthenticationException("send exactly one authorization header");
    }
    if (gatewayPeer.isPresent() && (peer.isEmpty() || !CertificateIdentity.hasSan(peer.get(), gatewayPeer.get()))) {
      throw new AuthenticationException("gateway tokens are accepted only on the gateway's own connection");
    }
    String value = authorization.get(0);
    if (value.length() < 8 || !value.substring(0, 7).toLowerCase(Locale.ROOT).equals("bearer ")) {
      throw new AuthenticationException("the authorization header must be \"Bearer <gateway token>\"");
    }
    return tokens.get().verify(value.substring(7).strip());
  }
}
