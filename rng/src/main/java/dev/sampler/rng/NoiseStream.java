package dev.sampler.rng;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;

/**
 * Standard-normal float32 noise for one generation request, drawn from an AES-256
 * {@link CtrDrbg} with the derivation function. <b>Not thread-safe</b>: create one per request and
 * use it from one thread at a time.
 *
 * <p>Two ways to create one:
 * <ul>
 *   <li>{@link #fromOsEntropy}: entropy input (256 bits) and nonce (128 bits) from the OS
 *       ({@code NativePRNGNonBlocking}, i.e. /dev/urandom), personalization string from the
 *       {@link Personalization}. Not replayable.
 *   <li>{@link #replay}: entropy input = the {@link SecretSeed}'s bytes, security strength = the
 *       largest of 128/192/256 not above the seed's length, nonce = the first 16 bytes of
 *       SHA-256("dev.sampler.rng.NoiseStream/replay-nonce/v2" || 0x00 || personalization string).
 *       The same seed and personalization give the same floats on every JVM.
 * </ul>
 *
 * <p><b>The float sequence (conversion v2)</b> is defined exactly, so that a replay, or another
 * implementation, reproduces it bit for bit. Arithmetic is IEEE 754 binary32, round to nearest
 * even; {@code fma(x, y, z)} is x*y + z rounded once; {@code sqrt} is correctly rounded;
 * {@code (float) n} of an int is the nearest float (exact here: |n| &lt; 2^24); {@code >>} is an
 * arithmetic and {@code >>>} a logical shift of 32-bit ints; {@code bits}/{@code float} reinterpret.
 * <ol>
 *   <li>The DRBG is called repeatedly with requests of exactly {@value #DRBG_REQUEST_BYTES} bytes
 *       (2^19 bits) and no additional input; the byte stream is their concatenation.
 *   <li>The stream is cut into 128-byte blocks (512 per request); block b gives floats
 *       32b .. 32b + 31. Its bytes are 32 little-endian 32-bit words w[0..31]. For j = 0..15,
 *       pair j takes a = w[j], c = w[16 + j] and gives z0 = float 32b + j and
 *       z1 = float 32b + 16 + j.
 *   <li>Uniform for the radius (40 bits, N = a * 2^8 + (c &amp; 0xFF)):
 *       u1 = (float) (a &gt;&gt;&gt; 8) * 2^-24 + (float) ((((a &amp; 0xFF) &lt;&lt; 8) | (c &amp; 0xFF)) + 1) * 2^-40,
 *       which is (N + 1) * 2^-40 rounded once to float, in [2^-40, 1].
 *   <li>Logarithm: ix = bits(u1); k = (ix - 0x3f3504f3) &gt;&gt; 23; f = float(ix - (k &lt;&lt; 23)) - 1
 *       (exact, f in [-0.2929, 0.4143)); p = fma(f, L8, L7), then p = fma(p, f, Li) for
 *       i = 6, 5, ..., 0; y = fma(f * f, p, f); ln = fma((float) k, LN2_HI, fma((float) k, LN2_LO, y)).
 *   <li>Radius: r = sqrt(ln * -2).
 *   <li>Angle 2 pi g / 2^24 with g = c &gt;&gt;&gt; 8: q = (g + 2^21) &gt;&gt;&gt; 22 (0..4);
 *       f = (float) (g - (q &lt;&lt; 22)) * 2^-22 (exact, in [-1/2, 1/2)); w = f * f;
 *       S = fma(f, S0_HI, f * fma(fma(fma(w, S3, S2), w, S1), w, S0_LO)) (= sin(pi f / 2));
 *       C = fma(fma(fma(fma(w, C3, C2), w, C1), w, C0), w, 1) (= cos(pi f / 2));
 *       (cos, sin) = (C, S), (-S, C), (-C, -S), (S, -C) for q mod 4 = 0, 1, 2, 3 (negation flips
 *       the sign bit).
 *   <li>z0 = r * cos, z1 = r * sin.
 * </ol>
 * The coefficients, as hex floats (fitted by {@code tools/fit_noise_polys.py}):
 * <pre>
 * L0 = -0x1.fffff8p-2   L1 = 0x1.55555p-2    L2 = -0x1.000438p-2  L3 = 0x1.99a41cp-3
 * L4 = -0x1.5423e8p-3   L5 = 0x1.226c84p-3   L6 = -0x1.0f5208p-3  L7 = 0x1.0875p-3
 * L8 = -0x1.38138ep-4   LN2_HI = 0x1.62e43p-1  LN2_LO = -0x1.05c61p-29
 * S0_HI = 0x1.921fb6p+0  S0_LO = -0x1.777a5cp-25  S1 = -0x1.4abbbep-1  S2 = 0x1.465facp-4
 * S3 = -0x1.2db5cep-8   C0 = -0x1.3bd3ccp+0  C1 = 0x1.03c1bp-2   C2 = -0x1.55b2b6p-6
 * C3 = 0x1.d4f7eep-11
 * </pre>
 * This is Box-Muller with a 40-bit radius uniform and a 24-bit angle, 4 DRBG bytes per normal.
 * Every step is IEEE-exact, so the bits are the same in the interpreter, C1 and C2 and with any
 * vector width (the implementation uses the Vector API; no {@code VectorOperators.LOG/SIN/COS},
 * whose SVML results differ from their Java fallback). Each normal is within 4 float32 ulps
 * (2.59 observed) of sqrt(-2 ln u1) cos/sin(2 pi g / 2^24) evaluated exactly for the same u1 and
 * g ({@code NormalTransformTest} measures it). The largest reachable |z| is r at u1 = 2^-40,
 * {@value #MAX_ABS} (about sqrt(80 ln 2)); for N(0,1), P(|z| &gt; 6) = 2.0e-9 and
 * P(|z| &gt; 7.4466) = 9.6e-14. z may be -0.0. How the caller splits its {@link #fill} calls does
 * not change the sequence.
 *
 * <p>Needs the {@code jdk.incubator.vector} module ({@code --add-modules=jdk.incubator.vector});
 * without hardware FMA (x86 before Haswell) the Vector API computes the same bits, very slowly.
 */
public final class NoiseStream implements AutoCloseable {
    /** The size of every DRBG request the stream makes: max_number_of_bits_per_request. */
    public static final int DRBG_REQUEST_BYTES = CtrDrbg.MAX_BYTES_PER_REQUEST;

    /** The largest |z| the conversion can produce: r at u1 = 2^-40 (checked by the tests). */
    public static final float MAX_ABS = 7.4465947f;
    private static final byte[] NONCE_DOMAIN =
            "dev.sampler.rng.NoiseStream/replay-nonce/v2\0".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] PERSONALIZATION_DOMAIN =
            "dev.sampler.rng.NoiseStream/v2\0".getBytes(StandardCharsets.US_ASCII);

    /**
     * Who the noise is for; becomes the DRBG's personalization string, so two requests never share
     * a stream even under the same seed.
     *
     * @param tenant non-empty, at most 256 UTF-8 bytes
     * @param requestId non-empty, at most 256 UTF-8 bytes
     */
    public record Personalization(String tenant, String requestId) {
        /** Validates both fields. */
        public Personalization {
            check("tenant", tenant);
            check("requestId", requestId);
        }

        private static void check(String name, String value) {
            Objects.requireNonNull(value, name);
            int n = value.getBytes(StandardCharsets.UTF_8).length;
            if (n == 0 || n > 256) {
                throw new IllegalArgumentException(name + " must have 1 to 256 UTF-8 bytes, got " + n);
            }
        }

        /**
         * The personalization string: "dev.sampler.rng.NoiseStream/v2" || 0x00 || u32be(len(tenant))
         * || tenant || u32be(len(requestId)) || requestId, strings in UTF-8.
         */
        public byte[] encode() {
            byte[] t = tenant.getBytes(StandardCharsets.UTF_8);
            byte[] r = requestId.getBytes(StandardCharsets.UTF_8);
            byte[] out = new byte[PERSONALIZATION_DOMAIN.length + 4 + t.length + 4 + r.length];
            int off = 0;
            System.arraycopy(PERSONALIZATION_DOMAIN, 0, out, off, PERSONALIZATION_DOMAIN.length);
            off += PERSONALIZATION_DOMAIN.length;
            off = putLengthPrefixed(out, off, t);
            putLengthPrefixed(out, off, r);
            return out;
        }

        private static int putLengthPrefixed(byte[] out, int off, byte[] b) {
            out[off] = (byte) (b.length >>> 24);
            out[off + 1] = (byte) (b.length >>> 16);
            out[off + 2] = (byte) (b.length >>> 8);
            out[off + 3] = (byte) b.length;
            System.arraycopy(b, 0, out, off + 4, b.length);
            return off + 4 + b.length;
        }
    }

    private final CtrDrbg drbg;
    private final SecureRandom reseedSource; // null in replay mode
    private final byte[] buffer = new byte[DRBG_REQUEST_BYTES];
    private int position = DRBG_REQUEST_BYTES;
    /** The rest of a block whose first floats went to an earlier fill call. */
    private final float[] tail = new float[NormalTransform.BLOCK_FLOATS];
    private int tailPosition = NormalTransform.BLOCK_FLOATS;
    private final float[] radii = new float[NormalTransform.PAIRS * NormalTransform.CHUNK_BLOCKS];

    private NoiseStream(CtrDrbg drbg, SecureRandom reseedSource) {
        this.drbg = drbg;
        this.reseedSource = reseedSource;
    }

    /**
     * A stream seeded from the OS: 256-bit entropy input and 128-bit nonce from
     * {@code SecureRandom.getInstance("NativePRNGNonBlocking")} (/dev/urandom).
     *
     * @throws RngException if that SecureRandom is unavailable (there is no fallback)
     * @throws IllegalStateException if the jdk.incubator.vector module is not in the boot layer
     */
    public static NoiseStream fromOsEntropy(Personalization personalization) throws RngException {
        SecureRandom source;
        try {
            source = SecureRandom.getInstance("NativePRNGNonBlocking");
        } catch (GeneralSecurityException e) {
            throw new RngException("OS entropy source NativePRNGNonBlocking (/dev/urandom) is unavailable", e);
        }
        return fromEntropySource(personalization, source);
    }

    /**
     * A stream seeded from {@code source} (entropy input 256 bits, then nonce 128 bits); should the
     * reseed interval ever be reached, it reseeds from the same source.
     *
     * @throws IllegalStateException if the jdk.incubator.vector module is not in the boot layer
     */
    public static NoiseStream fromEntropySource(Personalization personalization, SecureRandom source) {
        Objects.requireNonNull(personalization, "personalization");
        Objects.requireNonNull(source, "source");
        requireVectorModule();
        byte[] entropy = new byte[32];
        byte[] nonce = new byte[16];
        source.nextBytes(entropy);
        source.nextBytes(nonce);
        try {
            CtrDrbg drbg = CtrDrbg.instantiate(CtrDrbg.Config.of(CtrDrbg.DerivationFunction.USE_DF),
                    entropy, nonce, personalization.encode());
            return new NoiseStream(drbg, source);
        } finally {
            Arrays.fill(entropy, (byte) 0);
        }
    }

    /**
     * A replayable stream: the same {@code seed} and {@code personalization} always give the same
     * floats. The seed is read, not kept; it stays owned (and closable) by the caller.
     *
     * @throws IllegalStateException if the seed is closed, or the jdk.incubator.vector module is not
     *     in the boot layer
     */
    public static NoiseStream replay(SecretSeed seed, Personalization personalization) {
        Objects.requireNonNull(seed, "seed");
        Objects.requireNonNull(personalization, "personalization");
        requireVectorModule();
        int strength = seed.bitLength() >= 256 ? 256 : seed.bitLength() >= 192 ? 192 : 128;
        byte[] ps = personalization.encode();
        byte[] nonce = replayNonce(ps);
        byte[] entropy = seed.copy();
        try {
            CtrDrbg drbg = CtrDrbg.instantiate(new CtrDrbg.Config(CtrDrbg.DerivationFunction.USE_DF, strength,
                    CtrDrbg.MAX_RESEED_INTERVAL), entropy, nonce, ps);
            return new NoiseStream(drbg, null);
        } finally {
            Arrays.fill(entropy, (byte) 0);
        }
    }

    /** Fails before a DRBG is set up rather than with NoClassDefFoundError at the first fill. */
    private static void requireVectorModule() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            throw new IllegalStateException("NoiseStream needs the jdk.incubator.vector module: start java with "
                    + "--add-modules=jdk.incubator.vector");
        }
    }

    static byte[] replayNonce(byte[] personalizationString) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(NONCE_DOMAIN);
            return Arrays.copyOf(sha.digest(personalizationString), 16);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK provides no SHA-256", e);
        }
    }

    /** Fills all of {@code out} with the next standard-normal floats. */
    public void fill(float[] out) throws RngException {
        fill(out, 0, out.length);
    }

    /**
     * Writes the next {@code len} standard-normal floats of the stream to {@code out[off, off+len)}.
     *
     * @throws RngException if the DRBG needs a reseed that a replay stream cannot do
     * @throws IllegalStateException if closed
     */
    public void fill(float[] out, int off, int len) throws RngException {
        Objects.checkFromIndexSize(off, len, out.length);
        int i = off;
        int end = off + len;
        int fromTail = Math.min(tail.length - tailPosition, len);
        System.arraycopy(tail, tailPosition, out, i, fromTail);
        tailPosition += fromTail;
        i += fromTail;
        // Whole blocks go straight into the caller's array.
        while (end - i >= NormalTransform.BLOCK_FLOATS) {
            if (position == buffer.length) {
                refill();
            }
            int blocks = Math.min((end - i) / NormalTransform.BLOCK_FLOATS,
                    (buffer.length - position) / NormalTransform.BLOCK_BYTES);
            NormalTransform.convert(buffer, position, out, i, blocks, radii);
            position += blocks * NormalTransform.BLOCK_BYTES;
            i += blocks * NormalTransform.BLOCK_FLOATS;
        }
        if (i < end) {
            if (position == buffer.length) {
                refill();
            }
            NormalTransform.convert(buffer, position, tail, 0, 1, radii);
            position += NormalTransform.BLOCK_BYTES;
            tailPosition = end - i;
            System.arraycopy(tail, 0, out, i, tailPosition);
        }
    }

    private void refill() throws RngException {
        try {
            drbg.generate(buffer, 0, buffer.length, null);
        } catch (ReseedRequiredException e) {
            if (reseedSource == null) {
                throw new RngException("noise stream exhausted: a replay stream cannot reseed", e);
            }
            byte[] entropy = new byte[32];
            reseedSource.nextBytes(entropy);
            drbg.reseed(entropy, null);
            Arrays.fill(entropy, (byte) 0);
            drbg.generate(buffer, 0, buffer.length, null);
        }
        position = 0;
    }

    /** Zeroes buffered DRBG output and normals and uninstantiates the DRBG. Idempotent. */
    @Override
    public void close() {
        Arrays.fill(buffer, (byte) 0);
        position = buffer.length;
        Arrays.fill(tail, 0f);
        tailPosition = tail.length;
        Arrays.fill(radii, 0f);
        drbg.close();
    }
}
