package dev.sampler.engine.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * {@link Float32Math} against the values torch 1.13 and numpy 1.24 produced
 * ({@code src/test/resources/vectors/float32/kernels.json.gz}, written by
 * {@code tools/make_kernel_vectors.py}): bit for bit, every value.
 */
class Float32MathTest {
  static final Path FILE = Path.of("src/test/resources/vectors/float32/kernels.json.gz");

  static JsonNode vectors() throws Exception {
    return SchedulerParityTest.readGz(FILE);
  }

  /** Compares {@code fn} on every input with the recorded float32 results; lists mismatches. */
  private static List<String> compare(String name, JsonNode xs, JsonNode want, DoubleUnaryOperator fn) {
    List<String> failures = new ArrayList<>();
    assertEquals(xs.size(), want.size(), name);
    for (int i = 0; i < xs.size(); i++) {
      float x = (float) xs.get(i).doubleValue();
      float w = (float) want.get(i).doubleValue();
      float got = (float) fn.applyAsDouble(x);
      if (Float.floatToIntBits(got) != Float.floatToIntBits(w)) {
        failures.add(name + "(" + x + " = 0x" + Integer.toHexString(Float.floatToRawIntBits(x)) + ") = " + got
            + ", recorded " + w);
      }
    }
    return failures;
  }

  private static void assertNoFailures(List<String> failures) {
    assertTrue(failures.isEmpty(), failures.size() + " mismatches:\n  "
        + String.join("\n  ", failures.subList(0, Math.min(20, failures.size()))));
  }

  @Test
  void torchLog_recordedInputs_equalsTorchBitForBit() throws Exception {
    JsonNode v = vectors().get("log");
    assertNoFailures(compare("torchLog", v.get("x"), v.get("torch"), x -> Float32Math.torchLog((float) x)));
  }

  @Test
  void numpyLog_recordedInputs_equalsNumpyBitForBit() throws Exception {
    JsonNode v = vectors().get("log");
    assertNoFailures(compare("numpyLog", v.get("x"), v.get("numpy"), x -> Float32Math.numpyLog((float) x)));
  }

  @Test
  void torchExp_recordedInputs_equalsTorchBitForBit() throws Exception {
    JsonNode v = vectors().get("exp");
    assertNoFailures(compare("torchExp", v.get("x"), v.get("torch"), x -> Float32Math.torchExp((float) x)));
  }

  @Test
  void torchExpm1_recordedInputs_equalsTorchBitForBit() throws Exception {
    JsonNode v = vectors().get("expm1");
    assertNoFailures(compare("torchExpm1", v.get("x"), v.get("torch"), x -> Float32Math.torchExpm1((float) x)));
  }

  @Test
  void torchLog_someRecordedInputs_differFromCorrectlyRounded() throws Exception {
    // the point of the port: torch is not correctly rounded, so (float) Math.log would not do
    JsonNode v = vectors().get("log");
    int differ = 0;
    for (int i = 0; i < v.get("x").size(); i++) {
      float x = (float) v.get("x").get(i).doubleValue();
      if (x > 0 && Float.isFinite(x) && (float) Math.log(x) != (float) v.get("torch").get(i).doubleValue()) {
        differ++;
      }
    }
    assertTrue(differ > 0, "no recorded torch.log value differs from the correctly rounded one");
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
  void torchLog_specialValues_followIeee() {
    assertEquals(Float.NEGATIVE_INFINITY, Float32Math.torchLog(0f));
    assertEquals(Float.POSITIVE_INFINITY, Float32Math.torchLog(Float.POSITIVE_INFINITY));
    assertTrue(Float.isNaN(Float32Math.torchLog(-1f)));
    assertEquals(0f, Float32Math.torchLog(1f));
    assertEquals(0f, Float32Math.torchExp(-200f));
    assertEquals(-1f, Float32Math.torchExpm1(Float.NEGATIVE_INFINITY));
  }
}
