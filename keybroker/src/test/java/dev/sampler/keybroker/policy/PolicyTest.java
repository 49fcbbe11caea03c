package dev.sampler.keybroker.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.keybroker.ResourcePath;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PolicyTest {
  private static final String GOOD = """
      {
        "id": "dev",
        "allowed-tees": ["sample", "tdx"],
        "sample": {"allowed-svns": ["1"]},
        "resources": {
          "sampler/model/demo": {"allowed-tees": ["sample"], "required-claims": {"svn": ["1"], "debug": ["false"]}},
          "sampler/model/tdx": {"allowed-tees": ["tdx"]}
        }
      }
      """;

  private static Policy parse(String json) throws PolicyException {
    return Policy.parse(json.getBytes(StandardCharsets.UTF_8), "test.json");
  }

  private static String error(String json) {
    return assertThrows(PolicyException.class, () -> parse(json)).getMessage();
  }

  private static ObjectNode claims(String svn) {
    ObjectNode c = new ObjectMapper().createObjectNode();
    c.put("svn", svn);
    c.put("debug", false);
    return c;
  }

  @Test
  void parse_goodPolicy_typed() throws Exception {
    Policy p = parse(GOOD);
    assertEquals("dev", p.id());
    assertEquals(List.of("sample", "tdx"), p.allowedTees());
    assertEquals(Map.of("svn", List.of("1"), "debug", List.of("false")),
        p.resources().get("sampler/model/demo").requiredClaims());
    assertEquals("default", parse("{\"allowed-tees\":[]}").id());
  }

  @Test
  void parse_badPolicies_refusedNamingTheKey() {
    assertEquals("policy test.json: unknown key 'allowed_tees' at allowed_tees (known: [id, allowed-tees, sample,"
        + " resources])", error("{\"allowed_tees\":[\"sample\"]}"));
    assertEquals("policy test.json: unknown key 'allowed-svn' at sample.allowed-svn (known: [allowed-svns])",
        error("{\"allowed-tees\":[\"sample\"],\"sample\":{\"allowed-svn\":[\"1\"]}}"));
    assertEquals("policy test.json: allowed-tees is required (a list of tee names) (at top level)", error("{}"));
    assertEquals("policy test.json: tee 'sgx2' is not one of [az-snp-vtpm, az-tdx-vtpm, nvidia, sgx, snp, tdx, cca,"
        + " csv, se, hygondcu, dpu, tpm, sample, sampledevice] (at top level)", error("{\"allowed-tees\":[\"sgx2\"]}"));
    assertEquals("policy test.json: allowed-tees contains sample, so a 'sample' section with allowed-svns is required"
        + " (at top level)", error("{\"allowed-tees\":[\"sample\"]}"));
    assertEquals("policy test.json: resources.a/b/c.allowed-tees has 'snp', which the top-level allowed-tees does not"
        + " allow (at top level)", error("{\"allowed-tees\":[\"tdx\"],\"resources\":{\"a/b/c\":{\"allowed-tees\":"
        + "[\"snp\"]}}}"));
    assertEquals("policy test.json: resources key 'a/b': resource path must have exactly three segments repo/type/tag"
        + " (at top level)", error("{\"allowed-tees\":[\"tdx\"],\"resources\":{\"a/b\":{\"allowed-tees\":[\"tdx\"]}}}"));
    assertEquals(true, error("{\"allowed-tees\":[\"tdx\"],\"allowed-tees\":[\"tdx\"]}").contains("Duplicate field"));
    assertEquals(true, error("{\"allowed-tees\":\"tdx\"}").startsWith("policy test.json: "));
  }

  @Test
  void authorize_eachRule_decidesWithReason() throws Exception {
    Policy p = parse(GOOD);
    ResourcePath demo = ResourcePath.parse("sampler/model/demo");
    assertEquals(Optional.empty(), p.authorize("sample", claims("1"), demo));
    assertEquals(Optional.of("sample evidence svn is not one of the policy's sample.allowed-svns"),
        p.authorize("sample", claims("2"), demo));
    assertEquals(Optional.of("tee 'snp' is not in the policy's allowed-tees"), p.authorize("snp", claims("1"), demo));
    assertEquals(Optional.of("the policy's rule for this resource does not allow tee 'sample'"),
        p.authorize("sample", claims("1"), ResourcePath.parse("sampler/model/tdx")));
    assertEquals(Optional.of("the policy has no rule for this resource"),
        p.authorize("sample", claims("1"), ResourcePath.parse("sampler/model/other")));
    ObjectNode noDebug = claims("1");
    noDebug.remove("debug");
    assertEquals(Optional.of("claim 'debug' required by the rule for this resource is missing"),
        p.authorize("sample", noDebug, demo));
    ObjectNode debug = claims("1");
    debug.put("debug", true);
    assertEquals(Optional.of("claim 'debug' is not one of the values the rule for this resource allows"),
        p.authorize("sample", debug, demo));
  }
}
