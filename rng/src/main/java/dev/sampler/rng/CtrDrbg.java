package dev.sampler.rng;

import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.Objects;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * NIST SP 800-90A Rev. 1 CTR_DRBG (section 10.2.1) with AES-256: blocklen = outlen = 128,
 * keylen = 256, seedlen = 384, ctr_len = blocklen (the whole of V is the counter, incremented
 * mod 2^128). Both variants are implemented: with the derivation function Block_Cipher_df
 * (10.3.2) and without it. Prediction resistance is not supported.
 *
 * <p>Limits (Table 3 of SP 800-90A): at most {@value #MAX_BYTES_PER_REQUEST} bytes (2^19 bits) per
 * generate request; at most {@link #MAX_RESEED_INTERVAL} (2^48) generate requests between reseeds
 * (configurable lower); personalization string and additional input at most seedlen bits without
 * the derivation function. Entropy input: with the derivation function at least
 * security_strength bits; without it exactly seedlen bits.
 *
 * <p>The entropy input, nonce and personalization string are supplied by the caller: this class is
 * the deterministic mechanism only (which is what lets NIST's CAVP vectors test it). Obtaining the
 * entropy is the caller's job ({@link NoiseStream} does it).
 *
 * <p>Generate uses the JDK's {@code AES/CTR/NoPadding} (intrinsified on x86 and AArch64) over the
 * counter blocks V+1, V+2, ...; the cipher's counter is never asked to carry out of its low 64 bits
 * (a request is split at that boundary and the 128-bit increment is done here), so the result is
 * exactly the standard's (V + 1) mod 2^128 sequence, including the wrap at 2^128.
 *
 * <p>Not thread-safe: one instance per caller. {@link #close()} is uninstantiate: it zeroes the
 * working state (Key, V) held in this object's arrays; copies held inside the JCE provider's key
 * schedule cannot be erased from Java.
 */
public final class CtrDrbg implements AutoCloseable {

    /** seedlen in bytes (384 bits). */
    public static final int SEED_LEN_BYTES = 48;
    /** keylen in bytes (256 bits). */
    public static final int KEY_LEN_BYTES = 32;
    /** outlen = blocklen in bytes (128 bits). */
    public static final int BLOCK_LEN_BYTES = 16;
    /** max_number_of_bits_per_request = 2^19 bits, in bytes. */
    public static final int MAX_BYTES_PER_REQUEST = 1 << 16;
    /** The largest reseed_interval SP 800-90A allows for CTR_DRBG with AES: 2^48 requests. */
    public static final long MAX_RESEED_INTERVAL = 1L << 48;
    /** The highest security strength AES-256 supports, in bits. */
    public static final int MAX_SECURITY_STRENGTH = 256;

    /** Whether Block_Cipher_df processes the inputs (10.2.1.3.2) or not (10.2.1.3.1). */
    public enum DerivationFunction {
        /** "use df": inputs of any length (within the limits) go through Block_Cipher_df. */
        USE_DF,
        /** "no df": the entropy input is exactly seedlen bits of full-entropy input. */
        NO_DF
    }

    /**
     * Instantiation parameters.
     *
     * @param derivationFunction whether Block_Cipher_df is used
     * @param securityStrength the requested security strength in bits: 128, 192 or 256 (with
     *     {@link DerivationFunction#NO_DF} the entropy input is seedlen bits regardless)
     * @param reseedInterval the number of generate requests allowed between (re)seeds, 1 to 2^48
     */
    public record Config(DerivationFunction derivationFunction, int securityStrength, long reseedInterval) {
        /** Validates the parameters; throws IllegalArgumentException naming the bad one. */
        public Config {
            Objects.requireNonNull(derivationFunction, "derivationFunction");
            if (securityStrength != 128 && securityStrength != 192 && securityStrength != 256) {
                throw new IllegalArgumentException(
                        "securityStrength must be 128, 192 or 256 bits, got " + securityStrength);
            }
            if (reseedInterval < 1 || reseedInterval > MAX_RESEED_INTERVAL) {
                throw new IllegalArgumentException(
                        "reseedInterval must be in [1, 2^48], got " + reseedInterval);
            }
        }

        /** AES-256 CTR_DRBG at 256-bit strength with the largest reseed interval. */
        public static Config of(DerivationFunction derivationFunction) {
            return new Config(derivationFunction, MAX_SECURITY_STRENGTH, MAX_RESEED_INTERVAL);
        }
    }

    /**
     * The plaintext of every CTR encryption: all zero, never written (only ever a cipher's input),
     * one maximal request long so a request is one cipher call.
     */
    private static final byte[] ZEROS = new byte[MAX_BYTES_PER_REQUEST];

    private final Config config;
    private final Cipher ctr;
    private final Cipher ecb;
    private final byte[] key = new byte[KEY_LEN_BYTES];
    private final byte[] v = new byte[BLOCK_LEN_BYTES];
    private long reseedCounter;
    private boolean closed;

    private CtrDrbg(Config config) {
        this.config = config;
        try {
            this.ctr = Cipher.getInstance("AES/CTR/NoPadding");
            this.ecb = Cipher.getInstance("AES/ECB/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK provides no AES/CTR/NoPadding or AES/ECB/NoPadding", e);
        }
    }

    /**
     * CTR_DRBG_Instantiate_algorithm (10.2.1.3.1 without df, 10.2.1.3.2 with df).
     *
     * @param config the variant, security strength and reseed interval
     * @param entropyInput with df: at least securityStrength bits; without df: exactly 48 bytes
     * @param nonce with df: at least securityStrength/2 bits; without df: must be empty (unused)
     * @param personalizationString may be null or empty; without df at most 48 bytes
     * @return the instantiated DRBG, with reseed_counter = 1
     * @throws IllegalArgumentException if an input's length is outside the standard's limits
     */
    public static CtrDrbg instantiate(Config config, byte[] entropyInput, byte[] nonce, byte[] personalizationString) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(entropyInput, "entropyInput");
        byte[] ps = personalizationString == null ? new byte[0] : personalizationString;
        byte[] n = nonce == null ? new byte[0] : nonce;
        CtrDrbg drbg = new CtrDrbg(config);
        byte[] seedMaterial;
        if (config.derivationFunction() == DerivationFunction.USE_DF) {
            checkDfEntropy(config, entropyInput);
            if (n.length * 8 < config.securityStrength() / 2) {
                throw new IllegalArgumentException("nonce has " + n.length * 8
                        + " bits; SP 800-90A 8.6.7 needs at least security_strength/2 = "
                        + config.securityStrength() / 2);
            }
            seedMaterial = drbg.blockCipherDf(concat(entropyInput, n, ps), SEED_LEN_BYTES);
        } else {
            checkNoDfEntropy(entropyInput);
            if (n.length != 0) {
                throw new IllegalArgumentException(
                        "nonce must be empty without a derivation function (SP 800-90A 10.2.1.3.1 does not use it)");
            }
            checkNoDfLength("personalization string", ps);
            seedMaterial = xorPadded(entropyInput, ps);
        }
        drbg.update(seedMaterial);
        Arrays.fill(seedMaterial, (byte) 0);
        drbg.reseedCounter = 1;
        return drbg;
    }

    /**
     * CTR_DRBG_Reseed_algorithm (10.2.1.4.1 / 10.2.1.4.2). Resets reseed_counter to 1.
     *
     * @param entropyInput same length rules as for instantiate
     * @param additionalInput may be null or empty; without df at most 48 bytes
     * @throws IllegalArgumentException if an input's length is outside the standard's limits
     * @throws IllegalStateException if closed
     */
    public void reseed(byte[] entropyInput, byte[] additionalInput) {
        checkOpen();
        Objects.requireNonNull(entropyInput, "entropyInput");
        byte[] ai = additionalInput == null ? new byte[0] : additionalInput;
        byte[] seedMaterial;
        if (config.derivationFunction() == DerivationFunction.USE_DF) {
            checkDfEntropy(config, entropyInput);
            seedMaterial = blockCipherDf(concat(entropyInput, ai), SEED_LEN_BYTES);
        } else {
            checkNoDfEntropy(entropyInput);
            checkNoDfLength("additional input", ai);
            seedMaterial = xorPadded(entropyInput, ai);
        }
        update(seedMaterial);
        Arrays.fill(seedMaterial, (byte) 0);
        reseedCounter = 1;
    }

    /**
     * CTR_DRBG_Generate_algorithm (10.2.1.5.1 / 10.2.1.5.2): writes {@code len} pseudorandom
     * bytes to {@code out[off, off+len)}. An empty or null additional input is the standard's Null.
     *
     * @throws IllegalArgumentException if {@code len} exceeds max_number_of_bits_per_request
     *     (2^19 bits = 65536 bytes) or the additional input is too long (without df: 48 bytes)
     * @throws ReseedRequiredException if reseed_counter exceeds the reseed interval; the state is
     *     unchanged and {@link #reseed} must be called first
     * @throws IllegalStateException if closed
     */
    public void generate(byte[] out, int off, int len, byte[] additionalInput) throws ReseedRequiredException {
        checkOpen();
        Objects.checkFromIndexSize(off, len, out.length);
        if (len > MAX_BYTES_PER_REQUEST) {
            throw new IllegalArgumentException(tooManyBits(len));
        }
        if (reseedCounter > config.reseedInterval()) {
            throw new ReseedRequiredException(reseedCounter - 1, config.reseedInterval());
        }
        byte[] ai;
        if (additionalInput != null && additionalInput.length > 0) {
            if (config.derivationFunction() == DerivationFunction.USE_DF) {
                ai = blockCipherDf(additionalInput, SEED_LEN_BYTES);
            } else {
                checkNoDfLength("additional input", additionalInput);
                ai = Arrays.copyOf(additionalInput, SEED_LEN_BYTES);
            }
            update(ai);
        } else {
            ai = new byte[SEED_LEN_BYTES];
        }
        if (len > 0) {
            keystream(ctr, key, v, out, off, len);
            addToCounter(v, blocksFor(len));
        }
        update(ai);
        Arrays.fill(ai, (byte) 0);
        reseedCounter++;
    }

    /** Convenience form of {@link #generate(byte[], int, int, byte[])} returning a new array. */
    public byte[] generate(int len, byte[] additionalInput) throws ReseedRequiredException {
        if (len < 0) {
            throw new IllegalArgumentException("len must be >= 0, got " + len);
        }
        if (len > MAX_BYTES_PER_REQUEST) {
            throw new IllegalArgumentException(tooManyBits(len));
        }
        byte[] out = new byte[len];
        generate(out, 0, len, additionalInput);
        return out;
    }

    /** The current reseed_counter: 1 after instantiate or reseed, plus one per generate. */
    public long reseedCounter() {
        return reseedCounter;
    }

    /** The parameters this instance was instantiated with. */
    public Config config() {
        return config;
    }

    /** Uninstantiate: zeroes Key and V; later calls throw IllegalStateException. Idempotent. */
    @Override
    public void close() {
        Arrays.fill(key, (byte) 0);
        Arrays.fill(v, (byte) 0);
        closed = true;
    }

    @Override
    public String toString() {
        return "CtrDrbg[AES-256, " + config.derivationFunction() + ", strength " + config.securityStrength()
                + (closed ? ", closed]" : "]");
    }

    // ---- 10.2.1.2 CTR_DRBG_Update ----

    private void update(byte[] providedData) {
        byte[] temp = new byte[SEED_LEN_BYTES];
        keystream(ctr, key, v, temp, 0, SEED_LEN_BYTES);
        for (int i = 0; i < SEED_LEN_BYTES; i++) {
            temp[i] ^= providedData[i];
        }
        System.arraycopy(temp, 0, key, 0, KEY_LEN_BYTES);
        System.arraycopy(temp, KEY_LEN_BYTES, v, 0, BLOCK_LEN_BYTES);
        Arrays.fill(temp, (byte) 0);
    }

    // ---- 10.3.2 Block_Cipher_df and 10.3.3 BCC ----

    byte[] blockCipherDf(byte[] input, int bytesToReturn) {
        if (bytesToReturn * 8 > 512) {
            throw new IllegalArgumentException("Block_Cipher_df returns at most 512 bits");
        }
        int l = input.length;
        int sLen = 4 + 4 + l + 1;
        int padded = (sLen + BLOCK_LEN_BYTES - 1) / BLOCK_LEN_BYTES * BLOCK_LEN_BYTES;
        // data = IV (one block) || S, S = L || N || input_string || 0x80 || 0...
        byte[] data = new byte[BLOCK_LEN_BYTES + padded];
        putInt(data, BLOCK_LEN_BYTES, l);
        putInt(data, BLOCK_LEN_BYTES + 4, bytesToReturn);
        System.arraycopy(input, 0, data, BLOCK_LEN_BYTES + 8, l);
        data[BLOCK_LEN_BYTES + 8 + l] = (byte) 0x80;

        byte[] k = new byte[KEY_LEN_BYTES];
        for (int i = 0; i < KEY_LEN_BYTES; i++) {
            k[i] = (byte) i;
        }
        byte[] temp = new byte[KEY_LEN_BYTES + BLOCK_LEN_BYTES];
        for (int i = 0; i * BLOCK_LEN_BYTES < temp.length; i++) {
            putInt(data, 0, i); // IV = i || 0^(outlen - 32)
            bcc(k, data, temp, i * BLOCK_LEN_BYTES);
        }
        byte[] newKey = Arrays.copyOf(temp, KEY_LEN_BYTES);
        byte[] x = Arrays.copyOfRange(temp, KEY_LEN_BYTES, KEY_LEN_BYTES + BLOCK_LEN_BYTES);
        byte[] result = new byte[bytesToReturn];
        initEcb(newKey);
        for (int off = 0; off < bytesToReturn; off += BLOCK_LEN_BYTES) {
            encryptBlock(x, x);
            System.arraycopy(x, 0, result, off, Math.min(BLOCK_LEN_BYTES, bytesToReturn - off));
        }
        Arrays.fill(data, (byte) 0);
        Arrays.fill(temp, (byte) 0);
        Arrays.fill(newKey, (byte) 0);
        Arrays.fill(x, (byte) 0);
        return result;
    }

    private void bcc(byte[] k, byte[] data, byte[] out, int outOff) {
        initEcb(k);
        byte[] chain = new byte[BLOCK_LEN_BYTES];
        for (int off = 0; off < data.length; off += BLOCK_LEN_BYTES) {
            for (int j = 0; j < BLOCK_LEN_BYTES; j++) {
                chain[j] ^= data[off + j];
            }
            encryptBlock(chain, chain);
        }
        System.arraycopy(chain, 0, out, outOff, BLOCK_LEN_BYTES);
    }

    private void initEcb(byte[] k) {
        try {
            ecb.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(k, "AES"));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-256 key setup failed", e);
        }
    }

    private void encryptBlock(byte[] in, byte[] out) {
        try {
            ecb.update(in, 0, BLOCK_LEN_BYTES, out, 0);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES block encryption failed", e);
        }
    }

    // ---- counter-mode keystream ----

    /**
     * Writes E(key, v+1) || E(key, v+2) || ... (counter mod 2^128), truncated to len, to
     * {@code out[off, off+len)}. Does not modify {@code v}. A segment handed to JCE never makes the
     * counter's low 64 bits wrap, so JCE's (and its intrinsic's) carry handling is never relied on.
     *
     * <p>The keystream is produced by encrypting {@link #ZEROS} into {@code out}: JCE's CipherCore
     * treats an in-place call (input array == output array) as overlapping and copies the input
     * into a freshly allocated array first, then zeroes that copy, which with the caller's own
     * zeroing cost three extra passes over the output and halved generate's throughput.
     */
    static void keystream(Cipher cipher, byte[] key, byte[] v, byte[] out, int off, int len) {
        byte[] counter = v.clone();
        addToCounter(counter, 1);
        SecretKeySpec keySpec = new SecretKeySpec(key, "AES");
        try {
            while (len > 0) {
                long low = getLong(counter, 8);
                long blocksLeftBeforeLowWrap = -low; // 2^64 - low, as unsigned; 0 means 2^64
                int segment = Math.min(len, ZEROS.length);
                long blocksWanted = blocksFor(segment);
                if (low != 0 && Long.compareUnsigned(blocksWanted, blocksLeftBeforeLowWrap) > 0) {
                    segment = (int) (blocksLeftBeforeLowWrap * BLOCK_LEN_BYTES);
                }
                cipher.init(Cipher.ENCRYPT_MODE, keySpec, new IvParameterSpec(counter));
                int done = cipher.doFinal(ZEROS, 0, segment, out, off);
                if (done != segment) {
                    throw new IllegalStateException("AES/CTR returned " + done + " bytes, expected " + segment);
                }
                off += segment;
                len -= segment;
                addToCounter(counter, blocksFor(segment));
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES/CTR keystream failed", e);
        } finally {
            Arrays.fill(counter, (byte) 0);
        }
    }

    private static long blocksFor(int len) {
        return (len + (long) BLOCK_LEN_BYTES - 1) / BLOCK_LEN_BYTES;
    }

    /** counter = (counter + n) mod 2^128, big-endian, n treated as unsigned. */
    static void addToCounter(byte[] counter, long n) {
        long low = getLong(counter, 8);
        long high = getLong(counter, 0);
        long sum = low + n;
        if (Long.compareUnsigned(sum, low) < 0) {
            high++;
        }
        putLong(counter, 0, high);
        putLong(counter, 8, sum);
    }

    // ---- helpers ----

    private static String tooManyBits(int len) {
        return "requested " + (long) len * 8
                + " bits exceeds max_number_of_bits_per_request = 2^19 = 524288 bits (SP 800-90A Table 3)";
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("CtrDrbg is closed (uninstantiated)");
        }
    }

    private static void checkDfEntropy(Config config, byte[] entropyInput) {
        if (entropyInput.length * 8L < config.securityStrength()) {
            throw new IllegalArgumentException("entropy input has " + entropyInput.length * 8L
                    + " bits; at least security_strength = " + config.securityStrength() + " bits are required");
        }
    }

    private static void checkNoDfEntropy(byte[] entropyInput) {
        if (entropyInput.length != SEED_LEN_BYTES) {
            throw new IllegalArgumentException("entropy input has " + entropyInput.length * 8L
                    + " bits; without a derivation function it must be exactly seedlen = 384 bits");
        }
    }

    private static void checkNoDfLength(String what, byte[] input) {
        if (input.length > SEED_LEN_BYTES) {
            throw new IllegalArgumentException(what + " has " + input.length * 8L
                    + " bits; without a derivation function it may have at most seedlen = 384 bits");
        }
    }

    private static byte[] xorPadded(byte[] entropy, byte[] other) {
        byte[] r = entropy.clone();
        for (int i = 0; i < other.length; i++) {
            r[i] ^= other[i];
        }
        return r;
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n = Math.addExact(n, p.length);
        }
        byte[] r = new byte[n];
        int off = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, r, off, p.length);
            off += p.length;
        }
        return r;
    }

    private static void putInt(byte[] b, int off, int x) {
        b[off] = (byte) (x >>> 24);
        b[off + 1] = (byte) (x >>> 16);
        b[off + 2] = (byte) (x >>> 8);
        b[off + 3] = (byte) x;
    }

    private static long getLong(byte[] b, int off) {
        long r = 0;
        for (int i = 0; i < 8; i++) {
            r = (r << 8) | (b[off + i] & 0xFF);
        }
        return r;
    }

    private static void putLong(byte[] b, int off, long x) {
        for (int i = 7; i >= 0; i--) {
            b[off + i] = (byte) x;
            x >>>= 8;
        }
    }
}
