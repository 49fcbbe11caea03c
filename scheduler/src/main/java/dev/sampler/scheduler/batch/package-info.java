/**
 * Step-level continuous batching: {@link dev.sampler.scheduler.batch.StepBatcher} takes jobs from
 * a {@link dev.sampler.scheduler.JobSource} and runs the denoising steps of several jobs, each at
 * its own timestep with its own scheduler, guidance and noise, in shared UNet forwards, under a
 * {@link dev.sampler.scheduler.batch.BatchingPolicy}; {@link
 * dev.sampler.scheduler.batch.BatcherStats} reports what it did.
 */
package dev.sampler.scheduler.batch;
