package dev.sampler.rng;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigInteger;
import java.util.Arrays;
import java.util.HexFormat;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

class CtrDrbgTest {

    private static final CtrDrbg.Config DF = CtrDrbg.Config.of(CtrDrbg.DerivationFunction.USE_DF);
    private static final CtrDrbg.Config NO_DF = CtrDrbg.Config.of(CtrDrbg.DerivationFunction.NO_DF);

    private static byte[] filled(int n, int value) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) value);
        return b;
    }

    private static CtrDrbg dfDrbg(long reseedInterval) {
        return CtrDrbg.instantiate(new CtrDrbg.Config(CtrDrbg.DerivationFunction.USE_DF, 256, reseedInterval),
                filled(32, 1), filled(16, 2), null);
    }

    @Test
    void generate_maxRequest_succeeds() throws Exception {
        try (CtrDrbg d = dfDrbg(CtrDrbg.MAX_RESEED_INTERVAL)) {
            assertEquals(65536, d.generate(65536, null).length);
        }
    }

    @Test
    void generate_overMaxBitsPerRequest_failsWithPreciseMessage() {
        try (CtrDrbg d = dfDrbg(CtrDrbg.MAX_RESEED_INTERVAL)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> d.generate(new byte[65537], 0, 65537, null));
            assertEquals("requested 524296 bits exceeds max_number_of_bits_per_request = 2^19 = 524288 bits"
                    + " (SP 800-90A Table 3)", e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> d.generate(65537, null));
            assertEquals(1, d.reseedCounter(), "a refused request must not change the state");
        }
    }

    @Test
    void generate_pastReseedInterval_failsUntilReseeded() throws Exception {
        try (CtrDrbg d = dfDrbg(3)) {
            for (int i = 0; i < 3; i++) {
                d.generate(16, null);
            }
            ReseedRequiredException e = assertThrows(ReseedRequiredException.class, () -> d.generate(16, null));
            assertEquals("CTR_DRBG generate refused: 3 requests since the last (re)seed reached reseed_interval = 3;"
                    + " reseed before generating more", e.getMessage());
            d.reseed(filled(32, 9), null);
            assertEquals(16, d.generate(16, null).length);
        }
    }

    @Test
    void config_reseedIntervalAboveTwoTo48_isRejected() {
        assertThrows(IllegalArgumentException.class,
                () -> new CtrDrbg.Config(CtrDrbg.DerivationFunction.USE_DF, 256, (1L << 48) + 1));
        assertThrows(IllegalArgumentException.class,
                () -> new CtrDrbg.Config(CtrDrbg.DerivationFunction.USE_DF, 112, 10));
    }

    @Test
    void instantiate_inputsOutsideLimits_failWithPreciseMessages() {
        assertEquals("entropy input has 376 bits; without a derivation function it must be exactly seedlen = 384 bits",
                assertThrows(IllegalArgumentException.class,
                        () -> CtrDrbg.instantiate(NO_DF, new byte[47], null, null)).getMessage());
        assertEquals("nonce must be empty without a derivation function (SP 800-90A 10.2.1.3.1 does not use it)",
                assertThrows(IllegalArgumentException.class,
                        () -> CtrDrbg.instantiate(NO_DF, new byte[48], new byte[16], null)).getMessage());
        assertEquals("personalization string has 392 bits; without a derivation function it may have at most"
                        + " seedlen = 384 bits",
                assertThrows(IllegalArgumentException.class,
                        () -> CtrDrbg.instantiate(NO_DF, new byte[48], null, new byte[49])).getMessage());
        assertEquals("entropy input has 248 bits; at least security_strength = 256 bits are required",
                assertThrows(IllegalArgumentException.class,
                        () -> CtrDrbg.instantiate(DF, new byte[31], new byte[16], null)).getMessage());
        assertEquals("nonce has 120 bits; SP 800-90A 8.6.7 needs at least security_strength/2 = 128",
                assertThrows(IllegalArgumentException.class,
                        () -> CtrDrbg.instantiate(DF, new byte[32], new byte[15], null)).getMessage());
    }

    @Test
    void generate_noDfAdditionalInputTooLong_isRejected() {
        try (CtrDrbg d = CtrDrbg.instantiate(NO_DF, new byte[48], null, null)) {
            assertThrows(IllegalArgumentException.class, () -> d.generate(16, new byte[49]));
        }
    }

    @Test
    void close_thenGenerate_failsAsUninstantiated() {
        CtrDrbg d = dfDrbg(10);
        d.close();
        assertEquals("CtrDrbg is closed (uninstantiated)",
                assertThrows(IllegalStateException.class, () -> d.generate(16, null)).getMessage());
    }

    @Test
    void generate_sameInputs_sameOutputAndDifferentPersonalization_differentOutput() throws Exception {
        byte[] a;
        byte[] b;
        byte[] c;
        try (CtrDrbg d = CtrDrbg.instantiate(DF, filled(32, 1), filled(16, 2), new byte[] {1})) {
            a = d.generate(1000, null);
        }
        try (CtrDrbg d = CtrDrbg.instantiate(DF, filled(32, 1), filled(16, 2), new byte[] {1})) {
            b = d.generate(1000, null);
        }
        try (CtrDrbg d = CtrDrbg.instantiate(DF, filled(32, 1), filled(16, 2), new byte[] {2})) {
            c = d.generate(1000, null);
        }
        assertArrayEquals(a, b);
        assertEquals(false, Arrays.equals(a, c));
    }

    /** Reference: E(K, (V + i) mod 2^128) for i = 1..n, one ECB block at a time, BigInteger counter. */
    private static byte[] referenceKeystream(byte[] key, byte[] v, int len) throws Exception {
        Cipher ecb = Cipher.getInstance("AES/ECB/NoPadding");
        ecb.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"));
        BigInteger mod = BigInteger.ONE.shiftLeft(128);
        BigInteger ctr = new BigInteger(1, v);
        byte[] out = new byte[len];
        for (int off = 0; off < len; off += 16) {
            ctr = ctr.add(BigInteger.ONE).mod(mod);
            byte[] raw = ctr.toByteArray();
            byte[] block = new byte[16];
            int n = Math.min(raw.length, 16);
            System.arraycopy(raw, raw.length - n, block, 16 - n, n);
            byte[] enc = ecb.doFinal(block);
            System.arraycopy(enc, 0, out, off, Math.min(16, len - off));
        }
        return out;
    }

    @Test
    void keystream_counterWrapsAt2To128AndAcrossLow64Bits_matchesBlockByBlockReference() throws Exception {
        HexFormat hex = HexFormat.of();
        byte[] key = new byte[32];
        for (int i = 0; i < 32; i++) {
            key[i] = (byte) (i * 7 + 3);
        }
        Cipher ctr = Cipher.getInstance("AES/CTR/NoPadding");
        String[] starts = {
            "ffffffffffffffffffffffffffffffff", // V + 1 = 0 (mod 2^128)
            "fffffffffffffffffffffffffffffffd", // wraps after two blocks
            "0000000000000000fffffffffffffffe", // carry from the low into the high 64 bits
            "00000000000000ffffffffffffffffff",
            "00000000000000000000000000000000",
        };
        for (String s : starts) {
            byte[] v = hex.parseHex(s);
            for (int len : new int[] {1, 16, 47, 48, 200, 4096 + 5}) {
                byte[] out = new byte[len];
                CtrDrbg.keystream(ctr, key, v, out, 0, len);
                assertEquals(hex.formatHex(referenceKeystream(key, v, len)), hex.formatHex(out), "V=" + s + " len=" + len);
                assertEquals(s, hex.formatHex(v), "keystream must not modify V");
            }
        }
        byte[] c = hex.parseHex("ffffffffffffffffffffffffffffffff");
        CtrDrbg.addToCounter(c, 2);
        assertEquals("00000000000000000000000000000001", hex.formatHex(c));
    }
}
