package dev.sampler.engine.unet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sampler.engine.ModelException;
import dev.sampler.engine.backend.BackendOptions;
import dev.sampler.engine.backend.Backends;
import dev.sampler.engine.backend.TensorBackend;
import dev.sampler.integrity.safetensors.SafetensorsFile;
import dev.sampler.integrity.safetensors.SafetensorsWriter;
import dev.sampler.integrity.safetensors.TensorInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.BiFunction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading: weight checks with exact messages, dtype widening, forward argument checks. */
class UNet2DModelLoadTest {
  static final Path VARIANT = Path.of("src/test/resources/models/random-variant");
  static final Path DEMO = Path.of("src/test/resources/models/random-demo");
  static TensorBackend backend;

  @TempDir Path tmp;

  @BeforeAll
  static void open() throws Exception {
    backend = Backends.create("cpu", BackendOptions.threads(2));
  }

  @AfterAll
  static void close() {
    backend.close();
  }

  /** Writes a copy of VARIANT into tmp whose tensors pass through {@code edit} (null drops one). */
  private Path copyWith(BiFunction<TensorInfo, float[], float[]> edit, SafetensorsWriter extra) throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("model"));
    Files.copy(VARIANT.resolve("config.json"), dir.resolve("config.json"));
    SafetensorsWriter w = extra != null ? extra : SafetensorsWriter.create();
    try (SafetensorsFile f = SafetensorsFile.open(VARIANT.resolve(UNet2DModel.WEIGHTS_FILE))) {
      for (TensorInfo t : f.tensors()) {
        float[] v = edit.apply(t, f.readFloats(t.name()));
        if (v != null) {
          long[] shape = v.length == t.elementCount() ? t.shape() : new long[] {v.length};
          w.addF32(t.name(), shape, v);
        }
      }
    }
    w.write(dir.resolve(UNet2DModel.WEIGHTS_FILE));
    return dir;
  }

  private String loadError(Path dir) {
    return assertThrows(ModelException.class, () -> UNet2DModel.load(dir, backend)).getMessage();
  }

  @Test
  void load_missingWeight_failsNamingIt() throws Exception {
    Path dir = copyWith((t, v) -> t.name().equals("mid_block.attentions.0.to_k.bias") ? null : v, null);
    assertEquals("diffusion_pytorch_model.safetensors: missing weight 'mid_block.attentions.0.to_k.bias' [32]",
        loadError(dir));
  }

  @Test
  void load_unexpectedWeight_failsNamingIt() throws Exception {
    Path dir = copyWith((t, v) -> v,
        SafetensorsWriter.create().addF32("mid_block.attentions.0.query.weight", new long[] {32, 32}, new float[1024]));
    assertEquals("diffusion_pytorch_model.safetensors: unexpected weight 'mid_block.attentions.0.query.weight' "
        + "[32, 32]", loadError(dir));
  }

  @Test
  void load_wrongShape_failsNamingIt() throws Exception {
    Path dir = copyWith((t, v) -> t.name().equals("conv_in.weight") ? new float[v.length / 3] : v, null);
    assertEquals("diffusion_pytorch_model.safetensors: weight 'conv_in.weight' has shape [144], expected "
        + "[16, 3, 3, 3]", loadError(dir));
  }

  @Test
  void load_integerWeight_failsNamingIt() throws Exception {
    Path dir = copyWith((t, v) -> t.name().equals("conv_out.bias") ? null : v,
        SafetensorsWriter.create().addI64("conv_out.bias", new long[] {2}, new long[] {1, 2}));
    assertEquals("diffusion_pytorch_model.safetensors: weight 'conv_out.bias' has dtype I64, expected F32, F16 or BF16",
        loadError(dir));
  }

  @Test
  void load_checkpointForAnotherConfig_listsProblems() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("mixed"));
    Files.copy(DEMO.resolve("config.json"), dir.resolve("config.json"));
    Files.copy(VARIANT.resolve(UNet2DModel.WEIGHTS_FILE), dir.resolve(UNet2DModel.WEIGHTS_FILE));
    String msg = loadError(dir);
    assertTrue(msg.startsWith("diffusion_pytorch_model.safetensors: weight 'conv_in.weight' has shape [16, 3, 3, 3], "
        + "expected [32, 3, 3, 3]; "), msg);
    assertTrue(msg.matches(".*; and \\d+ more problems"), msg);
  }

  @Test
  void load_missingConfig_fails() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("empty"));
    assertTrue(loadError(dir).startsWith("config.json: cannot read: "));
  }

  @Test
  void load_halfPrecisionWeights_widenExactly() throws Exception {
    // The same values stored as F16 and BF16 (rounded) and as F32 give the same forward.
    for (String dtype : new String[] {"F16", "BF16"}) {
      Path f32 = Files.createDirectories(tmp.resolve(dtype + "-f32"));
      Path half = Files.createDirectories(tmp.resolve(dtype));
      SafetensorsWriter wf = SafetensorsWriter.create(), wh = SafetensorsWriter.create();
      try (SafetensorsFile f = SafetensorsFile.open(VARIANT.resolve(UNet2DModel.WEIGHTS_FILE))) {
        for (TensorInfo t : f.tensors()) {
          float[] v = f.readFloats(t.name());
          for (int i = 0; i < v.length; i++) {
            v[i] = dtype.equals("F16") ? Float.float16ToFloat(Float.floatToFloat16(v[i]))
                : Float.intBitsToFloat(Float.floatToIntBits(v[i]) & 0xffff0000);
          }
          wf.addF32(t.name(), t.shape(), v);
          if (dtype.equals("F16")) {
            wh.addF16(t.name(), t.shape(), v);
          } else {
            wh.addBF16(t.name(), t.shape(), v);
          }
        }
      }
      for (Path d : new Path[] {f32, half}) {
        Files.copy(VARIANT.resolve("config.json"), d.resolve("config.json"));
      }
      wf.write(f32.resolve(UNet2DModel.WEIGHTS_FILE));
      wh.write(half.resolve(UNet2DModel.WEIGHTS_FILE));
      float[] x = new float[2 * 3 * 16 * 16];
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) Math.sin(i * 0.37);
      }
      try (UNet2DModel a = UNet2DModel.load(f32, backend); UNet2DModel b = UNet2DModel.load(half, backend)) {
        assertArrayEquals(a.forward(x, 2, new float[] {10, 900}, new long[] {1, 9}),
            b.forward(x, 2, new float[] {10, 900}, new long[] {1, 9}), dtype);
      }
    }
  }

  @Test
  void forward_badArguments_failWithDiffusersMessages() throws Exception {
    try (UNet2DModel m = UNet2DModel.load(VARIANT, backend)) {
      float[] x = new float[3 * 16 * 16];
      assertEquals("class_labels should be provided when doing class conditioning",
          assertThrows(IllegalArgumentException.class, () -> m.forward(x, 1, new float[] {1}, null)).getMessage());
      assertEquals("class label 10 out of range [0, 10)",
          assertThrows(IllegalArgumentException.class, () -> m.forward(x, 1, new float[] {1}, new long[] {10}))
              .getMessage());
      assertEquals("sample has 768 values, expected 2 x 3 x 16 x 16",
          assertThrows(IllegalArgumentException.class, () -> m.forward(x, 2, new float[] {1}, new long[] {1, 2}))
              .getMessage());
      assertEquals("image size 9x9 is not a multiple of 2 (2^(blocks - 1))",
          assertThrows(IllegalArgumentException.class,
              () -> m.forward(new float[243], 1, 9, 9, new float[] {1}, new long[] {1})).getMessage());
    }
  }

  @Test
  void forward_rowsOfABatch_equalOneRowForwardsExactly() throws Exception {
    // Every operation is per sample, so batching (and the per-shape activation buffers, used here
    // for batch 3, 1, 3 again) must not change a single bit of a row's result.
    try (UNet2DModel m = UNet2DModel.load(DEMO, backend)) {
      int row = 3 * 32 * 32;
      float[] x = new float[3 * row];
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) Math.sin(i * 0.61) * 1.5f;
      }
      float[] t = {999, 500.5f, 3};
      long[] labels = {9, 0, 4};
      float[] all = m.forward(x, 3, t, labels);
      for (int r = 0; r < 3; r++) {
        float[] one = m.forward(java.util.Arrays.copyOfRange(x, r * row, (r + 1) * row), 1, new float[] {t[r]},
            new long[] {labels[r]});
        assertArrayEquals(java.util.Arrays.copyOfRange(all, r * row, (r + 1) * row), one, "row " + r);
      }
      assertArrayEquals(all, m.forward(x, 3, t, labels));
    }
  }

  @Test
  void forward_threadCountOrJitState_doesNotChangeABit() throws Exception {
    // Same inputs, fresh backends with 1 and 3 threads, first (cold JIT) and later forwards:
    // bit-identical outputs, so a seeded generation replays exactly.
    float[] x = new float[2 * 3 * 16 * 16];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) Math.cos(i * 0.29) * 2f;
    }
    float[] first = null;
    for (int threads : new int[] {1, 3}) {
      try (TensorBackend b = Backends.create("cpu", BackendOptions.threads(threads));
          UNet2DModel m = UNet2DModel.load(VARIANT, b)) {
        for (int rep = 0; rep < 3; rep++) {
          float[] y = m.forward(x, 2, new float[] {17, 801.25f}, new long[] {3, 9});
          if (first == null) {
            first = y;
          }
          assertArrayEquals(first, y, threads + " threads, forward " + rep);
        }
      }
    }
  }

  @Test
  void summaryAndParameterCount_describeTheDemoArchitecture() throws Exception {
    try (UNet2DModel m = UNet2DModel.load(DEMO, backend)) {
      assertEquals(1_165_539, m.parameterCount());
      String s = m.summary();
      assertTrue(s.startsWith("UNet2DModel (32x32, 3 -> 3 channels, 1,165,539 parameters, backend cpu)"), s);
      assertTrue(s.contains("down_blocks.1 AttnDownBlock2D: resnet 32->64 (1x1 shortcut), 1 x attention (2 heads x 32), "
          + "downsample /2"), s);
    }
  }
}
