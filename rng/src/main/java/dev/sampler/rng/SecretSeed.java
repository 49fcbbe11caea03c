package dev.sampler.rng;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.SecretKey;

/**
 * A client-supplied (or freshly drawn) noise seed of 128 to 512 bits, a multiple of 8.
 *
 * <p>Secret-handling contract: no {@code equals}/{@code hashCode} (identity only; use
 * {@link #equalsConstantTime}); {@link #toString()} never shows the bytes; reading them needs a
 * {@link SeedAccess} token from {@link InsecureSeedAccess}; {@link #close()} zeroes them. The only
 * value derived from a seed that may be logged or returned is its {@link #commit keyed commitment}.
 * Not thread-safe against a concurrent {@link #close()}.
 */
public final class SecretSeed implements AutoCloseable {
    /** Smallest seed accepted, in bits. */
    public static final int MIN_BITS = 128;
    /** Largest seed accepted, in bits. */
    public static final int MAX_BITS = 512;

    private static final byte[] COMMITMENT_DOMAIN =
            "dev.sampler.rng.SecretSeed/commitment/v1\0".getBytes(StandardCharsets.US_ASCII);

    private final byte[] bytes;
    private final int bits;
    private boolean closed;

    private SecretSeed(byte[] bytes) {
        this.bytes = bytes;
        this.bits = bytes.length * 8;
    }

    /**
     * Copies {@code seed} into a new SecretSeed (the caller should zero its own copy).
     *
     * @throws IllegalArgumentException if the length is outside [16, 64] bytes; the message gives
     *     only the length
     */
    public static SecretSeed copyOf(byte[] seed, SeedAccess access) {
        Objects.requireNonNull(access, "access");
        Objects.requireNonNull(seed, "seed");
        checkBits(seed.length * 8L);
        return new SecretSeed(seed.clone());
    }

    /** Draws a fresh seed of {@code bits} bits (128..512, multiple of 8) from {@code random}. */
    public static SecretSeed generate(int bits, SecureRandom random) {
        Objects.requireNonNull(random, "random");
        checkBits(bits);
        if (bits % 8 != 0) {
            throw new IllegalArgumentException("seed length must be a multiple of 8 bits, got " + bits);
        }
        byte[] b = new byte[bits / 8];
        random.nextBytes(b);
        return new SecretSeed(b);
    }

    private static void checkBits(long bits) {
        if (bits < MIN_BITS || bits > MAX_BITS) {
            throw new IllegalArgumentException(
                    "seed must have " + MIN_BITS + " to " + MAX_BITS + " bits, got " + bits + " bits");
        }
    }

    /** A copy of the seed bytes. @throws IllegalStateException if closed */
    public byte[] toByteArray(SeedAccess access) {
        Objects.requireNonNull(access, "access");
        return copy();
    }

    /** The seed's length in bits. */
    public int bitLength() {
        return bits;
    }

    /** Whether {@link #close()} has been called. */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Compares the two seeds in time that depends only on their lengths.
     *
     * @throws IllegalStateException if either is closed
     */
    public boolean equalsConstantTime(SecretSeed other) {
        Objects.requireNonNull(other, "other");
        checkOpen();
        other.checkOpen();
        return MessageDigest.isEqual(bytes, other.bytes);
    }

    /**
     * HMAC-SHA256(serverKey, "dev.sampler.rng.SecretSeed/commitment/v1" || 0x00 || u32be(bits) ||
     * seed): the value that may be emitted in place of the seed.
     *
     * @param serverKey an HMAC key of at least 256 bits, held by the server
     * @throws IllegalArgumentException if the key is shorter than 256 bits or unusable for HMAC
     * @throws IllegalStateException if closed
     */
    public SeedCommitment commit(SecretKey serverKey) {
        Objects.requireNonNull(serverKey, "serverKey");
        checkOpen();
        byte[] encoded = serverKey.getEncoded();
        int keyBits = encoded == null ? 0 : encoded.length * 8;
        if (encoded != null) {
            Arrays.fill(encoded, (byte) 0);
        }
        if (keyBits < 256) {
            throw new IllegalArgumentException("commitment key must have at least 256 bits, got " + keyBits);
        }
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(serverKey);
            mac.update(COMMITMENT_DOMAIN);
            mac.update(new byte[] {(byte) (bits >>> 24), (byte) (bits >>> 16), (byte) (bits >>> 8), (byte) bits});
            mac.update(bytes);
            return new SeedCommitment(mac.doFinal());
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("HMAC-SHA256 commitment failed: key not usable for HmacSHA256", e);
        }
    }

    /** Zeroes the seed bytes. Idempotent. */
    @Override
    public void close() {
        Arrays.fill(bytes, (byte) 0);
        closed = true;
    }

    /** {@code SecretSeed[redacted, N bits]}, plus {@code , closed} once closed. */
    @Override
    public String toString() {
        return "SecretSeed[redacted, " + bits + " bits" + (closed ? ", closed]" : "]");
    }

    /** For this package's DRBG seeding only: a copy the caller must zero. */
    byte[] copy() {
        checkOpen();
        return bytes.clone();
    }

    /** Test hook: the live array, to check that close() zeroed it. */
    byte[] liveBytesForTest() {
        return bytes;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("SecretSeed[redacted, " + bits + " bits] is closed");
        }
    }
}
