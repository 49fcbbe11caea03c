package dev.sampler.engine.sampling;

import dev.sampler.engine.EngineException;
import dev.sampler.engine.schedule.NoiseScheduler;
import dev.sampler.engine.schedule.NoiseSource;
import dev.sampler.engine.schedule.NoiseUnavailableException;
import dev.sampler.engine.schedule.StepOutput;
import java.util.Arrays;

/**
 * One request's denoising loop, driven one model evaluation at a time by someone else: the
 * {@link Sampler} for a request on its own, or a step-level batcher that packs the rows of several
 * sessions (each at its own timestep, with its own scheduler state, guidance and noise) into one
 * UNet forward.
 *
 * <p>Protocol: while {@link #done()} is false, call {@link #fillInput} to write this session's
 * {@link #rows()} model-input rows at some row offset of a batch, run the model on the batch, then
 * pass the output at the same offset to {@link #acceptOutput}. The UNet treats rows independently
 * (bit for bit: a row's output does not depend on the other rows in the batch), so a session
 * sampled inside a batch gives exactly the bytes it gives alone.
 *
 * <p>Row layout inside the session's slice: the {@code count} conditional rows, then (when guided)
 * the {@code count} null-class rows, as {@link Sampler} has always laid them out.
 *
 * <p>Not thread-safe: one thread drives a session at a time.
 */
public final class SamplingSession {
  private final SamplingRequest request;
  private final NoiseScheduler scheduler;
  private final NoiseSource noise;
  private final int count;
  private final int per;
  private final int channels;
  private final int height;
  private final int width;
  private final boolean guided;
  private final int rows;
  private final long[] labels;
  private final double[] timesteps;
  private final double[] eps;
  private double[] latents;
  private int step;
  private boolean filled;
  private long noiseNanos;
  private long forwardNanos;
  private long schedulerNanos;
  private long fillStart;

  SamplingSession(SamplingRequest request, NoiseScheduler scheduler, NoiseSource noise, int channels, int height,
      int width, boolean conditional, Integer nullClass) throws EngineException {
    this.request = request;
    this.scheduler = scheduler;
    this.noise = noise;
    this.count = request.count();
    this.channels = channels;
    this.height = height;
    this.width = width;
    this.per = channels * height * width;
    this.guided = request.guided();
    this.rows = guided ? 2 * count : count;
    scheduler.setTimesteps(request.steps());
    this.timesteps = scheduler.timesteps();
    this.latents = new double[count * per];
    this.eps = new double[count * per];
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
    if (conditional) {
      labels = new long[rows];
      int[] cls = request.classLabels();
      for (int k = 0; k < count; k++) {
        labels[k] = cls[k];
        if (guided) {
          labels[count + k] = nullClass;
        }
      }
    } else {
      labels = null;
    }
  }

  /** The request this session samples. */
  public SamplingRequest request() {
    return request;
  }

  /** Model-input rows per evaluation: the image count, doubled when guided. */
  public int rows() {
    return rows;
  }

  /** Values per row ({@code channels * height * width}). */
  public int valuesPerRow() {
    return per;
  }

  /** Model evaluations done so far. */
  public int evaluationsDone() {
    return step;
  }

  /** Model evaluations in the whole run (the scheduler's timestep count). */
  public int totalEvaluations() {
    return timesteps.length;
  }

  /** True once every evaluation ran; {@link #result()} is then available. */
  public boolean done() {
    return step == timesteps.length;
  }

  /** The timestep of the next evaluation. */
  public double nextTimestep() {
    checkRunning();
    return timesteps[step];
  }

  /**
   * Writes this session's next model input at row {@code rowOffset} of a batch: the scaled sample
   * rows into {@code input}, the timestep into {@code ts} and the class labels into {@code
   * classLabels} (null exactly when the model is unconditional).
   */
  public void fillInput(float[] input, int rowOffset, float[] ts, long[] classLabels) {
    checkRunning();
    fillStart = System.nanoTime();
    double t = timesteps[step];
    double[] scaled = scheduler.scaleModelInput(latents, t);
    int base = rowOffset * per;
    for (int i = 0; i < scaled.length; i++) {
      float v = (float) scaled[i];
      input[base + i] = v;
      if (guided) {
        input[base + count * per + i] = v;
      }
    }
    Arrays.fill(ts, rowOffset, rowOffset + rows, (float) t);
    if (labels != null) {
      System.arraycopy(labels, 0, classLabels, rowOffset, rows);
    }
    schedulerNanos += System.nanoTime() - fillStart;
    filled = true;
  }

  /**
   * Takes the model output for this session's rows (at {@code rowOffset}, as written by {@link
   * #fillInput}), applies guidance and the scheduler step.
   *
   * @param forwardNanos the duration of the forward that produced {@code out}, charged to this
   *     session's timings
   * @return the progress after the step (its arrays are live views: copy what you keep)
   * @throws EngineException if the noise source fails
   */
  public StepProgress acceptOutput(float[] out, int rowOffset, long forwardNanos) throws EngineException {
    if (!filled) {
      throw new IllegalStateException("acceptOutput without fillInput");
    }
    filled = false;
    this.forwardNanos += forwardNanos;
    long c = System.nanoTime();
    double t = timesteps[step];
    int base = rowOffset * per;
    if (guided) {
      float[] cond = Arrays.copyOfRange(out, base, base + count * per);
      float[] uncond = Arrays.copyOfRange(out, base + count * per, base + 2 * count * per);
      Guidance.combine(cond, uncond, count, per, request.guidanceScale(), request.guidanceRescale(), eps);
    } else {
      for (int i = 0; i < eps.length; i++) {
        eps[i] = out[base + i];
      }
    }
    TimedNoise timed = new TimedNoise(noise);
    StepOutput so;
    try {
      so = scheduler.step(eps, t, latents, timed);
    } catch (NoiseUnavailableException e) {
      throw new EngineException("drawing noise for step " + (step + 1) + " failed: " + e.getMessage(), e);
    }
    latents = so.prevSample();
    step++;
    noiseNanos += timed.nanos;
    schedulerNanos += System.nanoTime() - c - timed.nanos;
    return new StepProgress(step, timesteps.length, t, latents, so.predOriginalSample());
  }

  /** The finished images; only once {@link #done()}. */
  public SamplingResult result() {
    if (!done()) {
      throw new IllegalStateException("session not done: " + step + " of " + timesteps.length + " evaluations");
    }
    float[] images = new float[latents.length];
    for (int i = 0; i < images.length; i++) {
      images[i] = (float) latents[i];
    }
    return new SamplingResult(images, count, channels, height, width, step, forwardNanos, schedulerNanos,
        noiseNanos);
  }

  private void checkRunning() {
    if (done()) {
      throw new IllegalStateException("session already ran all " + timesteps.length + " evaluations");
    }
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
