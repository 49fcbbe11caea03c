package dev.sampler.rng;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import com.sun.management.HotSpotDiagnosticMXBean;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/**
 * The v2 conversion: the vector code against its scalar twin ({@link NormalTransformReference}),
 * bit for bit, and both against the exact transform (StrictMath in double).
 *
 * <p>The build runs this class three times: as is (the machine's preferred vector width: 512 bits
 * on AVX-512), under {@code -XX:UseAVX=2} (256 bits) and under {@code -Xint} (the interpreter:
 * every Vector API operation through its Java fallback). Where the JVM interprets or has no
 * hardware FMA (so {@code Math.fma} is BigDecimal arithmetic), the counts shrink to keep the run
 * short; the comparisons are the same.
 */
class NormalTransformTest {

    /** True where every vector operation and Math.fma go through slow Java code. */
    private static final boolean SLOW = System.getProperty("java.vm.info", "").contains("interpreted")
            || !"true".equals(ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
                    .getVMOption("UseFMA").getValue());
    /** Pairs checked bit for bit on the preferred width: 2^21 pairs = 4.2 M normals. */
    private static final int BLOCKS = SLOW ? 1 << 9 : 1 << 17;

    private static byte[] randomBytes(long seed, int n) {
        byte[] b = new byte[n];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    private static List<String> compareWithReference(byte[] src, float[] actual, int blocks) {
        float[] expected = new float[blocks * NormalTransform.BLOCK_FLOATS];
        for (int b = 0; b < blocks; b++) {
            NormalTransformReference.block(src, b * NormalTransform.BLOCK_BYTES, expected, b * NormalTransform.BLOCK_FLOATS);
        }
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < expected.length && failures.size() < 20; i++) {
            if (Float.floatToRawIntBits(actual[i]) != Float.floatToRawIntBits(expected[i])) {
                failures.add("float " + i + ": vector " + Float.toHexString(actual[i]) + ", scalar "
                        + Float.toHexString(expected[i]));
            }
        }
        return failures;
    }

    @Test
    void convert_preferredWidth_bitIdenticalToScalarReference() {
        byte[] src = randomBytes(11, BLOCKS * NormalTransform.BLOCK_BYTES);
        float[] out = new float[BLOCKS * NormalTransform.BLOCK_FLOATS];
        float[] radii = new float[NormalTransform.PAIRS * NormalTransform.CHUNK_BLOCKS];
        // Twice: the first pass runs mostly in the interpreter and C1, the second in C2.
        for (int pass = 0; pass < 2; pass++) {
            NormalTransform.convert(src, 0, out, 0, BLOCKS, radii);
            List<String> failures = compareWithReference(src, out, BLOCKS);
            assertTrue(failures.isEmpty(), NormalTransform.INTS + " pass " + pass + ": " + failures);
        }
    }

    @Test
    void convert_edgeInputs_bitIdenticalToScalarReference() {
        // Words at the ends of every field: N = 0 (u1 = 2^-40), N = 2^40 - 1 (u1 = 1), the log's
        // reduction boundary, quadrant boundaries and the extremes of the reduced angle.
        int[] words = {0, 1, 0xFF, 0x100, 0xFFFFFF, 0x1000000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFF00,
            0xB504F300, 0xB504F400, 0x3FFFFF00, 0x40000000, 0x401FFF00, 0x40200000, 0x20000000, 0x1FFFFF00,
            0xC0000000, 0xE0000000, 0x60000000, 0xA0000000, 0x5A827900, 0x00200000, 0x001FFF00};
        int blocks = words.length * words.length / NormalTransform.PAIRS + 1;
        byte[] src = new byte[blocks * NormalTransform.BLOCK_BYTES];
        int pair = 0;
        for (int a : words) {
            for (int c : words) {
                int b = pair / NormalTransform.PAIRS;
                int j = pair % NormalTransform.PAIRS;
                putLe(src, b * NormalTransform.BLOCK_BYTES + 4 * j, a);
                putLe(src, b * NormalTransform.BLOCK_BYTES + 64 + 4 * j, c);
                pair++;
            }
        }
        float[] out = new float[blocks * NormalTransform.BLOCK_FLOATS];
        NormalTransform.convert(src, 0, out, 0, blocks, new float[16 * NormalTransform.CHUNK_BLOCKS]);
        List<String> failures = compareWithReference(src, out, blocks);
        assertTrue(failures.isEmpty(), failures.toString());
    }

    @Test
    void convertWith_everyVectorWidth_bitIdenticalToScalarReference() {
        // In one JVM the species is not a compile-time constant, so these run the Vector API's
        // Java fallback; the preferred-width test and the build's -XX:UseAVX=2 rerun cover the
        // intrinsified paths.
        int blocks = SLOW ? 32 : 1 << 11;
        byte[] src = randomBytes(12, blocks * NormalTransform.BLOCK_BYTES);
        List<String> failures = new ArrayList<>();
        for (VectorSpecies<Integer> s : List.of(IntVector.SPECIES_64, IntVector.SPECIES_128, IntVector.SPECIES_256,
                IntVector.SPECIES_512)) {
            float[] out = new float[blocks * NormalTransform.BLOCK_FLOATS];
            NormalTransform.convertWith(s, src, 0, out, 0, blocks);
            compareWithReference(src, out, blocks).forEach(f -> failures.add(s + ": " + f));
        }
        assertTrue(failures.isEmpty(), failures.toString());
    }

    /** Error of a float result in float32 ulps of the exact value. */
    private static double ulps(float actual, double exact) {
        double ulp = Math.ulp((float) exact);
        return Math.abs(actual - exact) / ulp;
    }

    private static double exactCos(int c) {
        double f = NormalTransformReference.fraction(c);
        double cos = StrictMath.cos(Math.PI / 2 * f);
        double sin = StrictMath.sin(Math.PI / 2 * f);
        return switch (NormalTransformReference.quadrant(c) & 3) {
            case 0 -> cos;
            case 1 -> -sin;
            case 2 -> -cos;
            default -> sin;
        };
    }

    private static double exactSin(int c) {
        double f = NormalTransformReference.fraction(c);
        double cos = StrictMath.cos(Math.PI / 2 * f);
        double sin = StrictMath.sin(Math.PI / 2 * f);
        return switch (NormalTransformReference.quadrant(c) & 3) {
            case 0 -> sin;
            case 1 -> cos;
            case 2 -> -sin;
            default -> -cos;
        };
    }

    @Test
    void reference_randomPairs_within4UlpsOfExactBoxMuller() {
        int n = SLOW ? 1 << 12 : 1 << 22;
        SplittableRandom rnd = new SplittableRandom(13);
        double worst = 0;
        String worstAt = "";
        for (int i = 0; i < n; i++) {
            int a = rnd.nextInt();
            // A quarter of the pairs with a = 0 or small, so the far tail (u1 < 2^-16) is covered.
            if ((i & 3) == 0) {
                a >>>= rnd.nextInt(32);
            }
            int c = rnd.nextInt();
            float u1 = NormalTransformReference.u1(a, c);
            double r = Math.sqrt(-2 * StrictMath.log(u1));
            float rf = NormalTransformReference.radius(a, c);
            double e0 = ulps(rf * NormalTransformReference.cosOf(c), r * exactCos(c));
            double e1 = ulps(rf * NormalTransformReference.sinOf(c), r * exactSin(c));
            if (Math.max(e0, e1) > worst) {
                worst = Math.max(e0, e1);
                worstAt = String.format("a=%08x c=%08x", a, c);
            }
        }
        assertTrue(worst <= 4, "worst error " + worst + " ulps at " + worstAt);
    }

    @Test
    void reference_logAndRadius_withinOneUlpOverTheWholeRange() {
        // Every u1 of the exact region N + 1 < 2^24 (u1 < 2^-16) in steps, plus random ones above.
        int step = SLOW ? 1 << 14 : 1 << 4;
        double worstLog = 0;
        double worstRadius = 0;
        for (int m = 1; m < 1 << 24; m += step) {
            float u1 = m * 0x1p-40f;
            worstLog = Math.max(worstLog, ulps(NormalTransformReference.log(u1), StrictMath.log(u1)));
            worstRadius = Math.max(worstRadius,
                    ulps((float) Math.sqrt(NormalTransformReference.log(u1) * -2f), Math.sqrt(-2 * StrictMath.log(u1))));
        }
        SplittableRandom rnd = new SplittableRandom(14);
        for (int i = 0; i < (SLOW ? 1 << 10 : 1 << 22); i++) {
            float u1 = NormalTransformReference.u1(rnd.nextInt(), rnd.nextInt());
            if (u1 == 1f) {
                continue;
            }
            worstLog = Math.max(worstLog, ulps(NormalTransformReference.log(u1), StrictMath.log(u1)));
            worstRadius = Math.max(worstRadius,
                    ulps((float) Math.sqrt(NormalTransformReference.log(u1) * -2f), Math.sqrt(-2 * StrictMath.log(u1))));
        }
        assertTrue(worstLog <= 1, "log: worst " + worstLog + " ulps");
        assertTrue(worstRadius <= 1, "radius: worst " + worstRadius + " ulps");
    }

    @Test
    void reference_everyAngle_sinCosWithinOneUlpAndAtMostOne() {
        List<String> failures = new ArrayList<>();
        double worst = 0;
        int step = SLOW ? 4099 : 1;
        for (int g = 0; g < 1 << 24; g += step) {
            int c = g << 8;
            float cos = NormalTransformReference.cosOf(c);
            float sin = NormalTransformReference.sinOf(c);
            worst = Math.max(worst, Math.max(ulps(cos, exactCos(c)), ulps(sin, exactSin(c))));
            if (Math.abs(cos) > 1f || Math.abs(sin) > 1f) {
                failures.add("g=" + g + ": |cos| or |sin| > 1");
            }
        }
        // The quarter turns are exact.
        for (int q = 0; q < 4; q++) {
            int c = q << 30;
            float[] expected = {1, 0, -1, 0};
            if (NormalTransformReference.cosOf(c) != expected[q] || NormalTransformReference.sinOf(c) != expected[(q + 3) % 4]) {
                failures.add("quarter turn " + q + " not exact");
            }
        }
        assertTrue(worst <= 1, "worst sin/cos error " + worst + " ulps");
        assertTrue(failures.isEmpty(), failures.toString());
    }

    @Test
    void reference_smallestUniform_givesMaxAbsAndNothingExceedsIt() {
        assertEquals(0x1p-40f, NormalTransformReference.u1(0, 0));
        assertEquals(1f, NormalTransformReference.u1(-1, -1));
        assertEquals(NoiseStream.MAX_ABS, NormalTransformReference.radius(0, 0));
        assertEquals(NoiseStream.MAX_ABS, NormalTransformReference.radius(0, 0) * NormalTransformReference.cosOf(0));
        assertEquals((float) Math.sqrt(80 * Math.log(2)), NoiseStream.MAX_ABS, 2 * Math.ulp(NoiseStream.MAX_ABS));
        // No radius exceeds it: every u1 of the exact region (u1 < 2^-16) is checked; above it
        // r < sqrt(32 ln 2) + 1 ulp = 4.71. With |cos|, |sin| <= 1 (every angle, above), no |z| does.
        int step = SLOW ? 1 << 14 : 1;
        for (int m = 1; m < 1 << 24; m += step) {
            float r = (float) Math.sqrt(NormalTransformReference.log(m * 0x1p-40f) * -2f);
            assertTrue(r <= NoiseStream.MAX_ABS, "radius " + r + " at u1 = " + m + " * 2^-40");
        }
        assertTrue((float) Math.sqrt(NormalTransformReference.log(0x1p-16f) * -2f) < 4.72f);
    }

    /** The coefficients documented in rng/README.md are the ones the code uses. */
    @Test
    void readme_coefficientTable_matchesCode() throws IOException, ReflectiveOperationException {
        String readme = Files.readString(Path.of("README.md"));
        Matcher m = Pattern.compile("\\|\\s*`(L[0-8]|LN2_HI|LN2_LO|S0_HI|S0_LO|S[1-3]|C[0-3])`\\s*\\|\\s*`([-0-9a-fx.p+]+)`")
                .matcher(readme);
        List<String> failures = new ArrayList<>();
        int found = 0;
        while (m.find()) {
            found++;
            float documented = Float.parseFloat(m.group(2));
            float code = NormalTransform.class.getDeclaredField(m.group(1)).getFloat(null);
            if (Float.floatToRawIntBits(documented) != Float.floatToRawIntBits(code)) {
                failures.add(m.group(1) + ": README " + m.group(2) + ", code " + Float.toHexString(code));
            }
        }
        assertEquals(20, found, "coefficients found in README.md");
        assertTrue(failures.isEmpty(), failures.toString());
    }

    private static void putLe(byte[] b, int off, int x) {
        b[off] = (byte) x;
        b[off + 1] = (byte) (x >>> 8);
        b[off + 2] = (byte) (x >>> 16);
        b[off + 3] = (byte) (x >>> 24);
    }
}
