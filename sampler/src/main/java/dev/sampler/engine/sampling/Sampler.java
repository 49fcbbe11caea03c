package dev.sampler.engine.sampling;

import dev.sampler.engine.EngineException;
import dev.sampler.engine.schedule.NoiseScheduler;
import dev.sampler.engine.schedule.NoiseSource;
import dev.sampler.engine.schedule.NoiseUnavailableException;
import dev.sampler.engine.schedule.StepOutput;
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
   * Runs the loop.
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
    validate(request);
    Objects.requireNonNull(scheduler, "scheduler");
    Objects.requireNonNull(noise, "noise");
    Objects.requireNonNull(listener, "listener");
    Objects.requireNonNull(cancelled, "cancelled");
    int count = request.count();
    int channels = model.config().inChannels();
    int height = model.sampleHeight();
    int width = model.sampleWidth();
    int per = channels * height * width;
    boolean guided = request.guided();
    int rows = guided ? 2 * count : count;

    long noiseNanos = 0;
    long forwardNanos = 0;
    long schedulerNanos = 0;

    scheduler.setTimesteps(request.steps());
    double[] timesteps = scheduler.timesteps();
    double[] latents = new double[count * per];
    long s0 = System.nanoTime();
    try {
      noise.fill(latents);
    } catch (NoiseUnavailableException e) {
      throw new EngineException("drawing the initial noise failed: " + e.getMessage(), e);
    }
    double sigma0 = scheduler.initNoiseSigma();
    for (int i = 0; i < latents.length; i++) {
      latents[i] *= sigma0;
    }
    noiseNanos += System.nanoTime() - s0;
    TimedNoise timedNoise = new TimedNoise(noise);

    long[] labels = null;
    if (model.config().numClassEmbeds() != null) {
      labels = new long[rows];
      int[] cls = request.classLabels();
      for (int k = 0; k < count; k++) {
        labels[k] = cls[k];
        if (guided) {
          labels[count + k] = nullClass;
        }
      }
    }
    float[] input = new float[rows * per];
    float[] ts = new float[rows];
    double[] eps = new double[count * per];
    int evaluations = 0;
    for (int step = 0; step < timesteps.length; step++) {
      if (cancelled.getAsBoolean()) {
        throw new SamplingCancelledException("cancelled before step " + (step + 1) + " of " + timesteps.length);
      }
      double t = timesteps[step];
      long a = System.nanoTime();
      double[] scaled = scheduler.scaleModelInput(latents, t);
      for (int i = 0; i < scaled.length; i++) {
        float v = (float) scaled[i];
        input[i] = v;
        if (guided) {
          input[count * per + i] = v;
        }
      }
      java.util.Arrays.fill(ts, (float) t);
      long b = System.nanoTime();
      float[] out = model.forward(input, rows, height, width, ts, labels);
      long c = System.nanoTime();
      evaluations++;
      if (guided) {
        float[] uncond = java.util.Arrays.copyOfRange(out, count * per, 2 * count * per);
        Guidance.combine(out, uncond, count, per, request.guidanceScale(), request.guidanceRescale(), eps);
      } else {
        for (int i = 0; i < eps.length; i++) {
          eps[i] = out[i];
        }
      }
      StepOutput so;
      timedNoise.nanos = 0;
      try {
        so = scheduler.step(eps, t, latents, timedNoise);
      } catch (NoiseUnavailableException e) {
        throw new EngineException("drawing noise for step " + (step + 1) + " failed: " + e.getMessage(), e);
      }
      latents = so.prevSample();
      long d = System.nanoTime();
      noiseNanos += timedNoise.nanos;
      forwardNanos += c - b;
      schedulerNanos += (b - a) + (d - c) - timedNoise.nanos;
      listener.onStep(new StepProgress(step + 1, timesteps.length, t, latents, so.predOriginalSample()));
    }
    float[] images = new float[latents.length];
    for (int i = 0; i < images.length; i++) {
      images[i] = (float) latents[i];
    }
    return new SamplingResult(images, count, channels, height, width, evaluations, forwardNanos, schedulerNanos,
        noiseNanos);
  }

  /** Measures the time the scheduler spends drawing noise. */
  private static final class TimedNoise implements NoiseSource {
    private final NoiseSource delegate;
    long nanos;

    TimedNoise(NoiseSource delegate) {
      this.delegate = delegate;
    }

    @Override
    public void fill(double[] out) {
      long s = System.nanoTime();
      delegate.fill(out);
      nanos += System.nanoTime() - s;
    }
  }
}
