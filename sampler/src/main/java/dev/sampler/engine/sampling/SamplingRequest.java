package dev.sampler.engine.sampling;

/**
 * What to sample: one image per entry of {@code classLabels}, with the same steps and guidance.
 *
 * @param classLabels the class of each image (each in {@code [0, num_classes)}), or for an
 *     unconditional model an array of -1 whose length is the image count
 * @param steps number of inference steps, 1..1000 (the scheduler checks its own upper bound)
 * @param guidanceScale classifier-free guidance scale, finite, 0..30; values above 1 run the
 *     conditional and the null-class rows in one forward per step (as diffusers:
 *     {@code do_classifier_free_guidance = guidance_scale > 1})
 * @param guidanceRescale diffusers' {@code guidance_rescale}, 0..1 (0: off)
 */
public record SamplingRequest(int[] classLabels, int steps, double guidanceScale, double guidanceRescale) {
  /** Largest number of images in one request. */
  public static final int MAX_IMAGES = 256;

  /** Validates ranges; messages name the field, the value and the allowed range. */
  public SamplingRequest {
    if (classLabels == null || classLabels.length == 0 || classLabels.length > MAX_IMAGES) {
      throw new IllegalArgumentException("image count must be 1.." + MAX_IMAGES + ", got "
          + (classLabels == null ? 0 : classLabels.length));
    }
    classLabels = classLabels.clone();
    if (steps < 1 || steps > 1000) {
      throw new IllegalArgumentException("steps must be 1..1000, got " + steps);
    }
    if (!Double.isFinite(guidanceScale) || guidanceScale < 0 || guidanceScale > 30) {
      throw new IllegalArgumentException("guidance scale must be a finite number in 0..30, got " + guidanceScale);
    }
    if (!Double.isFinite(guidanceRescale) || guidanceRescale < 0 || guidanceRescale > 1) {
      throw new IllegalArgumentException("guidance rescale must be a finite number in 0..1, got " + guidanceRescale);
    }
  }

  /** Number of images. */
  public int count() {
    return classLabels.length;
  }

  /** A copy of the labels. */
  @Override
  public int[] classLabels() {
    return classLabels.clone();
  }

  /** True when guidance runs (scale above 1). */
  public boolean guided() {
    return guidanceScale > 1.0;
  }
}
