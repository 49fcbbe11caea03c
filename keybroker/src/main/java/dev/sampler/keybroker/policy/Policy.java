package dev.sampler.keybroker.policy;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.sampler.keybroker.ResourcePath;
import dev.sampler.keybroker.Tees;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The broker's policy: which tees may attest, what their evidence must show, and which attested
 * tee may receive which resource. Read from a JSON file; every key is known (an unknown key, a
 * duplicate key or a missing required key is an error naming it).
 *
 * <pre>
 * {
 *   "id": "sampler-dev",                          // optional; recorded in tokens (default "default")
 *   "allowed-tees": ["sample"],                   // tees whose attestation is affirming
 *   "sample": {"allowed-svns": ["1"]},            // appraisal of sample evidence (needed if sample is allowed)
 *   "resources": {                                // exact paths; a resource without a rule is denied
 *     "sampler/model/demo": {
 *       "allowed-tees": ["sample"],               // subset of the top-level allowed-tees
 *       "required-claims": {"svn": ["1"]}         // optional: claim name -> allowed values (as strings)
 *     }
 *   }
 * }
 * </pre>
 *
 * @param id the policy id recorded as {@code ear.appraisal-policy-id}
 * @param allowedTees the tees whose attestation can be affirming
 * @param sample the appraisal rules for the sample tee, or null when sample is not allowed
 * @param resources rules by exact resource path
 */
public record Policy(
    @JsonProperty("id") String id,
    @JsonProperty("allowed-tees") List<String> allowedTees,
    @JsonProperty("sample") SampleRules sample,
    @JsonProperty("resources") Map<String, ResourceRule> resources) {

  private static final Pattern ID = Pattern.compile("[A-Za-z0-9_.:-]{1,64}");

  /**
   * Appraisal rules for sample evidence.
   *
   * @param allowedSvns the svn values (strings, as the sample attester sends them) accepted
   */
  public record SampleRules(@JsonProperty("allowed-svns") List<String> allowedSvns) {
    /** Validates. */
    public SampleRules {
      if (allowedSvns == null || allowedSvns.isEmpty()) {
        throw new IllegalArgumentException("sample.allowed-svns must be a non-empty list of strings");
      }
      allowedSvns = List.copyOf(allowedSvns);
    }
  }

  /**
   * Who may receive one resource.
   *
   * @param allowedTees the tees it may be released to
   * @param requiredClaims claim name to the values allowed (compared as strings); may be empty
   */
  public record ResourceRule(
      @JsonProperty("allowed-tees") List<String> allowedTees,
      @JsonProperty("required-claims") Map<String, List<String>> requiredClaims) {
    /** Validates. */
    public ResourceRule {
      if (allowedTees == null || allowedTees.isEmpty()) {
        throw new IllegalArgumentException("allowed-tees must be a non-empty list");
      }
      allowedTees.forEach(Policy::checkTee);
      allowedTees = List.copyOf(allowedTees);
      requiredClaims = requiredClaims == null ? new TreeMap<>() : new TreeMap<>(requiredClaims);
      requiredClaims.forEach((k, v) -> {
        if (v == null || v.isEmpty()) {
          throw new IllegalArgumentException("required-claims." + k + " must be a non-empty list of strings");
        }
      });
      requiredClaims.replaceAll((k, v) -> List.copyOf(v));
      requiredClaims = java.util.Collections.unmodifiableMap(requiredClaims);
    }
  }

  /** Validates the policy as a whole. */
  public Policy {
    id = id == null ? "default" : id;
    if (!ID.matcher(id).matches()) {
      throw new IllegalArgumentException("id must match " + ID.pattern());
    }
    if (allowedTees == null) {
      throw new IllegalArgumentException("allowed-tees is required (a list of tee names)");
    }
    allowedTees.forEach(Policy::checkTee);
    allowedTees = List.copyOf(allowedTees);
    if (allowedTees.contains(Tees.SAMPLE) && sample == null) {
      throw new IllegalArgumentException("allowed-tees contains sample, so a 'sample' section with allowed-svns is required");
    }
    resources = resources == null ? Map.of() : new TreeMap<>(resources);
    for (Map.Entry<String, ResourceRule> e : resources.entrySet()) {
      try {
        ResourcePath.parse(e.getKey());
      } catch (IllegalArgumentException ex) {
        throw new IllegalArgumentException("resources key '" + e.getKey() + "': " + ex.getMessage());
      }
      if (e.getValue() == null) {
        throw new IllegalArgumentException("resources." + e.getKey() + " must be an object");
      }
      for (String t : e.getValue().allowedTees()) {
        if (!allowedTees.contains(t)) {
          throw new IllegalArgumentException("resources." + e.getKey() + ".allowed-tees has '" + t
              + "', which the top-level allowed-tees does not allow");
        }
      }
    }
    resources = java.util.Collections.unmodifiableMap(resources);
  }

  /**
   * Reads and validates a policy file.
   *
   * @throws PolicyException naming the file and the offending key
   */
  public static Policy read(Path file) throws PolicyException {
    byte[] bytes;
    try {
      if (Files.size(file) > 1 << 20) {
        throw new PolicyException("policy " + file + " is larger than 1 MiB");
      }
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new PolicyException("policy " + file + " cannot be read: " + e.getMessage(), e);
    }
    return parse(bytes, file.toString());
  }

  /**
   * Parses and validates a policy from JSON bytes; {@code source} names it in messages.
   *
   * @throws PolicyException naming the offending key
   */
  public static Policy parse(byte[] json, String source) throws PolicyException {
    ObjectMapper m = JsonMapper.builder()
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
        .disable(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
        .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
        .build();
    m.coercionConfigDefaults().setAcceptBlankAsEmpty(false);
    try {
      JsonNode tree = m.readTree(json);
      if (tree == null || tree.isMissingNode()) {
        throw new PolicyException("policy " + source + " is empty");
      }
      // Unknown keys first: Jackson reports them only after a record's constructor has run, and
      // that constructor's complaint (a required key missing) would hide the misspelt key.
      checkKeys(tree, source);
      return m.treeToValue(tree, Policy.class);
    } catch (UnrecognizedPropertyException e) {
      throw new PolicyException("policy " + source + ": unknown key '" + e.getPropertyName() + "' at "
          + path(e) + " (known: " + e.getKnownPropertyIds() + ")", e);
    } catch (JsonProcessingException e) {
      Throwable c = e.getCause();
      String why = c instanceof IllegalArgumentException ? c.getMessage() : e.getOriginalMessage();
      throw new PolicyException("policy " + source + ": " + why + " (at " + path(e) + ")", e);
    } catch (IOException e) {
      throw new PolicyException("policy " + source + ": " + e.getMessage(), e);
    }
  }

  /**
   * The appraisal of an attestation: empty when {@code tee} is allowed and its claims meet the
   * tee's rules, else why not (without repeating claim values, which come from the client).
   */
  public Optional<String> appraise(String tee, JsonNode claims) {
    if (!allowedTees.contains(tee)) {
      return Optional.of("tee '" + tee + "' is not in the policy's allowed-tees");
    }
    if (Tees.SAMPLE.equals(tee)) {
      JsonNode svn = claims.path("svn");
      if (!svn.isValueNode() || !sample.allowedSvns().contains(svn.asText())) {
        return Optional.of("sample evidence svn is not one of the policy's sample.allowed-svns");
      }
    }
    return Optional.empty();
  }

  /**
   * Whether {@code resource} may go to an attested {@code tee} with {@code claims}: empty when it
   * may, else why not.
   */
  public Optional<String> authorize(String tee, JsonNode claims, ResourcePath resource) {
    Optional<String> appraisal = appraise(tee, claims);
    if (appraisal.isPresent()) {
      return appraisal;
    }
    ResourceRule rule = resources.get(resource.path());
    if (rule == null) {
      return Optional.of("the policy has no rule for this resource");
    }
    if (!rule.allowedTees().contains(tee)) {
      return Optional.of("the policy's rule for this resource does not allow tee '" + tee + "'");
    }
    for (Map.Entry<String, List<String>> e : rule.requiredClaims().entrySet()) {
      JsonNode v = claims.get(e.getKey());
      if (v == null || v.isNull()) {
        return Optional.of("claim '" + e.getKey() + "' required by the rule for this resource is missing");
      }
      if (!v.isValueNode() || !e.getValue().contains(v.asText())) {
        return Optional.of("claim '" + e.getKey() + "' is not one of the values the rule for this resource allows");
      }
    }
    return Optional.empty();
  }

  private static final List<String> TOP_KEYS = List.of("id", "allowed-tees", "sample", "resources");
  private static final List<String> SAMPLE_KEYS = List.of("allowed-svns");
  private static final List<String> RULE_KEYS = List.of("allowed-tees", "required-claims");

  private static void checkKeys(JsonNode tree, String source) throws PolicyException {
    if (!tree.isObject()) {
      throw new PolicyException("policy " + source + ": must be a JSON object");
    }
    known(tree, TOP_KEYS, "", source);
    if (tree.path("sample").isObject()) {
      known(tree.get("sample"), SAMPLE_KEYS, "sample.", source);
    }
    if (tree.path("resources").isObject()) {
      for (Map.Entry<String, JsonNode> e : tree.get("resources").properties()) {
        if (e.getValue().isObject()) {
          known(e.getValue(), RULE_KEYS, "resources." + e.getKey() + ".", source);
        }
      }
    }
  }

  private static void known(JsonNode n, List<String> keys, String at, String source) throws PolicyException {
    for (Map.Entry<String, JsonNode> e : n.properties()) {
      if (!keys.contains(e.getKey())) {
        throw new PolicyException("policy " + source + ": unknown key '" + e.getKey() + "' at " + at + e.getKey()
            + " (known: " + keys + ")");
      }
    }
  }

  private static void checkTee(String t) {
    if (!Tees.known(t)) {
      throw new IllegalArgumentException("tee '" + t + "' is not one of " + Tees.ALL);
    }
  }

  private static String path(JsonProcessingException e) {
    if (e instanceof com.fasterxml.jackson.databind.JsonMappingException jm && !jm.getPath().isEmpty()) {
      StringBuilder b = new StringBuilder();
      for (com.fasterxml.jackson.databind.JsonMappingException.Reference r : jm.getPath()) {
        if (r.getFieldName() != null) {
          b.append(b.isEmpty() ? "" : ".").append(r.getFieldName());
        } else if (r.getIndex() >= 0) {
          b.append('[').append(r.getIndex()).append(']');
        }
      }
      return b.isEmpty() ? "top level" : b.toString();
    }
    return e.getLocation() == null || e.getLocation().getLineNr() <= 0 ? "top level"
        : "line " + e.getLocation().getLineNr();
  }
}
