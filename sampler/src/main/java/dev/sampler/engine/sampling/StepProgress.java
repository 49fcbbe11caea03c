package dev.sampler.engine.sampling;

/**
 * Progress after one denoising step.
 *
 * @param step steps done so far, 1..total
 * @param total steps in the run (model evaluations; Heun counts two per timestep pair)
 * @param timestep the timestep just processed
 * @param sample the sample after the step (live view of the loop's array: copy what you keep)
 * @param predOriginalSample the scheduler's x0 estimate, or null where it gives none (live view)
 */
public record StepProgress(int step, int total, double timestep, double[] sample, double[] predOriginalSample) {}
