package dev.sampler.engine.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class GuidanceTest {

  @Test
  void combine_noRescale_isUncondPlusScaledDifference() {
    float[] cond = {1f, 2f, 3f, 4f};
    float[] uncond = {0f, 1f, 1f, 0f};
    double[] out = new double[4];
    Guidance.combine(cond, uncond, 2, 2, 3.0, 0.0, out);
    assertArrayEquals(new double[] {3, 4, 7, 12}, out, 0);
  }

  @Test
  void combine_scaleOne_isConditional() {
    float[] cond = {0.25f, -2f, 3f};
    float[] uncond = {9f, 9f, 9f};
    double[] out = new double[3];
    Guidance.combine(cond, uncond, 1, 3, 1.0, 0.0, out);
    assertArrayEquals(new double[] {0.25, -2, 3}, out, 0);
  }

  @Test
  void combine_fullRescale_matchesConditionalStdPerImage() {
    // diffusers rescale_noise_cfg: guided output scaled to the conditional std (torch.std, Bessel-corrected).
    float[] cond = {1f, -1f, 2f, -2f, 0.5f, 0.1f, -0.3f, 0.9f};
    float[] uncond = {0.5f, 0f, 1f, -1f, 0f, 0f, 0f, 0f};
    double[] out = new double[8];
    Guidance.combine(cond, uncond, 2, 4, 5.0, 1.0, out);
    for (int k = 0; k < 2; k++) {
      assertEquals(Guidance.std(cond, 4 * k, 4), Guidance.std(out, 4 * k, 4), 1e-12);
    }
    double[] half = new double[8];
    Guidance.combine(cond, uncond, 2, 4, 5.0, 0.5, half);
    double[] plain = new double[8];
    Guidance.combine(cond, uncond, 2, 4, 5.0, 0.0, plain);
    for (int i = 0; i < 8; i++) {
      assertEquals(0.5 * out[i] + 0.5 * plain[i], half[i], 1e-12);
    }
  }
}
