package dev.sampler.attestation.jcs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.attestation.testing.Vectors;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** RFC 8785 examples (sections 3.2.2, 3.2.3, Appendix B) and the RCAR binding fixture. */
class JcsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static String canon(JsonNode n) {
    return new String(Jcs.canonicalize(n), StandardCharsets.UTF_8);
  }

  @Test
  void canonicalize_rfc8785Section322Example_matchesPublishedOutput() {
    JsonNode in = Vectors.json("rfc8785/example-3.2.2-in.json");
    assertEquals(Vectors.text("rfc8785/example-3.2.2-out.json"), canon(in));
  }

  @Test
  void canonicalize_rfc8785SortingExample_sortsByUtf16CodeUnits() {
    JsonNode in = Vectors.json("rfc8785/sorting-3.2.3-in.json");
    assertEquals(Vectors.text("rfc8785/sorting-3.2.3-out.json"), canon(in));
  }

  @Test
  void ecmaScriptNumber_rfc8785AppendixB_allRowsMatch() {
    List<String> failures = new ArrayList<>();
    int finite = 0;
    for (String line : Vectors.text("rfc8785/appendix-b-numbers.txt").split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      String[] f = line.trim().split(" ");
      double d = Double.longBitsToDouble(Long.parseUnsignedLong(f[0], 16));
      if (f[1].equals("NaN") || f[1].equals("Infinity")) {
        try {
          Jcs.ecmaScriptNumber(d);
          failures.add(f[0] + ": expected rejection");
        } catch (IllegalArgumentException expected) {
          // as RFC 8785 requires
        }
        continue;
      }
      finite++;
      String got = Jcs.ecmaScriptNumber(d);
      if (!got.equals(f[1])) {
        failures.add(f[0] + ": got " + got + ", want " + f[1]);
      }
      // The same value through a parsed JSON node (DoubleNode) must agree.
      String viaNode = canon(JsonNodeFactory.instance.numberNode(d));
      if (!viaNode.equals(f[1])) {
        failures.add(f[0] + " via node: got " + viaNode);
      }
    }
    assertEquals(24, finite);
    assertEquals(List.of(), failures);
  }

  @Test
  void canonicalize_integersAndBigNumbers_followEcmaScript() {
    JsonNodeFactory f = JsonNodeFactory.instance;
    assertEquals("[0,-1,9007199254740992,1e+21,1.2345678901234568e+29,0.5,100]",
        canon(f.arrayNode()
            .add(f.numberNode(0))
            .add(f.numberNode(-1L))
            .add(f.numberNode(9007199254740992L))
            .add(f.numberNode(new BigInteger("1000000000000000000000")))
            .add(f.numberNode(new BigInteger("123456789012345678901234567890")))
            .add(f.numberNode(new BigDecimal("0.50")))
            .add(f.numberNode(new BigDecimal("1E2")))));
  }

  @Test
  void canonicalize_controlCharacters_lowercaseUnicodeEscapes() {
    ObjectNode o = JSON.createObjectNode();
    o.put("s", "\u0000\u001f\u007f\u2028\t\"\\/");
    assertEquals("{\"s\":\"\\u0000\\u001f\u007f\u2028\\t\\\"\\\\/\"}", canon(o));
  }

  @Test
  void canonicalize_nestedObjects_sortedAtEveryLevelWithoutWhitespace() throws Exception {
    JsonNode in = JSON.readTree("{ \"b\" : [ {\"z\":1, \"a\":null} ], \"a\" : {\"d\":true,\"c\":false} }");
    assertEquals("{\"a\":{\"c\":false,\"d\":true},\"b\":[{\"a\":null,\"z\":1}]}", canon(in));
  }

  @Test
  void canonicalize_nan_failsNamingPath() {
    ObjectNode o = JSON.createObjectNode();
    o.putArray("n").add(Double.NaN);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Jcs.canonicalize(o));
    assertEquals("JCS: number at $.n[0] is not finite as an IEEE 754 double (RFC 8785 section 3.2.2.3)", e.getMessage());
  }

  @Test
  void canonicalize_unpairedSurrogate_fails() {
    ObjectNode o = JSON.createObjectNode();
    o.put("s", "a\ud800b");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Jcs.canonicalize(o));
    assertEquals("JCS: string at $.s has an unpaired surrogate", e.getMessage());
  }

  @Test
  void canonicalize_rcarRuntimeData_matchesFixtureCanonicalJson() {
    JsonNode v = Vectors.rcar().get("rcar_sample");
    JsonNode rd = v.get("attestation").get("runtime-data");
    ObjectNode input = JSON.createObjectNode(); // deliberately not in sorted order
    input.set("tee-pubkey", rd.get("tee-pubkey"));
    input.put("nonce", rd.get("nonce").textValue());
    input.put("additional-evidence", "");
    String expected = v.get("primary_runtime_data_canonical_json").textValue();
    assertEquals(expected, canon(input));
    assertTrue(expected.startsWith("{\"additional-evidence\""));
  }
}
