/**
 * Admission control and weighted-fair queueing: {@link
 * dev.sampler.scheduler.admission.AdmissionController} admits or rejects each job for its tenant
 * (token bucket, concurrency and queued limits, a bounded global queue, an adaptive throttle driven
 * by risk signals) and serves one start-time fair queue per model to the batchers through {@link
 * dev.sampler.scheduler.JobSource}. Configuration is {@link
 * dev.sampler.scheduler.admission.AdmissionPolicy}, {@link
 * dev.sampler.scheduler.admission.TenantPolicy} and {@link
 * dev.sampler.scheduler.admission.ThrottlePolicy}; {@link
 * dev.sampler.scheduler.admission.AdmissionStats} is the snapshot for metrics.
 */
package dev.sampler.scheduler.admission;
