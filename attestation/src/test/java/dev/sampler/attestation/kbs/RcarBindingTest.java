package dev.sampler.attestation.kbs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sampler.attestation.AttestationException;
import dev.sampler.attestation.testing.Vectors;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/** The RCAR binding and the sample verifier against the generated rcar_sample exchange. */
class RcarBindingTest {
  private static final JsonNode V = Vectors.rcar().get("rcar_sample");

  private static String nonce() {
    return V.get("challenge").get("nonce").textValue();
  }

  private static JsonNode teePubkey() {
    return V.get("attestation").get("runtime-data").get("tee-pubkey");
  }

  @Test
  void canonicalInput_fixture_matchesCanonicalJson() {
    assertEquals(V.get("primary_runtime_data_canonical_json").textValue(),
        new String(RcarBinding.canonicalInput(nonce(), teePubkey(), ""), StandardCharsets.UTF_8));
  }

  @Test
  void reportData_fixture_matchesSha384() {
    byte[] rd = RcarBinding.reportData(nonce(), teePubkey(), "", "sha384");
    assertEquals(V.get("report_data_sha384_hex").textValue(), Vectors.hex(rd));
    assertEquals(V.get("report_data_sha384_b64").textValue(), Base64.getEncoder().encodeToString(rd));
    assertArrayEquals(rd, RcarBinding.reportData(nonce(), teePubkey()));
    assertArrayEquals(rd, RcarBinding.reportData(nonce(), teePubkey(), "", null));
  }

  @Test
  void reportData_sha512ForSe_hashesSameInput() throws Exception {
    byte[] expected = MessageDigest.getInstance("SHA-512")
        .digest(V.get("primary_runtime_data_canonical_json").textValue().getBytes(StandardCharsets.UTF_8));
    assertArrayEquals(expected, RcarBinding.reportData(nonce(), teePubkey(), "", "SHA512"));
  }

  @Test
  void reportData_sm3_refused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> RcarBinding.reportData(nonce(), teePubkey(), "", "sm3"));
    assertEquals("RCAR binding: hash algorithm is not supported (allowed: sha256, sha384, sha512)", e.getMessage());
  }

  @Test
  void verify_fixtureEvidence_givesUpstreamClaims() throws Exception {
    JsonNode ev = V.get("attestation").get("tee-evidence").get("primary_evidence");
    JsonNode claims = SampleVerifier.verify(ev, RcarBinding.reportData(nonce(), teePubkey()));
    assertEquals("{\"svn\":\"1\",\"report_data\":\"" + V.get("report_data_sha384_b64").textValue()
        + "\",\"launch_digest\":\"abcde\",\"platform_version\":{\"major\":1,\"minor\":4},\"debug\":false}",
        claims.toString());
  }

  @Test
  void verify_evidenceBoundToAnotherNonce_fails() {
    JsonNode ev = V.get("attestation").get("tee-evidence").get("primary_evidence");
    byte[] other = RcarBinding.reportData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", teePubkey());
    AttestationException e = assertThrows(AttestationException.class, () -> SampleVerifier.verify(ev, other));
    assertEquals("sample evidence: report_data does not match the expected binding digest"
        + " (evidence bound to another nonce or key)", e.getMessage());
  }

  @Test
  void verify_paddedWithZeros_failsExactMatch() throws Exception {
    byte[] rd = RcarBinding.reportData(nonce(), teePubkey());
    byte[] padded = java.util.Arrays.copyOf(rd, 64);
    JsonNode ev = new dev.sampler.attestation.SampleEvidenceProvider(true).evidence(padded);
    assertThrows(AttestationException.class, () -> SampleVerifier.verify(ev, rd));
  }

  @Test
  void verify_missingSvnOrBadBase64_failsNamingMember() throws Exception {
    com.fasterxml.jackson.databind.ObjectMapper m = new com.fasterxml.jackson.databind.ObjectMapper();
    AttestationException e = assertThrows(AttestationException.class,
        () -> SampleVerifier.verify(m.readTree("{\"report_data\":\"\"}"), new byte[0]));
    assertEquals("sample evidence: svn is missing or not a string", e.getMessage());
    e = assertThrows(AttestationException.class,
        () -> SampleVerifier.verify(m.readTree("{\"svn\":\"1\",\"report_data\":\"***\"}"), new byte[0]));
    assertEquals("sample evidence: report_data is not standard base64", e.getMessage());
  }

  @Test
  void attestationRecord_fixtureBody_roundTripsExactly() throws Exception {
    JsonNode body = V.get("attestation");
    Attestation a = Attestation.fromJson(body);
    assertEquals(body, a.toJson());
    assertEquals(body.toString(), a.toJson().toString()); // same member order
    assertEquals(nonce(), a.runtimeData().nonce());
    assertEquals("", a.teeEvidence().additionalEvidence());
  }

  @Test
  void requestRecord_fixture_parsesAndOfMatchesShape() throws Exception {
    Request r = Request.fromJson(V.get("request"));
    assertEquals("0.4.0", r.version());
    assertEquals("sample", r.tee());
    assertEquals("{\"version\":\"0.4.0\",\"tee\":\"sample\",\"extra-params\":{\"supported-hash-algorithms\":[\"sha256\",\"sha384\",\"sha512\"]}}",
        Request.of("sample").toJson().toString());
  }

  @Test
  void challengeRecord_fixture_defaultsToSha384() throws Exception {
    Challenge c = Challenge.fromJson(V.get("challenge"));
    assertEquals("sha384", c.hashAlgorithm());
    assertEquals(V.get("challenge"), c.toJson());
    com.fasterxml.jackson.databind.ObjectMapper m = new com.fasterxml.jackson.databind.ObjectMapper();
    assertEquals("sha512", Challenge.fromJson(
        m.readTree("{\"nonce\":\"n\",\"extra-params\":{\"selected-hash-algorithm\":\"SHA512\"}}")).hashAlgorithm());
  }

  @Test
  void errorInformation_variant_parsedOnlyFromKbsPrefix() {
    assertEquals("PolicyDeny", ErrorInformation.of("PolicyDeny", "Access denied by policy").variant().orElseThrow());
    assertEquals("{\"type\":\"https://github.com/confidential-containers/kbs/errors/PolicyDeny\",\"detail\":\"d\"}",
        ErrorInformation.of("PolicyDeny", "d").toJson().toString());
    assertEquals(java.util.Optional.empty(), new ErrorInformation("about:blank", "x").variant());
  }
}
