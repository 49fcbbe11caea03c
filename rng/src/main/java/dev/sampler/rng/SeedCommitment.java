package dev.sampler.rng;

import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * HMAC-SHA256(serverKey, domain-separated seed) of a {@link SecretSeed}: the only value derived from
 * a seed that may leave the process (logs, receipts, responses). Equal commitments under the same
 * server key mean equal seeds; without the key a commitment reveals nothing that helps guess a
 * seed. Compares in constant time.
 */
public final class SeedCommitment {
    private final byte[] mac;

    SeedCommitment(byte[] mac) {
        if (mac.length != 32) {
            throw new IllegalArgumentException("a seed commitment is 32 bytes, got " + mac.length);
        }
        this.mac = mac.clone();
    }

    /** Parses the 64-character lowercase hex form produced by {@link #hex()}. */
    public static SeedCommitment fromHex(String hex) {
        return new SeedCommitment(HexFormat.of().parseHex(hex));
    }

    /** The 32-byte MAC as lowercase hex. */
    public String hex() {
        return HexFormat.of().formatHex(mac);
    }

    /** A copy of the 32 MAC bytes. */
    public byte[] toByteArray() {
        return mac.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SeedCommitment other && MessageDigest.isEqual(mac, other.mac);
    }

    @Override
    public int hashCode() {
        return (mac[0] & 0xFF) << 24 | (mac[1] & 0xFF) << 16 | (mac[2] & 0xFF) << 8 | (mac[3] & 0xFF);
    }

    @Override
    public String toString() {
        return "SeedCommitment[hmac-sha256:" + hex() + "]";
    }
}
