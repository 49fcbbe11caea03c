package dev.sampler.engine.sampling;

import dev.sampler.engine.EngineException;
import dev.sampler.engine.schedule.NoiseScheduler;
import dev.sampler.engine.schedule.NoiseSource;
import dev.sampler.engine.unet.UNet2DModel;
import java.util.Objects;
import java.util.function.BooleanSupplier;

/**
 * The denoising loop of a class-conditional diffusers pipeline (the DiT / DDPM pipelines' loop
 * with classifier-free guidance):
 *
 * <pre>
 * latents = randn(count, C, H, W) * scheduler.init_noise_sigma
 * for t in scheduler.timesteps:
 *     x_in = scheduler.scale_model_input(latents, t)
 *     out  = unet([x_in, x_in], t, [labels, null]) if guided else unet(x_in, t, labels)
 *     eps  = uncond + g * (cond - uncond), then rescale_noise_cfg if guidance_rescale > 0
 *     latents = scheduler.step(eps, t, latents, noise).prev_sample
 * </pre>
 *
 * The conditional and null-class rows share one forward. Latents and scheduler arithmetic are
 * float64; the model runs in float32. All randomness (initial latents and stochastic scheduler
 * steps) comes from the caller's {@link NoiseSource}, in that order. Cancellation is checked
 * before every model evaluation, so a cancelled run stops within one step.
 */
public final class Sampler {
  private final UNet2DModel model;
  private final Integer nullClass;

  /**
   * A sampler for {@code model}.
   *
   * @param nullClass the class label whose embedding was trained as "no class" (label dropout),
   *     or null if the model has none (then guidance above 1 is refused)
   */
  public Sampler(UNet2DModel model, Integer nullClass) {
    this.model = Objects.requireNonNull(model, "model");
    Integer classes = model.config().numClassEmbeds();
    if (nullClass != null && (classes == null || nullClass < 0 || nullClass >= classes)) {
      throw new IllegalArgumentException("null class " + nullClass + " is not a class of the model ("
          + (classes == null ? "unconditional" : "0.." + (classes - 1)) + ")");
    }
    this.nullClass = nullClass;
  }

  /** The model. */
  public UNet2DModel model() {
    return model;
  }

  /**
   * Checks a request against this model: labels in range (and not the null class), guidance only
   * where the model has a null class.
   *
   * @throws IllegalArgumentException naming the offending value
   */
  public void validate(SamplingRequest request) {
    Integer classes = model.config().numClassEmbeds();
    for (int label : request.classLabels()) {
      if (classes == null) {
        if (label != -1) {
          throw new IllegalArgumentException("the model is unconditional: class labels must be -1, got " + label);
        }
      } else {
        int usable = nullClass == null ? classes : classes - 1;
        if (label < 0 || label >= classes || (nullClass != null && label == nullClass)) {
          throw new IllegalArgumentException("class " + label + " is outside 0.." + (usable - 1)
              + (nullClass != null ? " (class " + nullClass + " is the null class used for guidance)" : ""));
        }
      }
    }
    if (request.guided() && nullClass == null) {
      throw new IllegalArgumentException("guidance scale " + request.guidanceScale()
          + " needs a null class, and this model has none: use a guidance scale of at most 1");
    }
  }

  /**
   * Starts a session for {@code request}: sets the scheduler's timesteps and draws the initial
   * noise. A batcher drives the session; {@link #run} drives one on its own.
   *
   * @param scheduler a fresh scheduler for this request only ({@code setTimesteps} is called here)
   * @param noise the request's own noise (never shared between requests)
   * @throws EngineException if the noise source fails
   * @throws IllegalArgumentException if the request does not fit the model ({@link #validate})
   */
  public SamplingSession start(SamplingRequest request, NoiseScheduler scheduler, NoiseSource noise)
      throws EngineException {
    validate(request);
    Objects.requireNonNull(scheduler, "scheduler");
    Objects.requireNonNull(noise, "noise");
    return new SamplingSession(request, scheduler, noise, model.config().inChannels(), model.sampleHeight(),
        model.sampleWidth(), model.config().numClassEmbeds() != null, nullClass);
  }

  /**
   * Runs the loop for one request on its own.
   *
   * @param scheduler a fresh or reused scheduler; {@code setTimesteps(request.steps())} is called here
   * @param noise the request's own noise (never shared between requests)
   * @param listener progress after each step
   * @param cancelled polled before every model evaluation
   * @throws SamplingCancelledException if {@code cancelled} turned true
   * @throws EngineException if the noise source fails (the cause says why)
   * @throws IllegalArgumentException if the request does not fit the model ({@link #validate})
   */
  public SamplingResult run(SamplingRequest request, NoiseScheduler scheduler, NoiseSource noise,
      SamplingListener listener, BooleanSupplier cancelled) throws EngineException {
    Objects.requireNonNull(listener, "listener");
    Objects.requireNonNull(cancelled, "cancelled");
    SamplingSession session = start(request, scheduler, noise);
    int rows = session.rows();
    float[] input = new float[rows * session.valuesPerRow()];
    float[] ts = new float[rows];
    long[] labels = model.config().numClassEmbeds() != null ? new long[rows] : null;
    int total = session.totalEvaluations();
    while (!session.done()) {
      if (cancelled.getAsBoolean()) {
        throw new SamplingCancelledException("cancelled before step " + (session.evaluationsDone() + 1) + " of "
            + total);
      }
      session.fillInput(input, 0, ts, labels);
      long b = System.nanoTime();
      float[] out = model.forward(input, rows, model.sampleHeight(), model.sampleWidth(), ts, labels);
      long c = System.nanoTime();
      listener.onStep(session.acceptOutput(out, 0, c - b));
    }
    return session.result();
  }
}
