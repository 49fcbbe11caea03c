/**
 * Attestation for zero-trust model loading: evidence providers behind {@link
 * dev.sampler.attestation.EvidenceProvider} (configfs-tsm for SEV-SNP/TDX and an insecure sample
 * provider for development), and the ephemeral TEE key pair ({@link
 * dev.sampler.attestation.TeeKeyPair}) whose public half the key broker encrypts resources to.
 * Subpackages: {@code jcs} (RFC 8785), {@code jwe} (the JWE subset Trustee's KBS uses) and {@code
 * kbs} (the RCAR protocol and its client).
 */
package dev.sampler.attestation;
