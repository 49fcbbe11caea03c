package dev.sampler.engine.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sampler.engine.ModelException;
import dev.sampler.engine.backend.BackendOptions;
import dev.sampler.engine.backend.Backends;
import dev.sampler.engine.backend.TensorBackend;
import dev.sampler.integrity.safetensors.SafetensorsFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Loading a model from memory (verified bytes, unsealed weights) and the loaded-weights digest. */
class ModelSourceTest {
  private static final Path DEMO = Path.of("../models/demo");
  private static TensorBackend backend;

  @BeforeAll
  static void open() throws Exception {
    backend = Backends.create("cpu", BackendOptions.threads(2));
  }

  @AfterAll
  static void close() {
    backend.close();
  }

  private static ModelSource source(Arena arena, byte[] weights) throws Exception {
    MemorySegment seg = arena.allocate(weights.length);
    MemorySegment.copy(MemorySegment.ofArray(weights), 0, seg, 0, weights.length);
    return new ModelSource("demo", DEMO, Files.readAllBytes(DEMO.resolve("config.json")),
        Files.readAllBytes(DEMO.resolve("scheduler_config.json")), Files.readAllBytes(DEMO.resolve("classes.json")),
        SafetensorsFile.parse(seg, "diffusion_pytorch_model.safetensors"), "00");
  }

  @Test
  void load_fromMemory_forwardsExactlyAsFromDirectory() throws Exception {
    byte[] weights = Files.readAllBytes(DEMO.resolve("diffusion_pytorch_model.safetensors"));
    try (Arena arena = Arena.ofConfined();
        DiffusionPipeline fromDisk = DiffusionPipeline.load(DEMO, backend);
        DiffusionPipeline fromMemory = DiffusionPipeline.load(source(arena, weights), backend)) {
      float[] x = new float[3 * 32 * 32];
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) Math.sin(i * 0.37);
      }
      float[] a = fromDisk.model().forward(x, 1, new float[] {500f}, new long[] {4});
      float[] b = fromMemory.model().forward(x, 1, new float[] {500f}, new long[] {4});
      assertArrayEquals(a, b);
      assertEquals(fromDisk.configSha256(), fromMemory.configSha256());
      assertEquals(fromDisk.classes(), fromMemory.classes());
      assertArrayEquals(fromDisk.model().loadedWeightsDigest(), fromMemory.model().loadedWeightsDigest());
    }
  }

  @Test
  void loadedWeightsDigest_oneWeightChanged_differs() throws Exception {
    byte[] weights = Files.readAllBytes(DEMO.resolve("diffusion_pytorch_model.safetensors"));
    byte[] changed = weights.clone();
    changed[changed.length - 2] ^= 0x01; // a low bit of the last float of the last tensor
    try (Arena arena = Arena.ofConfined();
        DiffusionPipeline a = DiffusionPipeline.load(source(arena, weights), backend);
        DiffusionPipeline b = DiffusionPipeline.load(source(arena, changed), backend)) {
      byte[] da = a.model().loadedWeightsDigest();
      assertArrayEquals(da, a.model().loadedWeightsDigest(), "stable across reads");
      assertFalse(Arrays.equals(da, b.model().loadedWeightsDigest()));
    }
  }

  @Test
  void load_classConditionalWithoutClasses_namesTheMissingFile() throws Exception {
    byte[] weights = Files.readAllBytes(DEMO.resolve("diffusion_pytorch_model.safetensors"));
    try (Arena arena = Arena.ofConfined()) {
      ModelSource s = source(arena, weights);
      ModelSource noClasses = new ModelSource(s.name(), s.directory(), s.config(), s.schedulerConfig(), null,
          s.weights(), s.weightsSha256());
      ModelException e = assertThrows(ModelException.class, () -> DiffusionPipeline.load(noClasses, backend));
      assertTrue(e.getMessage().contains("classes.json: missing"), e.getMessage());
    }
  }
}
