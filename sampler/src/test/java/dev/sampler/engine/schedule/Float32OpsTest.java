package dev.sampler.engine.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.DoubleUnaryOperator;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * torch's float32 linspace and the QUADPACK port against the real libraries' bits
 * ({@code tools/make_float32_vectors.py}: torch 1.13 AVX2, scipy 1.10), and the correctly rounded
 * float32 exp/log against glibc's float64 exp/log rounded once (what the scheduler vectors use).
 */
class Float32OpsTest {

  @Test
  void torchLinspace_recordedCases_matchTorchBitForBit() {
    List<String> failures = new ArrayList<>();
    for (JsonNode c : Float32Vectors.doc().get("torch_linspace")) {
      double start = c.get("start").asDouble();
      double end = c.get("end").asDouble();
      int n = c.get("n").asInt();
      float[] want = Float32Vectors.floats(c.get("values"));
      float[] got = Float32Ops.torchLinspace(start, end, n);
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
        () -> Float32Ops.torchLinspace(0, 1, 0));
    assertEquals("linspace needs at least one step, got 0", e.getMessage());
  }

  @Test
  void exp_recordedArguments_matchGlibcRoundedOnce() {
    assertRecorded("cr_exp", Float32Ops::exp);
  }

  @Test
  void log_recordedArguments_matchGlibcRoundedOnce() {
    assertRecorded("cr_log", Float32Ops::log);
  }

  @Test
  void expAndLog_specialValues_followIeee() {
    assertEquals(0f, Float32Ops.log(1f));
    assertEquals(1f, Float32Ops.exp(0f));
    assertEquals(Float.NEGATIVE_INFINITY, Float32Ops.log(0f));
    assertEquals(Float.POSITIVE_INFINITY, Float32Ops.log(Float.POSITIVE_INFINITY));
    assertTrue(Float.isNaN(Float32Ops.log(-1f)));
    assertTrue(Float.isNaN(Float32Ops.log(Float.NaN)));
    assertEquals(0f, Float32Ops.exp(-200f));
    assertEquals(Float.POSITIVE_INFINITY, Float32Ops.exp(200f));
    assertTrue(Float.isNaN(Float32Ops.exp(Float.NaN)));
  }

  @Test
  void quad_recordedIntegrals_matchScipyBitForBit() {
    List<String> failures = new ArrayList<>();
    for (JsonNode c : Float32Vectors.doc().get("scipy_quad")) {
      String name = c.get("f").asText();
      DoubleUnaryOperator f = switch (name) {
        case "sqrt" -> Math::sqrt;
        case "inv_sqrt" -> x -> 1.0 / Math.sqrt(x);
        case "kink" -> x -> Math.abs(x - 1.0 / 3.0);
        case "peak" -> x -> 1.0 / (1e-4 + (x - 0.3) * (x - 0.3));
        case "cubic" -> x -> ((x - 0.25) * (x - 0.5)) * (x - 0.75);
        default -> throw new IllegalStateException("unknown integrand " + name);
      };
      double a = c.get("a").asDouble();
      double b = c.get("b").asDouble();
      double epsrel = c.get("epsrel").asDouble();
      double want = c.get("value").asDouble();
      double got = Quadpack.quad(f, a, b, epsrel);
      if (Double.doubleToLongBits(got) != Double.doubleToLongBits(want)) {
        failures.add(String.format(Locale.ROOT, "quad(%s, %s, %s, epsrel=%s) = %s, scipy %s", name, a, b, epsrel,
            got, want));
      }
    }
    assertTrue(failures.isEmpty(), String.join("\n", failures));
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
