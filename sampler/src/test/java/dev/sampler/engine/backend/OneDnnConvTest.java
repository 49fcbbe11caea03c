package dev.sampler.engine.backend;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The cpu backend's optional oneDNN convolution engine ({@code conv=onednn}, ND4J's
 * linux-x86_64-onednn build) against the reference backend: it loads on this JDK, really uses
 * oneDNN (the engine refuses to start otherwise) and computes the same convolutions, epilogue
 * included. Relative L2 error at most 1e-5.
 */
class OneDnnConvTest {
  @Test
  void conv2d_onednnEngine_matchesReference() throws Exception {
    SplittableRandom rnd = new SplittableRandom(7);
    List<String> failures = new ArrayList<>();
    try (TensorBackend cpu = Backends.create("cpu", BackendOptions.threads(2).with("conv", "onednn"));
        TensorBackend ref = Backends.create("reference", BackendOptions.threads(1))) {
      int[][] cases = {{2, 32, 16, 16, 64, 3}, {1, 64, 8, 8, 64, 3}, {2, 16, 16, 16, 32, 1}};
      for (int[] c : cases) {
        int n = c[0], cin = c[1], h = c[2], w = c[3], cout = c[4], k = c[5];
        float[] x = new float[n * cin * h * w], wt = new float[cout * cin * k * k], b = new float[cout];
        float[] sb = new float[n * cout], res = new float[n * cout * h * w];
        for (float[] a : new float[][] {x, wt, b, sb, res}) {
          for (int i = 0; i < a.length; i++) {
            a[i] = (float) (rnd.nextDouble() * 2 - 1);
          }
        }
        Conv2dSpec spec = Conv2dSpec.same(k / 2);
        float[][] outs = new float[2][];
        TensorBackend[] bs = {cpu, ref};
        for (int i = 0; i < 2; i++) {
          TensorBackend be = bs[i];
          Tensor out = be.allocate(n, cout, h, w);
          be.conv2d(be.upload(x, n, cin, h, w), be.upload(wt, cout, cin, k, k), be.upload(b, cout), spec,
              new Epilogue(be.upload(sb, n, cout), be.upload(res, n, cout, h, w), 0.5f), out);
          outs[i] = new float[(int) out.size()];
          be.download(out, outs[i]);
        }
        double num = 0, den = 0;
        for (int i = 0; i < outs[0].length; i++) {
          num += Math.pow(outs[0][i] - outs[1][i], 2);
          den += Math.pow(outs[1][i], 2);
        }
        double rel = Math.sqrt(num / den);
        if (!(rel <= 1e-5)) {
          failures.add(java.util.Arrays.toString(c) + ": relative L2 error " + rel);
        }
      }
      assertTrue(cpu.description().contains("oneDNN"), cpu.description());
    }
    assertTrue(failures.isEmpty(), String.join("\n", failures));
  }
}
