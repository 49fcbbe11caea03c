/**
 * Trustee's KBS "RCAR" protocol (PROTOCOLS.md B1-B7): the protocol records and constants, the
 * report-data binding ({@link dev.sampler.attestation.kbs.RcarBinding}), the sample verifier, resource
 * ids and the client ({@link dev.sampler.attestation.kbs.KbsClient}).
 */
package dev.sampler.attestation.kbs;
