package dev.sampler.engine.quality;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sampler.integrity.safetensors.SafetensorsFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The Java checker against tools/checker.py on vectors/checker/checker.safetensors (written by
 * tools/make_checker_vectors.py: demo images, noisy variants, edge cases).
 */
class ColourShapeCheckerTest {

  @Test
  void classify_pythonCheckerVectors_sameClassForEveryImage() throws Exception {
    Path file = Path.of("src/test/resources/vectors/checker/checker.safetensors");
    float[] images;
    long[] expected;
    try (SafetensorsFile f = SafetensorsFile.open(file)) {
      images = f.readFloats("images");
      expected = f.readLongs("pred");
    }
    assertTrue(expected.length > 300, "vector file holds " + expected.length + " images");
    List<String> failures = new ArrayList<>();
    for (int k = 0; k < expected.length; k++) {
      int got = ColourShapeChecker.classify(images, k, 32, 32);
      if (got != expected[k]) {
        failures.add("image " + k + ": java " + got + ", python " + expected[k]);
      }
    }
    assertEquals(List.of(), failures);
  }

  @Test
  void classify_filledSquare_isSquareOfItsColour() {
    float[] img = new float[3 * 32 * 32];
    java.util.Arrays.fill(img, -1f);
    for (int y = 8; y < 20; y++) {
      for (int x = 8; x < 20; x++) {
        img[2 * 1024 + y * 32 + x] = 0.8f; // blue
      }
    }
    assertEquals(5, ColourShapeChecker.classify(img, 0, 32, 32));
    assertEquals("blue square", ColourShapeChecker.name(5));
  }

  @Test
  void classify_blankImage_isNone() {
    float[] img = new float[3 * 32 * 32];
    java.util.Arrays.fill(img, -1f);
    assertEquals(ColourShapeChecker.NONE, ColourShapeChecker.classify(img, 0, 32, 32));
    assertEquals("none", ColourShapeChecker.name(ColourShapeChecker.NONE));
  }
}
