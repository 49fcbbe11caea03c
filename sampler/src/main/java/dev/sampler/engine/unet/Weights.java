package dev.sampler.engine.unet;

import dev.sampler.engine.ModelException;
import dev.sampler.engine.backend.Tensor;
import dev.sampler.engine.backend.TensorBackend;
import dev.sampler.integrity.safetensors.DType;
import dev.sampler.integrity.safetensors.SafetensorsException;
import dev.sampler.integrity.safetensors.SafetensorsFile;
import dev.sampler.integrity.safetensors.TensorInfo;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Takes a model's weights out of a safetensors file by their diffusers names, checking each
 * against the shape the configuration implies. Problems (missing, wrong shape, wrong dtype) are
 * collected rather than thrown one by one, so that a checkpoint for another configuration is
 * reported with all its differences; {@link #finish()} adds the tensors nobody asked for and
 * throws if anything was wrong. Every uploaded tensor is tracked so a failed load frees them all.
 */
final class Weights {
  private static final int MAX_LISTED = 8;

  private final SafetensorsFile file;
  private final String source;
  private final TensorBackend backend;
  private final Set<String> taken = new HashSet<>();
  private final List<String> problems = new ArrayList<>();
  private final List<Tensor> uploaded = new ArrayList<>();
  private long parameters;

  Weights(SafetensorsFile file, String source, TensorBackend backend) {
    this.file = file;
    this.source = source;
    this.backend = backend;
  }

  /**
   * The float values of weight {@code name}, which must have exactly {@code shape}; zeros of that
   * shape (and a recorded problem) when it is missing or wrong.
   */
  float[] read(String name, int... shape) throws ModelException {
    taken.add(name);
    long expected = Tensor.sizeOf(shape);
    var info = file.find(name);
    if (info.isEmpty()) {
      problems.add("missing weight '" + name + "' " + Arrays.toString(shape));
      return new float[(int) expected];
    }
    TensorInfo t = info.get();
    if (!Arrays.equals(t.shape(), toLong(shape))) {
      problems.add("weight '" + name + "' has shape " + Arrays.toString(t.shape()) + ", expected "
          + Arrays.toString(shape));
      return new float[(int) expected];
    }
    if (t.dtype() == DType.I64) {
      problems.add("weight '" + name + "' has dtype I64, expected F32, F16 or BF16");
      return new float[(int) expected];
    }
    try {
      float[] v = file.readFloats(name);
      parameters += v.length;
      return v;
    } catch (SafetensorsException e) {
      throw new ModelException(source + ": cannot read weight '" + name + "': " + e.getMessage(), e);
    }
  }

  /** Reads weight {@code name} and uploads it with the same shape. */
  Tensor tensor(String name, int... shape) throws ModelException {
    return upload(read(name, shape), shape);
  }

  /** Uploads host values (which are then zeroed: no plaintext weight copy outlives the upload). */
  Tensor upload(float[] values, int... shape) {
    Tensor t = backend.upload(values, shape);
    uploaded.add(t);
    Arrays.fill(values, 0f);
    return t;
  }

  long parameters() {
    return parameters;
  }

  List<Tensor> uploaded() {
    return uploaded;
  }

  /** Throws if any weight was missing or wrong, or the file holds weights nobody read. */
  void finish() throws ModelException {
    for (TensorInfo t : file.tensors()) {
      if (!taken.contains(t.name())) {
        problems.add("unexpected weight '" + t.name() + "' " + Arrays.toString(t.shape()));
      }
    }
    if (!problems.isEmpty()) {
      freeAll();
      StringBuilder sb = new StringBuilder(source).append(": ");
      int shown = Math.min(MAX_LISTED, problems.size());
      sb.append(String.join("; ", problems.subList(0, shown)));
      if (problems.size() > shown) {
        sb.append("; and ").append(problems.size() - shown).append(" more problems");
      }
      throw new ModelException(sb.toString());
    }
  }

  void freeAll() {
    for (Tensor t : uploaded) {
      t.close();
    }
    uploaded.clear();
  }

  private static long[] toLong(int[] s) {
    long[] l = new long[s.length];
    for (int i = 0; i < s.length; i++) {
      l[i] = s[i];
    }
    return l;
  }
}
