package dev.sampler.engine.unet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sampler.engine.backend.BackendOptions;
import dev.sampler.engine.backend.Backends;
import dev.sampler.engine.backend.TensorBackend;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The activation cache per input shape: its capacity, its allocation counter, and that reuse changes no output. */
class UNet2DModelWorkspaceTest {
  static final Path DEMO = Path.of("src/test/resources/models/random-demo");

  private static float[] forward(UNet2DModel m, int batch) {
    int per = m.config().inChannels() * m.sampleHeight() * m.sampleWidth();
    float[] x = new float[batch * per];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) Math.sin(i * 0.37);
    }
    float[] t = new float[batch];
    long[] labels = new long[batch];
    for (int i = 0; i < batch; i++) {
      t[i] = 100 + 50 * i;
      labels[i] = i % 9;
    }
    return m.forward(x, batch, t, labels);
  }

  @Test
  void setWorkspaceShapes_capacityOne_reallocatesOnEveryShapeChange() throws Exception {
    try (TensorBackend backend = Backends.create("cpu", BackendOptions.threads(1));
        UNet2DModel m = UNet2DModel.load(DEMO, backend)) {
      assertEquals(UNet2DModel.DEFAULT_WORKSPACE_SHAPES, m.workspaceShapes());
      float[] first = forward(m, 1);
      forward(m, 2);
      assertArrayEquals(first, forward(m, 1));
      assertEquals(2, m.workspaceAllocations(), "three shapes fit: batch 1 reused");

      m.setWorkspaceShapes(1); // evicts all but the most recent (batch 1)
      assertArrayEquals(first, forward(m, 1));
      forward(m, 2);
      assertArrayEquals(first, forward(m, 1));
      assertEquals(4, m.workspaceAllocations(), "one shape: batch 2 and batch 1 again");
    }
  }

  @Test
  void setWorkspaceShapes_outOfRange_throwsNamingTheValue() throws Exception {
    try (TensorBackend backend = Backends.create("cpu", BackendOptions.threads(1));
        UNet2DModel m = UNet2DModel.load(DEMO, backend)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.setWorkspaceShapes(0));
      assertEquals("workspace shapes must be 1..64, got 0", e.getMessage());
    }
  }
}
