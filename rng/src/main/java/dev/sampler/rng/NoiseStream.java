package dev.sampler.rng;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
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
 *       SHA-256("dev.sampler.rng.NoiseStream/replay-nonce/v1" || 0x00 || personalization string).
 *       The same seed and personalization give the same floats on every JVM.
 * </ul>
 *
 * <p>The float sequence is defined exactly (so a replay, or another implementation, can reproduce
 * it):
 * <ol>
 *   <li>The DRBG is called repeatedly with requests of exactly {@value #DRBG_REQUEST_BYTES} bytes
 *       (2^19 bits) and no additional input; the byte stream is their concatenation.
 *   <li>The byte stream is read 16 bytes at a time as two big-endian 64-bit words w1, w2.
 *   <li>u1 = ((w1 &gt;&gt;&gt; 11) + 1) * 2^-53 (in (0, 1]); u2 = (w2 &gt;&gt;&gt; 11) * 2^-53 (in [0, 1)).
 *   <li>r = StrictMath.sqrt(-2 * StrictMath.log(u1)); t = (2 * Math.PI) * u2, all in double.
 *   <li>z0 = (float) (r * StrictMath.cos(t)), z1 = (float) (r * StrictMath.sin(t)) (round to
 *       nearest); the sequence is z0, z1, z0', z1', ...
 * </ol>
 * Box-Muller with 53-bit uniforms and {@code StrictMath} (fdlibm, bit-for-bit the same
 * everywhere). How the caller splits its {@link #fill} calls does not change the sequence. The
 * largest |z| reachable is sqrt(2 * 53 * ln 2) = 8.57.
 */
public final class NoiseStream implements AutoCloseable {
    /** The size of every DRBG request the stream makes: max_number_of_bits_per_request. */
    public static final int DRBG_REQUEST_BYTES = CtrDrbg.MAX_BYTES_PER_REQUEST;

    private static final VarHandle LONG_BE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
    private static final double TWO_PI = 2 * Math.PI;
    private static final byte[] NONCE_DOMAIN =
            "dev.sampler.rng.NoiseStream/replay-nonce/v1\0".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] PERSONALIZATION_DOMAIN =
            "dev.sampler.rng.NoiseStream/v1\0".getBytes(StandardCharsets.US_ASCII);

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
         * The personalization string: "dev.sampler.rng.NoiseStream/v1" || 0x00 || u32be(len(tenant))
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
    private float pending;
    private boolean hasPending;

    private NoiseStream(CtrDrbg drbg, SecureRandom reseedSource) {
        this.drbg = drbg;
        this.reseedSource = reseedSource;
    }

    /**
     * A stream seeded from the OS: 256-bit entropy input and 128-bit nonce from
     * {@code SecureRandom.getInstance("NativePRNGNonBlocking")} (/dev/urandom).
     *
     * @throws RngException if that SecureRandom is unavailable (there is no fallback)
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
     */
    public static NoiseStream fromEntropySource(Personalization personalization, SecureRandom source) {
        Objects.requireNonNull(personalization, "personalization");
        Objects.requireNonNull(source, "source");
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
     * @throws IllegalStateException if the seed is closed
     */
    public static NoiseStream replay(SecretSeed seed, Personalization personalization) {
        Objects.requireNonNull(seed, "seed");
        Objects.requireNonNull(personalization, "personalization");
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
        if (hasPending && i < end) {
            out[i++] = pending;
            hasPending = false;
        }
        byte[] buf = buffer;
        while (i < end) {
            if (position == buf.length) {
                refill();
            }
            long w1 = (long) LONG_BE.get(buf, position);
            long w2 = (long) LONG_BE.get(buf, position + 8);
            position += 16;
            double u1 = ((w1 >>> 11) + 1) * 0x1p-53;
            double u2 = (w2 >>> 11) * 0x1p-53;
            double r = StrictMath.sqrt(-2.0 * StrictMath.log(u1));
            double t = TWO_PI * u2;
            out[i++] = (float) (r * StrictMath.cos(t));
            float z1 = (float) (r * StrictMath.sin(t));
            if (i < end) {
                out[i++] = z1;
            } else {
                pending = z1;
                hasPending = true;
            }
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

    /** Zeroes buffered DRBG output and uninstantiates the DRBG. Idempotent. */
    @Override
    public void close() {
        Arrays.fill(buffer, (byte) 0);
        position = buffer.length;
        pending = 0f;
        hasPending = false;
        drbg.close();
    }
}
