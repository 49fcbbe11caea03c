/** RFC 8785 JSON Canonicalization Scheme ({@link dev.sampler.attestation.jcs.Jcs}). */
package dev.sampler.attestation.jcs;
