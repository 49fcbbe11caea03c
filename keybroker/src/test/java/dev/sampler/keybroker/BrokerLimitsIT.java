package dev.sampler.keybroker;

import static dev.sampler.keybroker.KeyBrokerProtocolIT.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sampler.attestation.SampleEvidenceProvider;
import dev.sampler.attestation.TeeKeyPair;
import dev.sampler.attestation.kbs.KbsClient;
import dev.sampler.attestation.kbs.KbsException;
import dev.sampler.attestation.kbs.ResourceId;
import dev.sampler.keybroker.testing.BrokerProcess;
import dev.sampler.keybroker.testing.RawKbs;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Brokers started with settings that make a limit easy to reach: no --allow-sample-tee, a short
 * session timeout, a tiny rate limit and session table. Each is its own process.
 */
class BrokerLimitsIT {
  private static final String KEYS = "sampler/model/demo "
      + Base64.getEncoder().encodeToString(KeyBrokerProtocolIT.bytes(32, 3)) + "\n";

  @Test
  void attest_sampleTeeWithoutFlag_refused(@TempDir Path dir) throws Exception {
    try (BrokerProcess broker = BrokerProcess.serve(dir, List.of("--policy", KeyBrokerProtocolIT.policy().toString(),
        "--keystore", "dev-software"), Map.of(), KEYS);
        KbsClient client = new KbsClient(broker.base(), new SampleEvidenceProvider(true), Duration.ofSeconds(20));
        RawKbs raw = new RawKbs(broker.base())) {
      KbsException e = assertThrows(KbsException.class,
          () -> client.fetchResource(new ResourceId("sampler", "model", "demo")));
      assertEquals(KbsException.Step.ATTEST, e.step());
      assertEquals(401, e.httpStatus());
      assertEquals("AttestationError", e.errorType());
      TeeKeyPair keys = TeeKeyPair.generate();
      RawKbs.Challenge c = raw.auth("sample");
      assertRefused(raw.post("/attest", RawKbs.attestation(c.nonce(), keys.publicJwk()), c.cookie()), 401,
          "AttestationError", "tee 'sample' is refused: this broker was started without --allow-sample-tee (sample"
              + " evidence is unsigned and proves nothing; development only)");
      assertTrue(!broker.stderr().contains("INSECURE: --allow-sample-tee"));
    }
  }

  @Test
  void attest_sessionExpired_refused(@TempDir Path dir) throws Exception {
    try (BrokerProcess broker = BrokerProcess.serve(dir, List.of("--policy", KeyBrokerProtocolIT.policy().toString(),
        "--keystore", "dev-software", "--allow-sample-tee", "--session-timeout", "1s"), Map.of(), KEYS);
        RawKbs raw = new RawKbs(broker.base())) {
      TeeKeyPair keys = TeeKeyPair.generate();
      RawKbs.Challenge c = raw.auth("sample");
      String expires = raw.post("/auth", "{\"version\":\"0.4.0\",\"tee\":\"sample\"}", null).response().headers()
          .firstValue("set-cookie").orElseThrow();
      assertTrue(expires.matches("kbs-session-id=[0-9a-f]{32}; Expires=\\w{3}, \\d{1,2} \\w{3} \\d{4} [0-9:]{8} GMT"),
          expires);
      Thread.sleep(1500); // past the 1 s lifetime
      assertRefused(raw.post("/attest", RawKbs.attestation(c.nonce(), keys.publicJwk()), c.cookie()), 401,
          "AttestationError", "session expired (sessions last 1 s): POST /kbs/v0/auth again");
    }
  }

  @Test
  void requests_overRateLimitAndSessionCap_get429WithRetryAfter(@TempDir Path dir) throws Exception {
    try (BrokerProcess broker = BrokerProcess.serve(dir, List.of("--policy", KeyBrokerProtocolIT.policy().toString(),
        "--keystore", "dev-software", "--allow-sample-tee", "--rate-limit-burst", "3", "--rate-limit-per-minute", "1",
        "--max-sessions", "2"), Map.of(), KEYS);
        RawKbs raw = new RawKbs(broker.base())) {
      raw.auth("sample");
      raw.auth("sample");
      RawKbs.Reply full = raw.post("/auth", "{\"version\":\"0.4.0\",\"tee\":\"sample\"}", null);
      assertRefused(full, 429, "TooManyRequests", "session table is full (2 live sessions); retry later");
      assertEquals("300", full.response().headers().firstValue("retry-after").orElseThrow());
      RawKbs.Reply limited = raw.post("/auth", "{\"version\":\"0.4.0\",\"tee\":\"sample\"}", null);
      assertEquals(429, limited.status(), limited.body());
      assertEquals("TooManyRequests", limited.variant());
      long retry = Long.parseLong(limited.response().headers().firstValue("retry-after").orElseThrow());
      assertTrue(retry >= 1 && retry <= 60, "Retry-After " + retry);
      assertEquals("too many requests from this address; retry after " + retry + " s", limited.detail());
      assertEquals(429, raw.get("/resource/sampler/model/demo", null, null).status(), "every /kbs path is limited");
      assertEquals(200, raw.getAbsolute("/health").status(), "health checks are not rate limited");
      broker.close();
      long rateLines = broker.stderr().lines().filter(l -> l.contains("\"event\":\"rate-limit\"")).count();
      assertEquals(1, rateLines, "one audit line per run of refusals:\n" + broker.stderr());
    }
  }
}
