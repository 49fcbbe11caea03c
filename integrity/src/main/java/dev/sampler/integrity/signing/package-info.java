/**
 * OpenSSF model signing (the format of sigstore/model-transparency's {@code model_signing}, v1.0
 * predicate) with an offline EC key: {@link dev.sampler.integrity.signing.ModelSigner} writes a
 * signature, {@link dev.sampler.integrity.signing.ModelSignature} verifies one against a pinned key
 * and returns a {@link dev.sampler.integrity.signing.VerifiedManifest}, which checks a model
 * directory (or one file's bytes in memory) against it. {@link
 * dev.sampler.integrity.signing.SigningKeys} generates and reads the keys. Every failure is a
 * {@link dev.sampler.integrity.signing.SignatureVerificationException} (or, for key files and
 * signing, an {@link dev.sampler.integrity.IntegrityException}) whose message names the check.
 */
package dev.sampler.integrity.signing;
