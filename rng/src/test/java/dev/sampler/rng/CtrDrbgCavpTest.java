package dev.sampler.rng;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * NIST CAVP CTR_DRBG vectors, drbgvectors_pr_false/CTR_DRBG.rsp, sections [AES-256 use df] and
 * [AES-256 no df] (see the first line of the resource for provenance). CAVP procedure per record:
 * instantiate, reseed, generate, generate; the second output must equal ReturnedBits.
 */
class CtrDrbgCavpTest {

    private static final String RESOURCE = "/vectors/CTR_DRBG_pr_false_AES-256.rsp";
    private static final HexFormat HEX = HexFormat.of();

    record Vector(String section, String count, Map<String, String> params, Map<String, List<String>> fields) {
        byte[] one(String name) {
            List<String> v = fields.get(name);
            return v == null ? new byte[0] : HEX.parseHex(v.get(0));
        }

        byte[] nth(String name, int i) {
            return HEX.parseHex(fields.get(name).get(i));
        }

        @Override
        public String toString() {
            return section + " " + params + " COUNT=" + count;
        }
    }

    static List<Vector> parse() throws IOException {
        List<Vector> out = new ArrayList<>();
        try (InputStream in = CtrDrbgCavpTest.class.getResourceAsStream(RESOURCE);
                BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII))) {
            String section = null;
            Map<String, String> params = new LinkedHashMap<>();
            String count = null;
            Map<String, List<String>> fields = null;
            String line;
            while ((line = r.readLine()) != null) {
                line = line.strip();
                if (line.startsWith("#")) {
                    continue;
                }
                if (line.isEmpty()) {
                    if (fields != null) {
                        out.add(new Vector(section, count, Map.copyOf(params), fields));
                        fields = null;
                    }
                    continue;
                }
                if (line.startsWith("[")) {
                    String inner = line.substring(1, line.length() - 1);
                    int eq = inner.indexOf('=');
                    if (eq < 0) {
                        section = inner;
                        params.clear();
                    } else {
                        params.put(inner.substring(0, eq).strip(), inner.substring(eq + 1).strip());
                    }
                    continue;
                }
                int eq = line.indexOf('=');
                String key = line.substring(0, eq).strip();
                String value = line.substring(eq + 1).strip();
                if (key.equals("COUNT")) {
                    count = value;
                    fields = new LinkedHashMap<>();
                } else {
                    fields.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
                }
            }
            if (fields != null) {
                out.add(new Vector(section, count, Map.copyOf(params), fields));
            }
        }
        return out;
    }

    @Test
    void cavp_aes256UseDfAndNoDf_allSecondGenerateOutputsMatch() throws Exception {
        List<Vector> vectors = parse();
        List<String> failures = new ArrayList<>();
        int useDf = 0;
        int noDf = 0;
        for (Vector v : vectors) {
            CtrDrbg.DerivationFunction df = switch (v.section()) {
                case "AES-256 use df" -> CtrDrbg.DerivationFunction.USE_DF;
                case "AES-256 no df" -> CtrDrbg.DerivationFunction.NO_DF;
                default -> throw new AssertionError("unexpected section " + v.section());
            };
            if (!"False".equals(v.params().get("PredictionResistance"))) {
                throw new AssertionError("prediction resistance vectors are out of scope: " + v);
            }
            if (df == CtrDrbg.DerivationFunction.USE_DF) {
                useDf++;
            } else {
                noDf++;
            }
            try (CtrDrbg drbg = CtrDrbg.instantiate(CtrDrbg.Config.of(df),
                    v.one("EntropyInput"), v.one("Nonce"), v.one("PersonalizationString"))) {
                drbg.reseed(v.one("EntropyInputReseed"), v.one("AdditionalInputReseed"));
                byte[] expected = v.one("ReturnedBits");
                drbg.generate(expected.length, v.nth("AdditionalInput", 0));
                byte[] actual = drbg.generate(expected.length, v.nth("AdditionalInput", 1));
                if (!HEX.formatHex(actual).equals(HEX.formatHex(expected))) {
                    failures.add(v + ": got " + HEX.formatHex(actual));
                }
            } catch (RuntimeException e) {
                failures.add(v + ": threw " + e);
            }
        }
        assertEquals(List.of(), failures);
        assertEquals(240, useDf, "[AES-256 use df] records");
        assertEquals(240, noDf, "[AES-256 no df] records");
    }
}
