/**
 * Admission, fair queueing and step-level batching of generation jobs, below the gRPC edge and
 * above the engine: the server turns a request into a validated {@link
 * dev.sampler.scheduler.GenerationSpec} and a {@link dev.sampler.scheduler.Job}, the admission
 * controller admits it (or rejects it with a {@link dev.sampler.scheduler.RejectedException}) into a
 * weighted-fair queue, and a step batcher runs admitted jobs' denoising steps together in shared
 * UNet forwards. Nothing here depends on gRPC: outcomes are expressed as {@link
 * dev.sampler.scheduler.Code} values that the server maps one to one.
 */
package dev.sampler.scheduler;
