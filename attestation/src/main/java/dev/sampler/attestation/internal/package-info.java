/** Internal helpers of sampler-attestation; not an API, nothing outside the module imports them. */
package dev.sampler.attestation.internal;
