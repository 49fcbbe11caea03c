package dev.sampler.engine.sampling;

/**
 * Finished images.
 *
 * @param images {@code [count, channels, height, width]} float32 in the model's range (about
 *     [-1, 1]), the final sample rounded to float32 as a diffusers float32 pipeline would hold it
 * @param count number of images
 * @param channels channels per image
 * @param height image height
 * @param width image width
 * @param modelEvaluations UNet forwards run (each on {@code count} or, guided, {@code 2 * count} rows)
 * @param forwardNanos time spent in UNet forwards
 * @param schedulerNanos time spent in scheduler steps and guidance
 * @param noiseNanos time spent drawing noise (initial and per step)
 */
public record SamplingResult(float[] images, int count, int channels, int height, int width,
    int modelEvaluations, long forwardNanos, long schedulerNanos, long noiseNanos) {

  /** Image {@code k} as 8-bit RGB(A) bytes, see {@link Images#toRgb8}. */
  public byte[] rgb8(int k) {
    return Images.toRgb8(images, k, channels, height, width);
  }
}
