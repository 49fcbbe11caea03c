package dev.sampler.server.config;

import java.nio.file.Path;
import java.util.Optional;

/**
 * TLS on the gRPC socket (YAML section {@code tls}): the server's certificate chain and key, and the
 * CAs whose client certificates it accepts. All files are PEM.
 *
 * @param certChain the server certificate first, then intermediates
 * @param privateKey the server's private key (PKCS#8 or PKCS#1 PEM, unencrypted)
 * @param clientCa CA certificates that sign client certificates; empty: no client certificates
 *     are requested
 * @param clientAuth whether a client certificate is required, optional or not requested
 */
public record TlsSettings(Path certChain, Path privateKey, Optional<Path> clientCa, ClientAuth clientAuth) {
  /** Whether the server asks for a client certificate during the handshake. */
  public enum ClientAuth {
    /** A client without a certificate from {@code client-ca} fails the handshake. */
    REQUIRED,
    /** A certificate is requested; without one the caller needs a gateway token. */
    OPTIONAL,
    /** No certificate is requested. */
    NONE
  }
}
