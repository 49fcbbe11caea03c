package dev.sampler.engine.schedule;

/**
 * A diffusers noise scheduler, mapped 1:1 so a diffusers pipeline ports line by line:
 *
 * <pre>{@code
 * scheduler.set_timesteps(n)                    scheduler.setTimesteps(n)
 * scheduler.timesteps / .sigmas                 scheduler.timesteps() / .sigmas()
 * scheduler.init_noise_sigma                    scheduler.initNoiseSigma()
 * scheduler.scale_model_input(x, t)             scheduler.scaleModelInput(x, t)
 * scheduler.step(out, t, x, generator=g)        scheduler.step(out, t, x, noise)
 * scheduler.order                               scheduler.order()
 * }</pre>
 *
 * <p>Tensors are flat {@code double[]} arrays: every operation is element-wise, so the shape
 * (one row or a whole batch) does not matter, except that noise is drawn for the whole array in
 * index order, as diffusers' {@code randn_tensor} fills a tensor. Arithmetic is float64, with the
 * float32 roundings diffusers applies to its schedule (betas, alphas_cumprod, sigmas, float
 * timesteps) and to samples where a diffusers scheduler upcasts or downcasts reproduced exactly; a
 * float64 diffusers run and this class agree to float64 round-off.
 *
 * <p>Randomness is always passed in ({@link NoiseSource}); a scheduler holds no generator.
 *
 * <p>Instances are stateful (step index, multistep history) and belong to one denoising run:
 * call {@link #setTimesteps} before the first step; not thread-safe.
 */
public interface NoiseScheduler {

  /** The diffusers class this scheduler reproduces, e.g. {@code "EulerDiscreteScheduler"}. */
  String className();

  /** The configuration it was built from (diffusers keys). */
  SchedulerConfig config();

  /** Model evaluations per timestep entry: 1, or 2 for Heun (whose timesteps repeat). */
  int order();

  /**
   * Sets the number of denoising steps and resets all per-run state.
   *
   * @throws IllegalArgumentException if {@code numInferenceSteps} is below 1, or (DDPM, DDIM)
   *     above {@code num_train_timesteps}, with diffusers' wording. Like diffusers, the sigma and
   *     multistep schedulers accept more steps than training timesteps and fail at the step where
   *     a repeated timestep cannot be located.
   */
  void setTimesteps(int numInferenceSteps);

  /** The timesteps to pass to the model, in order (a copy; float values for sigma schedulers). */
  double[] timesteps();

  /** The noise levels sigma, one more than the timesteps' count; empty where it has none (a copy). */
  double[] sigmas();

  /** The standard deviation of the initial noise: multiply standard-normal noise by it. */
  double initNoiseSigma();

  /** Returns the model input for {@code sample} at {@code timestep} (a new array; may be a copy). */
  double[] scaleModelInput(double[] sample, double timestep);

  /**
   * One denoising step from {@code timestep}.
   *
   * @param modelOutput the model's output for {@link #scaleModelInput}'s result
   * @param timestep the current entry of {@link #timesteps()}
   * @param sample the current sample x_t (not modified)
   * @param noise standard-normal noise for stochastic schedulers; deterministic ones never call it
   * @return the previous sample x_{t-1} and, where the scheduler has one, its x0 estimate
   * @throws IllegalStateException if {@link #setTimesteps} was not called
   * @throws IllegalArgumentException if the arrays' lengths differ
   */
  StepOutput step(double[] modelOutput, double timestep, double[] sample, NoiseSource noise);
}
