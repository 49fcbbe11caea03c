package dev.sampler.attestation.kbs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sampler.attestation.SampleEvidenceProvider;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client over https on loopback: a throwaway self-signed certificate (made with the JDK's
 * keytool) trusted through {@link KbsClient#trustingCaCertificates}, and refused by the JDK's
 * default trust store.
 */
class KbsClientTlsTest {
  private static final ResourceId ID = ResourceId.parse("kbs:///default/key/tls-key");
  private static final byte[] SECRET = "tls resource".getBytes(StandardCharsets.US_ASCII);

  @TempDir static Path dir;
  private static SSLContext serverTls;
  private static Path caPem;

  @BeforeAll
  static void certificate() throws Exception {
    Path ks = dir.resolve("kbs.p12");
    caPem = dir.resolve("ca.pem");
    String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
    keytool(keytool, "-genkeypair", "-alias", "kbs", "-keyalg", "EC", "-groupname", "secp256r1",
        "-dname", "CN=127.0.0.1", "-ext", "san=ip:127.0.0.1", "-validity", "2",
        "-keystore", ks.toString(), "-storetype", "PKCS12", "-storepass", "test-only");
    keytool(keytool, "-exportcert", "-rfc", "-alias", "kbs", "-file", caPem.toString(),
        "-keystore", ks.toString(), "-storetype", "PKCS12", "-storepass", "test-only");
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(ks)) {
      store.load(in, "test-only".toCharArray());
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(store, "test-only".toCharArray());
    serverTls = SSLContext.getInstance("TLS");
    serverTls.init(kmf.getKeyManagers(), null, null);
  }

  private static void keytool(String... cmd) throws Exception {
    Process p = new ProcessBuilder(List.of(cmd)).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "keytool timed out");
    assertEquals(0, p.exitValue(), out);
  }

  @Test
  void fetchResource_httpsWithConfiguredCa_succeeds() throws Exception {
    try (SpecKbsServer kbs = new SpecKbsServer(serverTls)) {
      kbs.putResource(ID.path(), SECRET);
      try (KbsClient c = new KbsClient(kbs.base(), new SampleEvidenceProvider(true), Duration.ofSeconds(10),
          KbsClient.trustingCaCertificates(caPem))) {
        assertArrayEquals(SECRET, c.fetchResource(ID));
      }
    }
  }

  @Test
  void fetchResource_httpsUntrustedCertificate_failsAtConnect() throws Exception {
    try (SpecKbsServer kbs = new SpecKbsServer(serverTls)) {
      try (KbsClient c = new KbsClient(kbs.base(), new SampleEvidenceProvider(true), Duration.ofSeconds(10))) {
        KbsException e = assertThrows(KbsException.class, () -> c.fetchResource(ID));
        assertEquals(KbsException.Step.CONNECT, e.step());
        assertTrue(e.getMessage().startsWith("key broker at " + kbs.base() + " is not reachable: TLS handshake failed ("),
            e.getMessage());
      }
    }
  }
}
