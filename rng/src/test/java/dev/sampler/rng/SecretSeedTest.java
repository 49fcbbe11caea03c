package dev.sampler.rng;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.SecureRandom;
import java.util.HexFormat;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

class SecretSeedTest {

    private static final HexFormat HEX = HexFormat.of();
    private static final byte[] RAW = HEX.parseHex("c0ffee00112233445566778899aabbccddeeff0123456789abcdef0011223344");
    private static final SecretKeySpec SERVER_KEY = new SecretKeySpec(new byte[32], "HmacSHA256");

    private static void assertNoSeedIn(String text) {
        String lower = text.toLowerCase(java.util.Locale.ROOT);
        assertFalse(lower.contains(HEX.formatHex(RAW)), text);
        assertFalse(lower.contains(HEX.formatHex(RAW, 0, 8)), text);
    }

    @Test
    void toString_open_isRedactedWithLengthOnly() {
        try (SecretSeed s = SecretSeed.copyOf(RAW, InsecureSeedAccess.get())) {
            assertEquals("SecretSeed[redacted, 256 bits]", s.toString());
            assertNoSeedIn(s.toString());
        }
    }

    @Test
    void close_zeroesBytesAndLaterReadsFailWithoutSeedInMessage() {
        SecretSeed s = SecretSeed.copyOf(RAW, InsecureSeedAccess.get());
        byte[] live = s.liveBytesForTest();
        s.close();
        assertArrayEquals(new byte[32], live);
        assertTrue(s.isClosed());
        assertEquals("SecretSeed[redacted, 256 bits, closed]", s.toString());
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> s.toByteArray(InsecureSeedAccess.get()));
        assertEquals("SecretSeed[redacted, 256 bits] is closed", e.getMessage());
        assertThrows(IllegalStateException.class, () -> s.commit(SERVER_KEY));
        s.close(); // idempotent
    }

    @Test
    void copyOf_tooShort_failsWithLengthOnlyInMessage() {
        byte[] shortSeed = new byte[15];
        System.arraycopy(RAW, 0, shortSeed, 0, 15);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SecretSeed.copyOf(shortSeed, InsecureSeedAccess.get()));
        assertEquals("seed must have 128 to 512 bits, got 120 bits", e.getMessage());
        assertNoSeedIn(e.getMessage());
    }

    @Test
    void copyOf_copiesInput_soCallerMayZeroItsArray() {
        byte[] mine = RAW.clone();
        try (SecretSeed s = SecretSeed.copyOf(mine, InsecureSeedAccess.get())) {
            java.util.Arrays.fill(mine, (byte) 0);
            assertArrayEquals(RAW, s.toByteArray(InsecureSeedAccess.get()));
        }
    }

    @Test
    void equality_isIdentityButConstantTimeCompareSeesEqualBytes() {
        try (SecretSeed a = SecretSeed.copyOf(RAW, InsecureSeedAccess.get());
                SecretSeed b = SecretSeed.copyOf(RAW, InsecureSeedAccess.get());
                SecretSeed c = SecretSeed.generate(256, new SecureRandom())) {
            assertNotEquals(a, b);
            assertTrue(a.equalsConstantTime(b));
            assertFalse(a.equalsConstantTime(c));
        }
    }

    @Test
    void commit_isKeyedDeterministicAndRevealsNoSeed() {
        try (SecretSeed a = SecretSeed.copyOf(RAW, InsecureSeedAccess.get());
                SecretSeed b = SecretSeed.copyOf(RAW, InsecureSeedAccess.get());
                SecretSeed c = SecretSeed.generate(256, new SecureRandom())) {
            SeedCommitment ca = a.commit(SERVER_KEY);
            assertEquals(ca, b.commit(SERVER_KEY));
            assertNotEquals(ca, c.commit(SERVER_KEY));
            byte[] otherKey = new byte[32];
            otherKey[0] = 1;
            assertNotEquals(ca, a.commit(new SecretKeySpec(otherKey, "HmacSHA256")));
            assertEquals(64, ca.hex().length());
            assertEquals(ca, SeedCommitment.fromHex(ca.hex()));
            assertNoSeedIn(ca.toString());
        }
    }

    @Test
    void commit_shortServerKey_isRejected() {
        try (SecretSeed a = SecretSeed.copyOf(RAW, InsecureSeedAccess.get())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> a.commit(new SecretKeySpec(new byte[16], "HmacSHA256")));
            assertEquals("commitment key must have at least 256 bits, got 128", e.getMessage());
        }
    }
}
