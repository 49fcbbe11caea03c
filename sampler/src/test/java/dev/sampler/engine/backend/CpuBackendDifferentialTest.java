package dev.sampler.engine.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Differential tests: every primitive of the {@code "cpu"} backend against the {@code
 * "reference"} backend (naive loops in double) on fresh seeded random inputs, over geometries
 * that exercise the kernels' edges (tails of tiles and panels, 1x1 / 3x3 / strided / upsampled /
 * asymmetric-padded convolutions, odd sequence lengths). Tolerance: relative L2 error 1e-5.
 */
class CpuBackendDifferentialTest {
  private static final double TOL = 1e-5;
  private static TensorBackend cpu;
  private static TensorBackend ref;
  private final SplittableRandom rnd = new SplittableRandom(20240611);
  private final List<String> failures = new ArrayList<>();

  @BeforeAll
  static void open() throws Exception {
    cpu = Backends.create("cpu", BackendOptions.threads(2));
    ref = Backends.create("reference", BackendOptions.threads(1));
  }

  @AfterAll
  static void close() {
    cpu.close();
    ref.close();
  }

  private float[] random(int n) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) (rnd.nextDouble() * 2 - 1);
    }
    return a;
  }

  /** The same random data uploaded to both backends. */
  private record Pair(Tensor c, Tensor r, float[] host) {}

  private Pair pair(int... shape) {
    float[] d = random((int) Tensor.sizeOf(shape));
    return new Pair(cpu.upload(d, shape), ref.upload(d, shape), d);
  }

  private Pair zeros(int... shape) {
    return new Pair(cpu.allocate(shape), ref.allocate(shape), null);
  }

  private void compare(String what, Pair out) {
    float[] a = new float[(int) out.c.size()], b = new float[(int) out.r.size()];
    cpu.download(out.c, a);
    ref.download(out.r, b);
    double num = 0, den = 0;
    for (int i = 0; i < a.length; i++) {
      num += (a[i] - b[i]) * (double) (a[i] - b[i]);
      den += (double) b[i] * b[i];
    }
    double rel = Math.sqrt(num / Math.max(den, 1e-30));
    if (!(rel <= TOL)) {
      failures.add(what + ": relative L2 error " + rel);
    }
  }

  private void conv(int n, int cin, int h, int w, int cout, int k, Conv2dSpec s, boolean bias, boolean sampleBias,
      boolean residual, float scale) {
    Pair x = pair(n, cin, h, w), wt = pair(cout, cin, k, k);
    Pair b = bias ? pair(cout) : null;
    int ho = s.outExtent(h, k), wo = s.outExtent(w, k);
    Pair sb = sampleBias ? pair(n, cout) : null, res = residual ? pair(n, cout, ho, wo) : null;
    Pair out = zeros(n, cout, ho, wo);
    cpu.conv2d(x.c, wt.c, b == null ? null : b.c, s,
        new Epilogue(sb == null ? null : sb.c, res == null ? null : res.c, scale), out.c);
    ref.conv2d(x.r, wt.r, b == null ? null : b.r, s,
        new Epilogue(sb == null ? null : sb.r, res == null ? null : res.r, scale), out.r);
    compare("conv2d n=" + n + " cin=" + cin + " " + h + "x" + w + " cout=" + cout + " k=" + k + " " + s
        + " bias=" + bias + " sampleBias=" + sampleBias + " residual=" + residual + " scale=" + scale, out);
  }

  @Test
  void conv2d_variousGeometries_matchesReference() {
    conv(1, 3, 32, 32, 32, 3, Conv2dSpec.same(1), true, false, false, 1f);
    conv(2, 32, 16, 16, 64, 3, Conv2dSpec.same(1), true, true, false, 1f);
    conv(2, 64, 8, 8, 64, 3, Conv2dSpec.same(1), true, false, true, 0.5f);
    conv(3, 13, 7, 5, 11, 3, Conv2dSpec.same(1), true, true, true, 1f);
    conv(2, 32, 16, 16, 64, 1, Conv2dSpec.same(0), true, false, false, 1f);
    conv(1, 96, 8, 8, 3, 1, Conv2dSpec.same(0), false, false, true, 1f);
    conv(2, 32, 16, 16, 32, 3, new Conv2dSpec(2, 1, 1, false), true, false, false, 1f);
    conv(2, 16, 9, 9, 8, 3, new Conv2dSpec(2, 0, 1, false), true, false, false, 1f);
    conv(2, 16, 8, 8, 16, 3, new Conv2dSpec(1, 1, 1, true), true, false, false, 1f);
    conv(1, 8, 5, 3, 7, 3, new Conv2dSpec(1, 0, 2, true), true, true, false, 1f);
    conv(1, 4, 6, 6, 5, 5, Conv2dSpec.same(2), true, false, false, 1f);
    conv(3, 16, 32, 32, 24, 3, Conv2dSpec.same(1), true, true, true, 0.7f);
    conv(1, 8, 16, 16, 12, 3, Conv2dSpec.same(1), true, true, true, 1f);
    conv(3, 12, 16, 16, 20, 1, Conv2dSpec.same(0), true, true, true, 2f);
    conv(2, 16, 16, 16, 8, 3, new Conv2dSpec(1, 1, 1, true), false, true, true, 1f);
    conv(2, 16, 4, 4, 16, 3, new Conv2dSpec(1, 1, 1, true), true, true, true, 1f);
    conv(3, 24, 8, 8, 40, 3, Conv2dSpec.same(1), true, true, true, 0.5f);
    conv(1, 8, 4, 12, 8, 3, Conv2dSpec.same(1), true, false, false, 1f);
    // reductions long enough to be split into chunks
    conv(1, 96, 32, 32, 16, 3, Conv2dSpec.same(1), true, true, true, 0.5f);
    conv(2, 200, 16, 16, 24, 1, Conv2dSpec.same(0), true, false, true, 2f);
    conv(1, 70, 16, 16, 13, 3, new Conv2dSpec(1, 1, 1, true), true, true, true, 1f);
    assertTrue(failures.isEmpty(), String.join("\n", failures));
  }

  @Test
  void groupNorm_withAndWithoutSilu_matchesReference() {
    int[][] shapes = {{2, 64, 16, 16}, {1, 32, 32, 32}, {3, 12, 5, 7}, {1, 8, 1, 1}, {1, 16, 8, 8}};
    for (int[] s : shapes) {
      for (boolean silu : new boolean[] {false, true}) {
        int groups = s[1] >= 8 ? 4 : 1;
        Pair x = pair(s), g = pair(s[1]), b = pair(s[1]), out = zeros(s);
        if (s[1] == 16) {
          // a mean large against the spread (17 standard deviations): the variance must not cancel
          for (int i = 0; i < x.host.length; i++) {
            x.host[i] = 10f + x.host[i];
          }
          x = new Pair(cpu.upload(x.host, s), ref.upload(x.host, s), x.host);
        }
        cpu.groupNorm(x.c, g.c, b.c, groups, 1e-5f, silu, out.c);
        ref.groupNorm(x.r, g.r, b.r, groups, 1e-5f, silu, out.r);
        compare("groupNorm " + java.util.Arrays.toString(s) + " silu=" + silu, out);
        cpu.groupNorm(x.c, g.c, b.c, groups, 1e-5f, silu, x.c);
        ref.groupNorm(x.r, g.r, b.r, groups, 1e-5f, silu, x.r);
        compare("groupNorm in place " + java.util.Arrays.toString(s) + " silu=" + silu, x);
      }
    }
    assertTrue(failures.isEmpty(), String.join("\n", failures));
  }

  @Test
  void attention_variousSequenceLengths_matchesReference() {
    int[][] cases = {{1, 2, 32, 16, 16}, {2, 2, 32, 8, 8}, {1, 1, 64, 7, 9}, {2, 3, 5, 3, 11}, {1, 1, 8, 32, 32}};
    for (int[] c : cases) {
      int n = c[0], heads = c[1], hd = c[2], h = c[3], w = c[4];
      Pair qkv = pair(n, 3 * heads * hd, h, w), out = zeros(n, heads * hd, h, w);
      float scale = (float) (1 / Math.sqrt(hd));
      cpu.attention(qkv.c, heads, hd, scale, out.c);
      ref.attention(qkv.r, heads, hd, scale, out.r);
      compare("attention n=" + n + " heads=" + heads + " headDim=" + hd + " " + h + "x" + w, out);
    }
    assertTrue(failures.isEmpty(), String.join("\n", failures));
  }

  @Test
  void elementwiseAndDense_matchReference() {
    Pair x = pair(3, 130), w = pair(70, 130), b = pair(70), out = zeros(3, 70);
    cpu.linear(x.c, w.c, b.c, out.c);
    ref.linear(x.r, w.r, b.r, out.r);
    compare("linear", out);
    Pair s = pair(2, 5, 7, 9), so = zeros(2, 5, 7, 9);
    cpu.silu(s.c, so.c);
    ref.silu(s.r, so.r);
    compare("silu", so);
    Pair a = pair(4, 33), a2 = pair(4, 33), ao = zeros(4, 33);
    cpu.add(a.c, a2.c, ao.c);
    ref.add(a.r, a2.r, ao.r);
    compare("add", ao);
    Pair c1 = pair(2, 3, 4, 4), c2 = pair(2, 5, 4, 4), co = zeros(2, 8, 4, 4);
    cpu.concatChannels(c1.c, c2.c, co.c);
    ref.concatChannels(c1.r, c2.r, co.r);
    compare("concat", co);
    Pair table = pair(10, 12), eo = zeros(3, 12);
    cpu.embedding(table.c, new int[] {9, 0, 4}, eo.c);
    ref.embedding(table.r, new int[] {9, 0, 4}, eo.r);
    compare("embedding", eo);
    assertTrue(failures.isEmpty(), String.join("\n", failures));
  }

  @Test
  void create_unknownName_failsNamingAvailableBackends() {
    var e = org.junit.jupiter.api.Assertions.assertThrows(dev.sampler.engine.BackendException.class,
        () -> Backends.create("tpu", BackendOptions.threads(1)));
    assertEquals("unknown tensor backend \"tpu\" (available: cpu, reference)", e.getMessage());
  }

  @Test
  void create_unknownProperty_fails() {
    var e = org.junit.jupiter.api.Assertions.assertThrows(dev.sampler.engine.BackendException.class,
        () -> Backends.create("cpu", BackendOptions.threads(1).with("colour", "blue")));
    assertEquals("cpu backend: unknown properties [colour] (known: [conv, conv.onednn.min-mflop, profile])",
        e.getMessage());
  }
}
