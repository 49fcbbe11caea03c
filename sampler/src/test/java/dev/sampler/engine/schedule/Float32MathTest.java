package dev.sampler.engine.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * {@link Float32Math}: torch.linspace and torch.cumprod against the values torch 1.13 produced, bit
 * for bit, from two independent recordings ({@code vectors/float32/kernels.json.gz}, written by
 * {@code tools/make_kernel_vectors.py}, and the bit patterns of
 * {@code vectors/float32/float32_vectors.json.gz}, written by {@code tools/make_float32_vectors.py},
 * torch 1.13 AVX2); log/exp/expm1 correctly rounded, exp/log checked against glibc's float64
 * exp/log rounded once (what the scheduler vectors use).
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

  @Test
  void torchLinspace_float32VectorsCases_matchTorchBitsExactly() {
    List<String> failures = new ArrayList<>();
    for (JsonNode c : Float32Vectors.doc().get("torch_linspace")) {
      double start = c.get("start").asDouble();
      double end = c.get("end").asDouble();
      int n = c.get("n").asInt();
      float[] want = Float32Vectors.floats(c.get("values"));
      float[] got = Float32Math.torchLinspace(start, end, n);
      int i = Float32Vectors.firstDifference(got, want);
      if (i >= 0) {
        failures.add(String.format(Locale.ROOT, "linspace(%s, %s, %d)[%d] = %s, torch %s", start, end, n, i,
            i < got.length ? got[i] : "-", i < want.length ? want[i] : "-"));
      }
    }
    assertTrue(failures.isEmpty(), String.join("\n", failures));
  }

  @Test
  void torchLinspace_noSteps_throwsIllegalArgument() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Float32Math.torchLinspace(0, 1, 0));
    assertEquals("linspace needs at least one step, got 0", e.getMessage());
  }

  @Test
  void exp_recordedArguments_matchGlibcRoundedOnce() {
    assertRecorded("cr_exp", Float32Math::exp);
  }

  @Test
  void log_recordedArguments_matchGlibcRoundedOnce() {
    assertRecorded("cr_log", Float32Math::log);
  }

  @Test
  void expAndLog_moreSpecialValues_followIeee() {
    assertEquals(0f, Float32Math.log(1f));
    assertEquals(1f, Float32Math.exp(0f));
    assertEquals(Float.NEGATIVE_INFINITY, Float32Math.log(0f));
    assertEquals(Float.POSITIVE_INFINITY, Float32Math.log(Float.POSITIVE_INFINITY));
    assertTrue(Float.isNaN(Float32Math.log(-1f)));
    assertTrue(Float.isNaN(Float32Math.log(Float.NaN)));
    assertEquals(0f, Float32Math.exp(-200f));
    assertEquals(Float.POSITIVE_INFINITY, Float32Math.exp(200f));
    assertTrue(Float.isNaN(Float32Math.exp(Float.NaN)));
  }

  private static void assertRecorded(String key, UnaryOperator<Float> op) {
    JsonNode c = Float32Vectors.doc().get(key);
    float[] args = Float32Vectors.floats(c.get("args"));
    float[] want = Float32Vectors.floats(c.get("values"));
    float[] got = new float[args.length];
    for (int i = 0; i < args.length; i++) {
      got[i] = op.apply(args[i]);
    }
    int n = Float32Vectors.countDifferences(got, want);
    int i = Float32Vectors.firstDifference(got, want);
    assertEquals(0, n, () -> key + ": " + n + " of " + args.length + " values differ; first: f(" + args[i] + ") = "
        + got[i] + ", reference " + want[i]);
  }
}
