/**
 * Noise schedulers with diffusers semantics: {@link dev.sampler.engine.schedule.NoiseScheduler}
 * (the API, mapped 1:1 to diffusers' {@code set_timesteps} / {@code scale_model_input} /
 * {@code step}), {@link dev.sampler.engine.schedule.SchedulerConfig} (a diffusers
 * {@code scheduler_config.json}), {@link dev.sampler.engine.schedule.Schedulers} (by class name or
 * short name) and {@link dev.sampler.engine.schedule.BetaSchedule} (the training schedule, bit for
 * bit as torch computes it). Arithmetic and its one documented deviation: ADR 0003.
 */
package dev.sampler.engine.schedule;
