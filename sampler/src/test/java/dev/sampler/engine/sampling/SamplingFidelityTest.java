package dev.sampler.engine.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sampler.engine.backend.BackendOptions;
import dev.sampler.engine.backend.Backends;
import dev.sampler.engine.backend.TensorBackend;
import dev.sampler.engine.quality.ColourShapeChecker;
import dev.sampler.rng.InsecureSeedAccess;
import dev.sampler.rng.NoiseStream;
import dev.sampler.rng.SecretSeed;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * The shipped demo model through the whole loop with the real schedulers and the real noise
 * stream: class fidelity by the colour/shape checker over 90 images (10 per class) at the issue's
 * settings, and bit-identical replay. Seeds here are public test fixtures.
 */
class SamplingFidelityTest {
  static final Path DEMO = Path.of("..", "models", "demo");
  static TensorBackend backend;
  static DiffusionPipeline pipeline;

  @BeforeAll
  static void load() throws Exception {
    backend = Backends.create("cpu", BackendOptions.threads(Runtime.getRuntime().availableProcessors()));
    pipeline = DiffusionPipeline.load(DEMO, backend);
  }

  @AfterAll
  static void close() {
    pipeline.close();
    backend.close();
  }

  static SecretSeed seed(String hex) {
    return SecretSeed.copyOf(HexFormat.of().parseHex(hex), InsecureSeedAccess.get());
  }

  static SamplingResult generate(int[] labels, String scheduler, int steps, String seedHex, String requestId)
      throws Exception {
    try (SecretSeed seed = seed(seedHex);
        NoiseStream stream = NoiseStream.replay(seed, new NoiseStream.Personalization("test", requestId))) {
      return pipeline.generate(new SamplingRequest(labels, steps, 3.0, 0.0), scheduler, new StreamNoise(stream),
          SamplingListener.NONE, () -> false);
    }
  }

  static int[] tenPerClass() {
    int[] labels = new int[90];
    for (int i = 0; i < 90; i++) {
      labels[i] = i / 10;
    }
    return labels;
  }

  @ParameterizedTest(name = "{0} {1} steps: fidelity >= {2}")
  @CsvSource({"dpmpp-2m-karras, 20, 0.95", "ddim, 50, 0.90", "euler-ancestral, 30, 0.90"})
  void generate_ninetyImages_reachesTheIssuesFidelity(String scheduler, int steps, double threshold) throws Exception {
    int[] labels = tenPerClass();
    SamplingResult r = generate(labels, scheduler, steps, "000102030405060708090a0b0c0d0e0f", "fidelity/" + scheduler);
    int ok = 0;
    int[] perClass = new int[9];
    for (int k = 0; k < labels.length; k++) {
      if (ColourShapeChecker.classify(r.images(), k, r.height(), r.width()) == labels[k]) {
        ok++;
        perClass[labels[k]]++;
      }
    }
    double fidelity = ok / 90.0;
    System.out.printf("fidelity %s %d steps guidance 3: %d/90 = %.1f%% per class %s%n", scheduler, steps, ok,
        100 * fidelity, Arrays.toString(perClass));
    assertTrue(fidelity >= threshold, scheduler + " fidelity " + ok + "/90 is below " + threshold
        + " (per class " + Arrays.toString(perClass) + ")");
  }

  @Test
  void generate_sameSeedAndRequest_bitIdenticalPngs() throws Exception {
    int[] labels = {0, 4, 8};
    SamplingResult a = generate(labels, "euler-ancestral", 8, "ffeeddccbbaa99887766554433221100", "replay-1");
    SamplingResult b = generate(labels, "euler-ancestral", 8, "ffeeddccbbaa99887766554433221100", "replay-1");
    for (int k = 0; k < labels.length; k++) {
      assertArrayEquals(Images.png(a, k), Images.png(b, k), "image " + k);
    }
    assertArrayEquals(a.images(), b.images());
  }

  @Test
  void generate_otherRequestIdOrSeed_otherImages() throws Exception {
    int[] labels = {3};
    SamplingResult a = generate(labels, "ddim", 5, "ffeeddccbbaa99887766554433221100", "replay-1");
    SamplingResult b = generate(labels, "ddim", 5, "ffeeddccbbaa99887766554433221100", "replay-2");
    SamplingResult c = generate(labels, "ddim", 5, "ffeeddccbbaa99887766554433221101", "replay-1");
    assertFalse(Arrays.equals(a.images(), b.images()), "request id must change the stream");
    assertFalse(Arrays.equals(a.images(), c.images()), "seed must change the stream");
    assertEquals(a.images().length, b.images().length);
  }
}
