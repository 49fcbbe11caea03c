package dev.sampler.engine.internal.cpu;

import dev.sampler.engine.BackendException;
import dev.sampler.engine.backend.Conv2dSpec;
import dev.sampler.engine.internal.HeapTensor;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.WeakHashMap;
import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOpsHolder;

/**
 * Convolutions on oneDNN through ND4J's {@code conv2d} op (the {@code linux-x86_64-onednn} build
 * of nd4j-native). Inputs are copied into native buffers kept per shape, weights once per weight
 * tensor; the result is copied back into the heap tensor.
 *
 * <p>Loading selects the oneDNN native build through JavaCPP's platform-extension property and
 * then checks that the loaded library really uses oneDNN; anything else is a {@link
 * BackendException}, never a silent fall back to the plain build.
 */
final class Nd4jConvEngine implements ConvEngine {
  private static final String EXTENSION_PROPERTY = "org.bytedeco.javacpp.platform.extension";
  private static final String EXTENSION = "-onednn";

  private final long minFlops;
  private final int threads;
  private record Param(int version, INDArray array) {}

  private final Map<HeapTensor, Param> params = new WeakHashMap<>();
  private final Map<String, INDArray[]> buffers = new HashMap<>();

  private Nd4jConvEngine(int threads, long minFlops) {
    this.threads = threads;
    this.minFlops = minFlops;
  }

  /**
   * Loads ND4J with oneDNN and sets its thread counts (OpenMP and ND4J's own pool) to {@code
   * threads}.
   *
   * @param minFlops convolutions with fewer multiply-adds times two than this stay on the Java
   *     kernels (oneDNN's fixed cost per call dominates small ones); 0 sends all here
   */
  static Nd4jConvEngine load(int threads, long minFlops) throws BackendException {
    String ext = System.getProperty(EXTENSION_PROPERTY);
    if (ext != null && !ext.equals(EXTENSION)) {
      throw new BackendException("cpu backend: conv=onednn needs the JavaCPP platform extension \"" + EXTENSION
          + "\" but " + EXTENSION_PROPERTY + " is already \"" + ext + "\"");
    }
    try {
      // JavaCPP picks the native build by this property when ND4J first loads; it must be set
      // before any ND4J class initialises.
      System.setProperty(EXTENSION_PROPERTY, EXTENSION);
      var env = Nd4j.getEnvironment();
      env.setMaxThreads(threads);
      env.setMaxMasterThreads(threads);
      NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(threads);
      Nd4jCpu.Environment native_ = Nd4jCpu.Environment.getInstance();
      if (!native_.isUseONEDNN() || !native_.helpersAllowed()) {
        throw new BackendException("cpu backend: ND4J loaded, but without oneDNN (is the nd4j-native "
            + "linux-x86_64-onednn jar on the class path instead of the plain one?)");
      }
      if (Nd4j.dataType() != DataType.FLOAT && Nd4j.defaultFloatingPointType() != DataType.FLOAT) {
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
      }
    } catch (BackendException e) {
      throw e;
    } catch (RuntimeException | LinkageError e) {
      throw new BackendException("cpu backend: cannot load ND4J with oneDNN: " + e, e);
    }
    return new Nd4jConvEngine(threads, minFlops);
  }

  @Override
  public String name() {
    return "onednn";
  }

  @Override
  public String description() {
    return "oneDNN via ND4J 1.0.0-M2.1 (" + threads + " OpenMP threads) for convolutions of at least "
        + minFlops / 1_000_000 + " MFLOP, Java kernels below";
  }

  @Override
  public boolean accepts(HeapTensor x, HeapTensor w, Conv2dSpec spec) {
    if (spec.upsampleInput() || spec.padLo() != spec.padHi()) {
      return false;
    }
    long outPixels = (long) spec.outExtent(x.dim(2), w.dim(2)) * spec.outExtent(x.dim(3), w.dim(3));
    long flops = 2L * x.dim(0) * outPixels * w.dim(0) * w.dim(1) * w.dim(2) * w.dim(3);
    return flops >= minFlops;
  }

  @Override
  public void conv2d(HeapTensor x, HeapTensor w, HeapTensor b, Conv2dSpec spec, HeapTensor out) {
    INDArray[] io = buffers.computeIfAbsent(Arrays.toString(x.shape()) + Arrays.toString(out.shape()),
        k -> new INDArray[] {Nd4j.createUninitialized(DataType.FLOAT, toLong(x.shape())),
            Nd4j.createUninitialized(DataType.FLOAT, toLong(out.shape()))});
    INDArray xa = io[0], oa = io[1];
    ((FloatPointer) xa.data().pointer()).put(x.data(), 0, x.n());
    INDArray wa = param(w);
    INDArray ba = b == null ? null : param(b);
    int kh = w.dim(2), kw = w.dim(3), s = spec.stride(), p = spec.padLo();
    DynamicCustomOp.DynamicCustomOpsBuilder op = DynamicCustomOp.builder("conv2d");
    if (ba == null) {
      op.addInputs(xa, wa);
    } else {
      op.addInputs(xa, wa, ba);
    }
    // kH, kW, sH, sW, pH, pW, dH, dW, sameMode=0, dataFormat=0 (NCHW), weightFormat=1 (OIHW)
    op.addOutputs(oa).addIntegerArguments(kh, kw, s, s, p, p, 1, 1, 0, 0, 1);
    Nd4j.exec(op.build());
    ((FloatPointer) oa.data().pointer()).get(out.writable(), 0, out.n());
  }

  private INDArray param(HeapTensor t) {
    Param p = params.get(t);
    if (p == null || p.version != t.version) {
      INDArray a = Nd4j.createUninitialized(DataType.FLOAT, toLong(t.shape()));
      ((FloatPointer) a.data().pointer()).put(t.data(), 0, t.n());
      p = new Param(t.version, a);
      params.put(t, p);
    }
    return p.array;
  }

  private static long[] toLong(int[] s) {
    long[] l = new long[s.length];
    for (int i = 0; i < s.length; i++) {
      l[i] = s[i];
    }
    return l;
  }

  @Override
  public void close() {
    params.clear();
    buffers.clear();
  }
}
