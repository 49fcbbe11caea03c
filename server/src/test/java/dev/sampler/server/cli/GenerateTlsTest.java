package dev.sampler.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sampler.server.SamplerServer;
import dev.sampler.server.testing.Servers;
import dev.sampler.server.testing.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code generate --target} over TLS against a real server that requires client certificates:
 * the CLI's --ca, --cert and --key work, and each way a handshake or identity fails ends with the
 * exit code of its status class.
 */
class GenerateTlsTest {
  private static SamplerServer server;
  private static TestPki pki;

  @BeforeAll
  static void start() throws Exception {
    pki = TestPki.get();
    server = Servers.start(Servers.config("""
        grpc:
          host: 127.0.0.1
          port: 0
        tls:
          cert-chain: %s
          private-key: %s
          client-ca: %s
          client-auth: required
        identity:
          spiffe-trust-domain: %s
        """.formatted(pki.server().cert(), pki.server().key(), pki.ca(), TestPki.TRUST_DOMAIN)));
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  private static SamplerCliTest.Result generate(Path out, String... tls) {
    List<String> args = new ArrayList<>(List.of("generate", "--target", "localhost:" + server.grpcPort(),
        "--class", "3", "--steps", "2", "--out", out.toString(), "--deadline", "60s"));
    args.addAll(List.of(tls));
    return SamplerCliTest.run(args.toArray(String[]::new));
  }

  @Test
  void generateTarget_mtlsWithTrustedClientCertificate_writesTheImage(@TempDir Path tmp) throws Exception {
    SamplerCliTest.Result r = generate(tmp, "--ca", pki.ca().toString(), "--cert", pki.alice().cert().toString(),
        "--key", pki.alice().key().toString());
    assertEquals(0, r.code(), r.err());
    assertEquals(1, GenerateCommandTest.lines(r.out()).size(), r.out());
    assertTrue(Files.size(tmp.resolve("img-000-red-square.png")) > 0);
  }

  /**
   * Handshake failures are UNAVAILABLE (6); a verified certificate that names no tenant is
   * UNAUTHENTICATED (4); plaintext to the TLS port reads the server's TLS alert as a broken reply (8).
   */
  @Test
  void generateTarget_badClientCredentials_exitWithTheirStatusClass(@TempDir Path tmp) {
    record Case(String name, List<String> args, int code, String status) {}
    List<Case> cases = List.of(
        new Case("no client certificate", List.of("--ca", pki.ca().toString()), 6, "UNAVAILABLE"),
        new Case("server not trusted (JDK trust store)", List.of("--cert", pki.alice().cert().toString(),
            "--key", pki.alice().key().toString()), 6, "UNAVAILABLE"),
        new Case("client certificate from an untrusted CA", List.of("--ca", pki.ca().toString(),
            "--cert", pki.untrusted().cert().toString(), "--key", pki.untrusted().key().toString()), 6, "UNAVAILABLE"),
        // the TLS alert the server answers with is not an HTTP/2 frame: a reply that does not check out
        new Case("plaintext to a TLS port", List.of("--plaintext"), 8, "INTERNAL"),
        new Case("trusted certificate without a tenant", List.of("--ca", pki.ca().toString(),
            "--cert", pki.anonymous().cert().toString(), "--key", pki.anonymous().key().toString()), 4, "UNAUTHENTICATED"));
    List<String> failures = new ArrayList<>();
    for (Case c : cases) {
      SamplerCliTest.Result r = generate(tmp.resolve(c.name().replace(' ', '-')), c.args().toArray(String[]::new));
      if (r.code() != c.code() || !r.err().startsWith("error: " + c.status() + ": ")) {
        failures.add(c.name() + ": exit " + r.code() + ", stderr: " + r.err().strip());
      }
    }
    assertEquals(List.of(), failures);
  }
}
