/**
 * The JWE subset of Trustee's key broker protocol (PROTOCOLS.md B6, B8): {@link
 * dev.sampler.attestation.jwe.Jwe} and the RCAR public JWKs ({@link dev.sampler.attestation.jwe.Jwk}).
 */
package dev.sampler.attestation.jwe;
