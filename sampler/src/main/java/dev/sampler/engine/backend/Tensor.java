package dev.sampler.engine.backend;

/**
 * A dense float32 tensor owned by one {@link TensorBackend}, in row-major (NCHW for images)
 * order. Handles are only meaningful to the backend that made them; passing one to another
 * backend is an {@link IllegalArgumentException}.
 *
 * <p>Closing releases the memory; a closed tensor must not be used again. Closing twice is
 * harmless.
 */
public interface Tensor extends AutoCloseable {
  /** The shape; a fresh copy. */
  int[] shape();

  /** Number of dimensions. */
  int rank();

  /** Extent of dimension {@code i}. */
  int dim(int i);

  /** Number of elements (the product of the shape). */
  long size();

  @Override
  void close();

  /** Number of elements of {@code shape}, checking every extent is positive. */
  static long sizeOf(int... shape) {
    long n = 1;
    for (int d : shape) {
      if (d <= 0) {
        throw new IllegalArgumentException("tensor extents must be positive: " + java.util.Arrays.toString(shape));
      }
      n = Math.multiplyExact(n, d);
    }
    return n;
  }
}
