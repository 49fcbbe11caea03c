package dev.sampler.engine.internal.cpu;

import dev.sampler.engine.backend.Conv2dSpec;
import dev.sampler.engine.internal.HeapTensor;

/** An external convolution implementation the CPU backend may delegate to. */
interface ConvEngine extends AutoCloseable {
  String name();

  String description();

  /** Whether this engine runs this convolution (otherwise the Java kernels do). */
  boolean accepts(HeapTensor x, HeapTensor w, Conv2dSpec spec);

  /** {@code out = conv(x, w) + b}, shapes already checked. */
  void conv2d(HeapTensor x, HeapTensor w, HeapTensor b, Conv2dSpec spec, HeapTensor out);

  @Override
  void close();
}
