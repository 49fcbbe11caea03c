package dev.sampler.engine.sampling;

import dev.sampler.engine.schedule.NoiseSource;
import dev.sampler.engine.schedule.NoiseUnavailableException;
import dev.sampler.rng.NoiseStream;
import dev.sampler.rng.RngException;
import java.util.Objects;

/**
 * A request's {@link NoiseStream} as a scheduler {@link NoiseSource}: float32 normals widened to
 * double, in stream order. Not thread-safe (neither is the stream); owns nothing: the caller
 * closes the stream.
 */
public final class StreamNoise implements NoiseSource {
  private final NoiseStream stream;
  private float[] buffer = new float[0];

  /** Adapts {@code stream}. */
  public StreamNoise(NoiseStream stream) {
    this.stream = Objects.requireNonNull(stream, "stream");
  }

  @Override
  public void fill(double[] out) {
    if (buffer.length < out.length) {
      buffer = new float[out.length];
    }
    try {
      stream.fill(buffer, 0, out.length);
    } catch (RngException e) {
      throw new NoiseUnavailableException("the request's noise stream failed: " + e.getMessage(), e);
    }
    for (int i = 0; i < out.length; i++) {
      out[i] = buffer[i];
    }
    java.util.Arrays.fill(buffer, 0, out.length, 0f);
  }
}
