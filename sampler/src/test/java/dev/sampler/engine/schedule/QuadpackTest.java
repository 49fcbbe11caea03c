package dev.sampler.engine.schedule;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * The QUADPACK port ({@link Quadpack#quad}) against scipy 1.10's {@code quad}, bit for bit
 * ({@code scipy_quad} in {@code vectors/float32/float32_vectors.json.gz}, written by
 * {@code tools/make_float32_vectors.py}).
 */
class QuadpackTest {

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
}
