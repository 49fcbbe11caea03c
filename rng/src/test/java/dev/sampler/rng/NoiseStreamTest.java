package dev.sampler.rng;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/**
 * Statistical checks use fixed seeds (replay streams), so they are deterministic: each bound is
 * stated with the probability that a correct N(0,1) generator would miss it.
 */
class NoiseStreamTest {

    private static final int N = 1_000_000;
    private static final NoiseStream.Personalization ALICE_1 = new NoiseStream.Personalization("tenant-a", "req-1");
    private static final NoiseStream.Personalization ALICE_2 = new NoiseStream.Personalization("tenant-a", "req-2");

    private static SecretSeed seed(int tag) {
        byte[] b = new byte[32];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (tag * 31 + i);
        }
        return SecretSeed.copyOf(b, InsecureSeedAccess.get());
    }

    private static float[] draw(SecretSeed seed, NoiseStream.Personalization p, int n) throws RngException {
        float[] out = new float[n];
        try (NoiseStream s = NoiseStream.replay(seed, p)) {
            s.fill(out);
        }
        return out;
    }

    /** erfc with fractional error below 1.2e-7 (Numerical Recipes' Chebyshev fit, "erfcc"). */
    static double erfc(double z) {
        double x = Math.abs(z);
        double t = 1.0 / (1.0 + 0.5 * x);
        double ans = t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277)))))))));
        return z >= 0 ? ans : 2.0 - ans;
    }

    static double normalCdf(double x) {
        return 0.5 * erfc(-x / Math.sqrt(2.0));
    }

    /** 1 - Phi(x), computed directly so that it keeps its relative accuracy in the upper tail. */
    static double normalUpper(double x) {
        return 0.5 * erfc(x / Math.sqrt(2.0));
    }

    @Test
    void fill_millionDraws_meanVarianceKsAndTailMatchStandardNormal() throws Exception {
        float[] x;
        try (SecretSeed s = seed(1)) {
            x = draw(s, ALICE_1, N);
        }
        double sum = 0;
        for (float v : x) {
            sum += v;
        }
        double mean = sum / N;
        double ss = 0;
        long tail = 0;
        for (float v : x) {
            ss += (v - mean) * (v - mean);
            if (Math.abs(v) > 4.0) {
                tail++;
            }
        }
        double variance = ss / (N - 1);
        // Mean: standard error 1/sqrt(N) = 0.001; bound 5 SE (two-sided miss probability 5.7e-7).
        assertTrue(Math.abs(mean) < 5.0 / Math.sqrt(N), "mean " + mean);
        // Variance: standard error sqrt(2/N) = 0.00141; bound 5 SE.
        assertTrue(Math.abs(variance - 1.0) < 5.0 * Math.sqrt(2.0 / N), "variance " + variance);

        // Kolmogorov-Smirnov against N(0,1): critical value at alpha = 0.001 is
        // sqrt(-ln(alpha/2)/2)/sqrt(N) = 1.9495/sqrt(N) = 0.0019495.
        double[] sorted = new double[N];
        for (int i = 0; i < N; i++) {
            sorted[i] = x[i];
        }
        Arrays.sort(sorted);
        double d = 0;
        for (int i = 0; i < N; i++) {
            double f = normalCdf(sorted[i]);
            d = Math.max(d, Math.max((i + 1.0) / N - f, f - (double) i / N));
        }
        assertTrue(d < 1.9495 / Math.sqrt(N), "KS statistic D = " + d);

        // Anderson-Darling against N(0,1) (fully specified): A^2 = -N - (1/N) sum (2i - 1)
        // (ln F(x_i) + ln(1 - F(x_(N+1-i)))); it weights the tails, where KS is weak. Asymptotic
        // critical value at alpha = 0.001: 5.973 (Marsaglia & Marsaglia 2004, Table 1).
        double s = 0;
        for (int i = 0; i < N; i++) {
            s += (2.0 * i + 1) * (Math.log(normalCdf(sorted[i])) + Math.log(normalUpper(sorted[N - 1 - i])));
        }
        double a2 = -N - s / N;
        assertTrue(a2 < 5.973, "Anderson-Darling A^2 = " + a2);

        // |x| > 4: p = erfc(4/sqrt 2) = 6.334e-5, expected count N p = 63.3, binomial SD
        // sqrt(N p (1-p)) = 7.96; accept within 5 SD, i.e. [24, 103].
        double p = erfc(4.0 / Math.sqrt(2.0));
        assertEquals(6.334248e-5, p, 1e-10);
        double expected = N * p;
        double sd = Math.sqrt(N * p * (1 - p));
        assertTrue(Math.abs(tail - expected) <= 5 * sd, "count(|x| > 4) = " + tail + ", expected " + expected);
    }

    @Test
    void fill_twoConcurrentStreams_uncorrelated() throws Exception {
        // Two streams open at once and filled alternately in odd-sized pieces, as two requests
        // of one batch would be.
        float[] a = new float[N];
        float[] b = new float[N];
        try (SecretSeed s = seed(2); NoiseStream sa = NoiseStream.replay(s, ALICE_1);
                NoiseStream sb = NoiseStream.replay(s, ALICE_2)) {
            for (int off = 0; off < N; off += 777) {
                int len = Math.min(777, N - off);
                sa.fill(a, off, len);
                sb.fill(b, off, len);
            }
        }
        // Under independence r has standard error 1/sqrt(N) = 0.001; bound 5 SE.
        double r = pearson(a, 0, b, 0, N);
        assertTrue(Math.abs(r) < 5.0 / Math.sqrt(N), "Pearson r = " + r);
    }

    @Test
    void fill_neighboursAndBoxMullerPartners_uncorrelated() throws Exception {
        float[] x;
        try (SecretSeed s = seed(9)) {
            x = draw(s, ALICE_1, N + 32);
        }
        // Lag 1 (neighbours in a block), lag 16 (a pair's z0 and z1: r cos t and r sin t are
        // independent for Box-Muller) and lag 32 (the same pair slot in the next block). Each r
        // has standard error 1/sqrt(N); bound 5 SE.
        for (int lag : new int[] {1, 16, 32}) {
            double r = pearson(x, 0, x, lag, N);
            assertTrue(Math.abs(r) < 5.0 / Math.sqrt(N), "lag " + lag + ": Pearson r = " + r);
        }
        // Squares too: a dependence through the shared radius would show here first.
        float[] sq = new float[N + 32];
        for (int i = 0; i < sq.length; i++) {
            sq[i] = x[i] * x[i];
        }
        double r = pearson(sq, 0, sq, 16, N);
        assertTrue(Math.abs(r) < 5.0 / Math.sqrt(N), "lag 16 of squares: Pearson r = " + r);
    }

    private static double pearson(float[] a, int offA, float[] b, int offB, int n) {
        double ma = 0;
        double mb = 0;
        for (int i = 0; i < n; i++) {
            ma += a[offA + i];
            mb += b[offB + i];
        }
        ma /= n;
        mb /= n;
        double sab = 0;
        double saa = 0;
        double sbb = 0;
        for (int i = 0; i < n; i++) {
            double da = a[offA + i] - ma;
            double db = b[offB + i] - mb;
            sab += da * db;
            saa += da * da;
            sbb += db * db;
        }
        return sab / Math.sqrt(saa * sbb);
    }

    @Test
    void replay_sameSeedAndPersonalization_identicalFloats_otherRequestIdDiffers() throws Exception {
        try (SecretSeed s = seed(3); SecretSeed same = seed(3)) {
            float[] a = draw(s, ALICE_1, 100_000);
            assertArrayEquals(a, draw(same, ALICE_1, 100_000));
            assertFalse(Arrays.equals(a, draw(s, ALICE_2, 100_000)));
            assertFalse(Arrays.equals(a, draw(s, new NoiseStream.Personalization("tenant-b", "req-1"), 100_000)));
        }
        try (SecretSeed s = seed(3); SecretSeed other = seed(4)) {
            assertFalse(Arrays.equals(draw(s, ALICE_1, 1000), draw(other, ALICE_1, 1000)));
        }
    }

    @Test
    void fill_oddChunkSizes_sameSequenceAsOneCall() throws Exception {
        try (SecretSeed s = seed(5)) {
            float[] whole = draw(s, ALICE_1, 100_001);
            float[] pieces = new float[100_001];
            try (NoiseStream ns = NoiseStream.replay(s, ALICE_1)) {
                int off = 0;
                // Within a block, block-aligned, across blocks, and across the 16384-float
                // (65536-byte) DRBG requests.
                int[] sizes = {1, 3, 0, 31, 32, 33, 8191, 8192, 2, 17, 5000, 16384, 16385};
                int k = 0;
                while (off < pieces.length) {
                    int len = Math.min(sizes[k++ % sizes.length], pieces.length - off);
                    ns.fill(pieces, off, len);
                    off += len;
                }
            }
            assertArrayEquals(whole, pieces);
        }
    }

    /**
     * Re-derives the stream from the (CAVP- and BouncyCastle-checked) DRBG and the scalar twin of
     * the conversion ({@link NormalTransformReference}), with the documented v2 domain strings.
     */
    @Test
    void fill_matchesDocumentedConversionOverCtrDrbg() throws Exception {
        int n = 40_000; // spans more than two 64 KiB DRBG requests (16384 floats each)
        try (SecretSeed s = seed(6)) {
            float[] actual = draw(s, ALICE_1, n);
            byte[] ps = ALICE_1.encode();
            assertArrayEquals(concat("dev.sampler.rng.NoiseStream/v2\0".getBytes(StandardCharsets.US_ASCII),
                    new byte[] {0, 0, 0, 8, 't', 'e', 'n', 'a', 'n', 't', '-', 'a', 0, 0, 0, 5, 'r', 'e', 'q', '-', '1'}), ps);
            byte[] nonce = Arrays.copyOf(java.security.MessageDigest.getInstance("SHA-256").digest(
                    concat("dev.sampler.rng.NoiseStream/replay-nonce/v2\0".getBytes(StandardCharsets.US_ASCII), ps)), 16);
            float[] expected = new float[n + 32];
            try (CtrDrbg d = CtrDrbg.instantiate(CtrDrbg.Config.of(CtrDrbg.DerivationFunction.USE_DF),
                    s.toByteArray(InsecureSeedAccess.get()), nonce, ps)) {
                byte[] request = new byte[0];
                int at = 0;
                for (int i = 0; i < n; i += 32) {
                    if (at == request.length) {
                        request = d.generate(65536, null);
                        at = 0;
                    }
                    NormalTransformReference.block(request, at, expected, i);
                    at += 128;
                }
            }
            assertArrayEquals(Arrays.copyOf(expected, n), actual);
        }
    }

    /**
     * Pins floats 0-3 (z0 of the first four pairs), 16-19 (their z1) and 16384-16385 (the first
     * of the second DRBG request) for one fixed seed, so that a change to the definition is
     * noticed. Cross-checked with {@code tools/noise_stream_v2.py}, an independent Python
     * implementation of CTR_DRBG (AES from pyca/cryptography, Block_Cipher_df and Update written
     * from SP 800-90A) and of the documented v2 conversion in exact rational arithmetic:
     * {@code tools/noise_stream_v2.py --seed-tag 7 --tenant tenant-a --request req-1 --index 0 1 2 3
     * 16 17 18 19 16384 16385} prints the same ten values.
     */
    @Test
    void replay_fixedSeed_pinnedFloatsMatchIndependentImplementation() throws Exception {
        try (SecretSeed s = seed(7)) {
            float[] x = draw(s, ALICE_1, 16386);
            StringBuilder sb = new StringBuilder();
            for (int i : new int[] {0, 1, 2, 3, 16, 17, 18, 19, 16384, 16385}) {
                sb.append(HexFormat.of().toHexDigits(Float.floatToRawIntBits(x[i]))).append(' ');
            }
            assertEquals(PINNED, sb.toString().strip());
        }
    }

    static final String PINNED = "bf93e4e4 3f2246c5 bff6a436 3faba2bd 3df7b68e bf3eed11 be7345f7 bf7e101b bf4f2b57 3f2f3cc4";

    @Test
    void fromOsEntropy_twoStreamsDifferAndLookNormal() throws Exception {
        float[] a = new float[200_000];
        float[] b = new float[200_000];
        try (NoiseStream s1 = NoiseStream.fromOsEntropy(ALICE_1); NoiseStream s2 = NoiseStream.fromOsEntropy(ALICE_1)) {
            s1.fill(a);
            s2.fill(b);
        }
        assertFalse(Arrays.equals(a, b));
        double sum = 0;
        double sq = 0;
        for (float v : a) {
            sum += v;
            sq += (double) v * v;
        }
        int n = a.length;
        // 6 standard errors: a fresh random stream should essentially never miss these.
        assertTrue(Math.abs(sum / n) < 6.0 / Math.sqrt(n), "mean " + sum / n);
        assertTrue(Math.abs(sq / n - 1.0) < 6.0 * Math.sqrt(2.0 / n), "second moment " + sq / n);
    }

    @Test
    void personalization_emptyOrTooLong_isRejected() {
        assertEquals("tenant must have 1 to 256 UTF-8 bytes, got 0", assertThrows(IllegalArgumentException.class,
                () -> new NoiseStream.Personalization("", "r")).getMessage());
        assertThrows(IllegalArgumentException.class, () -> new NoiseStream.Personalization("t", "x".repeat(257)));
    }

    @Test
    void replay_closedSeed_isRejectedAndStreamCloseStopsIt() throws Exception {
        SecretSeed s = seed(8);
        NoiseStream ns = NoiseStream.replay(s, ALICE_1);
        s.close();
        float[] out = new float[10];
        ns.fill(out); // the stream holds no reference to the seed
        assertThrows(IllegalStateException.class, () -> NoiseStream.replay(s, ALICE_1));
        ns.close();
        assertThrows(IllegalStateException.class, () -> ns.fill(new float[20_000]));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
