package dev.sampler.rng;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import org.bouncycastle.crypto.engines.AESEngine;
import org.bouncycastle.crypto.prng.EntropySource;
import org.bouncycastle.crypto.prng.drbg.CTRSP800DRBG;
import org.junit.jupiter.api.Test;

/**
 * Differential test against BouncyCastle's CTRSP800DRBG (AES-256, derivation function, pure-Java
 * AES) as an independent oracle: same entropy, nonce, personalization, additional inputs and
 * reseeds must give the same bytes. Inputs come from a fixed-seed SplittableRandom (test data
 * only, not a secret).
 */
class CtrDrbgBouncyCastleTest {

    /** Hands out queued entropy inputs, one per BC instantiate/reseed. */
    static final class QueuedEntropy implements EntropySource {
        final Deque<byte[]> queue = new ArrayDeque<>();

        @Override
        public boolean isPredictionResistant() {
            return false;
        }

        @Override
        public byte[] getEntropy() {
            return queue.removeFirst();
        }

        @Override
        public int entropySize() {
            return 256;
        }
    }

    private static byte[] bytes(SplittableRandom r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    @Test
    void generate_randomInputsAndReseeds_matchesBouncyCastleByteForByte() throws Exception {
        SplittableRandom r = new SplittableRandom(0x5eed_0001L);
        List<String> failures = new ArrayList<>();
        HexFormat hex = HexFormat.of();
        for (int instance = 0; instance < 40; instance++) {
            byte[] entropy = bytes(r, 32 + r.nextInt(33));
            byte[] nonce = bytes(r, 16 + r.nextInt(17));
            byte[] ps = bytes(r, r.nextInt(3) == 0 ? 0 : r.nextInt(1, 120));
            QueuedEntropy source = new QueuedEntropy();
            source.queue.add(entropy);
            CTRSP800DRBG bc = new CTRSP800DRBG(AESEngine.newInstance(), 256, 256, source, ps, nonce);
            try (CtrDrbg ours = CtrDrbg.instantiate(CtrDrbg.Config.of(CtrDrbg.DerivationFunction.USE_DF),
                    entropy, nonce, ps)) {
                for (int step = 0; step < 12; step++) {
                    if (r.nextInt(4) == 0) {
                        byte[] reseedEntropy = bytes(r, 32 + r.nextInt(33));
                        byte[] ai = r.nextBoolean() ? null : bytes(r, r.nextInt(1, 100));
                        source.queue.add(reseedEntropy);
                        bc.reseed(ai);
                        ours.reseed(reseedEntropy, ai);
                        continue;
                    }
                    // BC caps a request at 2^18 bits; odd lengths exercise the partial last block.
                    int len = r.nextInt(4) == 0 ? 32768 : r.nextInt(1, 5000);
                    byte[] ai = r.nextBoolean() ? null : bytes(r, r.nextInt(1, 100));
                    byte[] expected = new byte[len];
                    int bits = bc.generate(expected, ai, false);
                    byte[] actual = ours.generate(len, ai);
                    if (bits != len * 8 || !java.util.Arrays.equals(expected, actual)) {
                        failures.add("instance " + instance + " step " + step + " len " + len + ": expected "
                                + hex.formatHex(expected, 0, Math.min(len, 16)) + ".. got "
                                + hex.formatHex(actual, 0, Math.min(len, 16)) + "..");
                    }
                }
            }
        }
        assertEquals(List.of(), failures);
    }
}
