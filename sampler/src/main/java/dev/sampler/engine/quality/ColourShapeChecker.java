package dev.sampler.engine.quality;

/**
 * The demo model's deterministic class checker (DESIGN.md "quality is measured"; the same rule as
 * tools/checker.py, documented in tools/README.md): it reads an RGB image's colour and shape.
 *
 * <ul>
 *   <li>bright pixel: the largest of its three channels is above 0 (on the model's [-1, 1] range);
 *   <li>fewer than {@value #MIN_BRIGHT} bright pixels: no class ({@link #NONE}, always wrong);
 *   <li>colour: the channel with the largest sum over bright pixels (float64 sum; a tie picks the
 *       lower channel: red, green, blue);
 *   <li>shape from the fill ratio of the bright pixels' bounding box: {@code 10 * count >= 9 *
 *       area} square, else {@code 100 * count >= 64 * area} circle, else triangle;
 *   <li>class = 3 * shape + colour, shapes ordered circle, square, triangle.
 * </ul>
 */
public final class ColourShapeChecker {
  /** "No class": too few bright pixels. */
  public static final int NONE = -1;

  /** Minimum number of bright pixels for a class. */
  public static final int MIN_BRIGHT = 12;

  /** Class names in label order, as tools/demo_data.py names them. */
  public static final java.util.List<String> CLASS_NAMES = java.util.List.of(
      "red circle", "green circle", "blue circle",
      "red square", "green square", "blue square",
      "red triangle", "green triangle", "blue triangle");

  private ColourShapeChecker() {}

  /**
   * The class of image {@code k} of {@code images} ([N, 3, H, W] float32, model range), or
   * {@link #NONE}.
   */
  public static int classify(float[] images, int k, int height, int width) {
    int plane = height * width;
    int base = k * 3 * plane;
    if (images.length < base + 3 * plane) {
      throw new IllegalArgumentException("image " + k + " is beyond the array (" + images.length + " values)");
    }
    int count = 0;
    double[] sums = new double[3];
    int ymin = Integer.MAX_VALUE;
    int ymax = -1;
    int xmin = Integer.MAX_VALUE;
    int xmax = -1;
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        int p = y * width + x;
        float r = images[base + p];
        float g = images[base + plane + p];
        float b = images[base + 2 * plane + p];
        if (Math.max(r, Math.max(g, b)) > 0f) {
          count++;
          sums[0] += r;
          sums[1] += g;
          sums[2] += b;
          ymin = Math.min(ymin, y);
          ymax = Math.max(ymax, y);
          xmin = Math.min(xmin, x);
          xmax = Math.max(xmax, x);
        }
      }
    }
    if (count < MIN_BRIGHT) {
      return NONE;
    }
    int colour = 0;
    if (sums[1] > sums[colour]) {
      colour = 1;
    }
    if (sums[2] > sums[colour]) {
      colour = 2;
    }
    long area = (long) (xmax - xmin + 1) * (ymax - ymin + 1);
    int shape;
    if (10L * count >= 9L * area) {
      shape = 1;
    } else if (100L * count >= 64L * area) {
      shape = 0;
    } else {
      shape = 2;
    }
    return 3 * shape + colour;
  }

  /** The name of a class, or "none". */
  public static String name(int cls) {
    return cls >= 0 && cls < CLASS_NAMES.size() ? CLASS_NAMES.get(cls) : "none";
  }
}
