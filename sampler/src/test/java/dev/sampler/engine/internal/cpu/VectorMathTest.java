package dev.sampler.engine.internal.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

class VectorMathTest {
  @Test
  void exp_overTheFloatRange_withinTwoUlpsAndScalarEqualsVector() {
    int n = 200_000;
    float[] x = new float[n + VectorMath.V];
    for (int i = 0; i < n; i++) {
      x[i] = -87.3f + (88.3f + 87.3f) * i / (n - 1);
    }
    float[] v = new float[n + VectorMath.V];
    for (int i = 0; i < n; i += VectorMath.V) {
      VectorMath.exp(FloatVector.fromArray(VectorMath.S, x, i)).intoArray(v, i);
    }
    double worst = 0;
    for (int i = 0; i < n; i++) {
      float s = VectorMath.exp(x[i]);
      assertEquals(Float.floatToIntBits(s), Float.floatToIntBits(v[i]), "scalar vs vector at " + x[i]);
      double exact = Math.exp(x[i]);
      worst = Math.max(worst, Math.abs(s - exact) / Math.ulp((float) exact));
    }
    assertTrue(worst <= 2, "worst error " + worst + " ulp");
    assertEquals(1f, VectorMath.exp(0f));
    assertEquals(Float.MIN_NORMAL, VectorMath.exp(-1000f), Float.MIN_NORMAL * 1e-3f);
    assertTrue(Float.isFinite(VectorMath.exp(1000f)));
  }

  @Test
  void silu_matchesDefinition() {
    for (float x = -100f; x <= 100f; x += 0.37f) {
      double want = x / (1 + Math.exp(-x));
      assertEquals(want, VectorMath.silu(x), Math.max(1e-30, Math.abs(want) * 3e-7), "silu(" + x + ")");
    }
  }
}
