package dev.sampler.engine.schedule;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * The reference values of {@code tools/make_float32_vectors.py} (diffusers' DDPMScheduler betas and
 * alphas_cumprod, torch's float32 linspace/exp/log, numpy's float32 log, scipy's quad), float32
 * values as IEEE-754 bit patterns.
 */
final class Float32Vectors {
  static final Path FILE = Path.of("src/test/resources/vectors/float32/float32_vectors.json.gz");
  private static JsonNode doc;

  private Float32Vectors() {}

  static synchronized JsonNode doc() {
    if (doc == null) {
      try (InputStream in = new GZIPInputStream(Files.newInputStream(FILE))) {
        doc = new ObjectMapper().readTree(in);
      } catch (IOException e) {
        throw new UncheckedIOException(FILE + ": cannot read (run tools/make_float32_vectors.py)", e);
      }
    }
    return doc;
  }

  /** A JSON array of bit patterns as floats. */
  static float[] floats(JsonNode bits) {
    float[] f = new float[bits.size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = Float.intBitsToFloat((int) bits.get(i).asLong());
    }
    return f;
  }

  /** The first index where the bits differ (NaNs of any payload are equal), or -1. */
  static int firstDifference(float[] got, float[] want) {
    if (got.length != want.length) {
      return Math.min(got.length, want.length);
    }
    for (int i = 0; i < got.length; i++) {
      boolean bothNaN = Float.isNaN(got[i]) && Float.isNaN(want[i]);
      if (!bothNaN && Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(want[i])) {
        return i;
      }
    }
    return -1;
  }

  /** How many entries differ in their bits (NaNs equal). */
  static int countDifferences(float[] got, float[] want) {
    int n = 0;
    for (int i = 0; i < Math.min(got.length, want.length); i++) {
      boolean bothNaN = Float.isNaN(got[i]) && Float.isNaN(want[i]);
      if (!bothNaN && Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(want[i])) {
        n++;
      }
    }
    return n + Math.abs(got.length - want.length);
  }
}
