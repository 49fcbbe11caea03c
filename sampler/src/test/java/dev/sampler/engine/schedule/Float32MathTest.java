package dev.sampler.engine.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link Float32Math}: torch.linspace and torch.cumprod against the values torch 1.13 produced
 * ({@code src/test/resources/vectors/float32/kernels.json.gz}, written by
 * {@code tools/make_kernel_vectors.py}), bit for bit; log/exp/expm1 correctly rounded.
 */
class Float32MathTest {
  static final Path FILE = Path.of("src/test/resources/vectors/float32/kernels.json.gz");

  static JsonNode vectors() throws Exception {
    return SchedulerParityTest.readGz(FILE);
  }

  private static void assertNoFailures(List<String> failures) {
    assertTrue(failures.isEmpty(), failures.size() + " mismatches:\n  "
        + String.join("\n  ", failures.subList(0, Math.min(20, failures.size()))));
  }

  @Test
  void torchLinspace_recordedCases_equalsTorchBitForBit() throws Exception {
    List<String> failures = new ArrayList<>();
    for (JsonNode c : vectors().get("linspace")) {
      double start = c.get("start").doubleValue();
      double end = c.get("end").doubleValue();
      int steps = c.get("steps").intValue();
      float[] got = Float32Math.torchLinspace(start, end, steps);
      JsonNode want = c.get("values");
      assertEquals(want.size(), got.length, "linspace(" + start + ", " + end + ", " + steps + ")");
      for (int i = 0; i < got.length; i++) {
        if (got[i] != (float) want.get(i).doubleValue()) {
          failures.add("linspace(" + start + ", " + end + ", " + steps + ")[" + i + "] = " + got[i] + ", torch "
              + want.get(i).doubleValue());
        }
      }
    }
    assertNoFailures(failures);
  }

  @Test
  void torchCumprod_recordedCases_equalsTorchBitForBit() throws Exception {
    List<String> failures = new ArrayList<>();
    for (JsonNode c : vectors().get("cumprod")) {
      JsonNode x = c.get("x");
      float[] in = new float[x.size()];
      for (int i = 0; i < in.length; i++) {
        in[i] = (float) x.get(i).doubleValue();
      }
      float[] got = Float32Math.torchCumprod(in);
      for (int i = 0; i < got.length; i++) {
        if (got[i] != (float) c.get("values").get(i).doubleValue()) {
          failures.add("cumprod[" + i + "] = " + got[i] + ", torch " + c.get("values").get(i).doubleValue());
        }
      }
    }
    assertNoFailures(failures);
  }

  @Test
  void logExpExpm1_specialValues_followIeee() {
    assertEquals(Float.NEGATIVE_INFINITY, Float32Math.log(0f));
    assertEquals(Float.POSITIVE_INFINITY, Float32Math.log(Float.POSITIVE_INFINITY));
    assertTrue(Float.isNaN(Float32Math.log(-1f)));
    assertEquals(0f, Float32Math.log(1f));
    assertEquals(0f, Float32Math.exp(Float.NEGATIVE_INFINITY));
    assertEquals(-1f, Float32Math.expm1(Float.NEGATIVE_INFINITY));
  }

  @Test
  void log_float32Inputs_isTheFloat64LogRounded() {
    // correctly rounded: no value closer to the exact logarithm than the one returned (checked
    // against the neighbours with a float64 log whose error is far below a float32 ulp)
    java.util.SplittableRandom r = new java.util.SplittableRandom(7);
    for (int k = 0; k < 100_000; k++) {
      float x = Float.intBitsToFloat(r.nextInt(0x00800000, 0x7f800000));
      float got = Float32Math.log(x);
      double exact = StrictMath.log(x);
      double err = Math.abs(got - exact);
      assertTrue(err <= Math.abs(Math.nextUp(got) - exact) && err <= Math.abs(Math.nextDown(got) - exact),
          "log(" + x + ") = " + got);
    }
  }
}
