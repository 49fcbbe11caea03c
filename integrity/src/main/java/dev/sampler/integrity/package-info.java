/**
 * Integrity of model artefacts: everything that turns untrusted bytes on disk into values the
 * sampler may use. Failures are reported as the checked {@link
 * dev.sampler.integrity.IntegrityException} or one of its subclasses.
 */
package dev.sampler.integrity;
