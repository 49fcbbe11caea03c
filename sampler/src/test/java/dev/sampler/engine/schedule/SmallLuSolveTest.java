package dev.sampler.engine.schedule;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link SmallLuSolve} against torch.linalg.solve's float32 results on UniPC-shaped systems
 * ({@code src/test/resources/vectors/float32/kernels.json.gz}, "solve"): bit for bit.
 */
class SmallLuSolveTest {

  private static float[] floats(JsonNode a) {
    float[] f = new float[a.size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) a.get(i).doubleValue();
    }
    return f;
  }

  @Test
  void solve_recordedSystems_equalTorchBitForBit() throws Exception {
    List<String> failures = new ArrayList<>();
    int n = 0;
    for (JsonNode c : Float32MathTest.vectors().get("solve")) {
      float[][] a = new float[c.get("a").size()][];
      for (int i = 0; i < a.length; i++) {
        a[i] = floats(c.get("a").get(i));
      }
      float[] b = floats(c.get("b"));
      boolean strided = c.get("strided").booleanValue();
      float[] got = strided ? SmallLuSolve.solveStrided(a, b) : SmallLuSolve.solveContiguous(a, b);
      float[] want = floats(c.get("x"));
      for (int i = 0; i < want.length; i++) {
        if (Float.floatToIntBits(got[i]) != Float.floatToIntBits(want[i])) {
          failures.add((strided ? "strided " : "contiguous ") + a.length + "x" + a.length + " #" + n + ": x[" + i
              + "] = " + got[i] + ", torch " + want[i]);
          break;
        }
      }
      n++;
    }
    assertTrue(n > 0, "no recorded systems");
    assertTrue(failures.isEmpty(), failures.size() + " of " + n + " systems differ:\n  "
        + String.join("\n  ", failures.subList(0, Math.min(20, failures.size()))));
  }

  @Test
  void solveContiguous_singularMatrix_throwsNamingSingular() {
    float[][] a = {{1f, 1f}, {1f, 1f}};
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SmallLuSolve.solveContiguous(a, new float[] {1f, 2f}));
    assertTrue(e.getMessage().contains("singular"), e.getMessage());
  }
}
