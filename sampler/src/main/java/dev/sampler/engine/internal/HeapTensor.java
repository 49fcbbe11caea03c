package dev.sampler.engine.internal;

import dev.sampler.engine.backend.Tensor;
import java.util.Arrays;

/**
 * A tensor in a Java {@code float[]}. The array has {@link #SLACK} spare elements at the end so
 * vector kernels may read (never use) a little past the last element without bounds tricks.
 */
public final class HeapTensor implements Tensor {
  /** Spare elements after the data; at least the widest kernel panel. */
  public static final int SLACK = 128;

  private final Object owner;
  private final int[] shape;
  private final int size;
  private float[] data;
  /** Backend-private cache derived from the contents (e.g. packed weights); cleared on write. */
  public Object derived;
  /** Incremented on every {@link #writable()}; lets caches outside the tensor detect changes. */
  public int version;

  public HeapTensor(Object owner, int[] shape) {
    long n = Tensor.sizeOf(shape);
    if (n > Integer.MAX_VALUE - SLACK) {
      throw new IllegalArgumentException("tensor too large: " + Arrays.toString(shape));
    }
    this.owner = owner;
    this.shape = shape.clone();
    this.size = (int) n;
    this.data = new float[size + SLACK];
  }

  /** Checks {@code t} is a live tensor of {@code owner} and returns it. */
  public static HeapTensor of(Object owner, Tensor t) {
    if (!(t instanceof HeapTensor h) || h.owner != owner) {
      throw new IllegalArgumentException("tensor does not belong to this backend: " + t);
    }
    if (h.data == null) {
      throw new IllegalStateException("tensor is closed");
    }
    return h;
  }

  /** A new tensor of {@code owner} holding a copy of {@code data}; the lengths must agree. */
  public static HeapTensor upload(Object owner, float[] data, int... shape) {
    HeapTensor h = new HeapTensor(owner, shape);
    if (data.length != h.n()) {
      throw new IllegalArgumentException("upload: " + data.length + " values for shape of size " + h.n());
    }
    System.arraycopy(data, 0, h.writable(), 0, h.n());
    return h;
  }

  /** Copies the contents of {@code owner}'s tensor into {@code dst}; the lengths must agree. */
  public static void download(Object owner, Tensor tensor, float[] dst) {
    HeapTensor h = of(owner, tensor);
    if (dst.length != h.n()) {
      throw new IllegalArgumentException("download: destination has " + dst.length + " values, tensor " + h.n());
    }
    System.arraycopy(h.data(), 0, dst, 0, h.n());
  }

  /** The backing array (length {@code size() + SLACK}). */
  public float[] data() {
    return data;
  }

  /** Marks the contents as changed (drops derived caches) and returns the backing array. */
  public float[] writable() {
    derived = null;
    version++;
    return data;
  }

  public int n() {
    return size;
  }

  @Override
  public int[] shape() {
    return shape.clone();
  }

  @Override
  public int rank() {
    return shape.length;
  }

  @Override
  public int dim(int i) {
    return shape[i];
  }

  @Override
  public long size() {
    return size;
  }

  /** Product of the dimensions from {@code from} on. */
  public int inner(int from) {
    int p = 1;
    for (int i = from; i < shape.length; i++) {
      p *= shape[i];
    }
    return p;
  }

  @Override
  public void close() {
    data = null;
    derived = null;
  }

  @Override
  public String toString() {
    return "Tensor" + Arrays.toString(shape);
  }
}
