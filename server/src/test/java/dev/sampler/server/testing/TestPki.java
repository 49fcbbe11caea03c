package dev.sampler.server.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Test certificates made with the JDK's keytool at test time (EC P-256): a trusted CA, an
 * untrusted CA, a server certificate for 127.0.0.1/localhost, and client certificates with the
 * subject alternative names the identity rules read. Generated once per test JVM into a temporary
 * directory; nothing here is a real secret.
 */
public final class TestPki {
  /** The SPIFFE trust domain and DNS suffix the test servers are configured with. */
  public static final String TRUST_DOMAIN = "sampler.test";
  public static final String DNS_SUFFIX = ".tenants.sampler.test";
  public static final String GATEWAY_ID = "spiffe://sampler.test/gateway";

  private static TestPki instance;

  private final Path dir;

  /** A certificate and its private key as PEM files. */
  public record Pair(Path cert, Path key) {}

  private TestPki(Path dir) {
    this.dir = dir;
  }

  /** The shared PKI (made on first use, about 20 keytool runs). */
  public static synchronized TestPki get() {
    if (instance == null) {
      try {
        Path dir = Files.createTempDirectory("sampler-test-pki");
        TestPki pki = new TestPki(dir);
        pki.make();
        instance = pki;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    return instance;
  }

  /** The trusted CA's certificate (PEM). */
  public Path ca() {
    return dir.resolve("ca.crt");
  }

  /** The server's certificate chain and key (SAN IP:127.0.0.1, DNS:localhost). */
  public Pair server() {
    return pair("server");
  }

  /** A client named by a SPIFFE URI SAN: tenant {@code alice}. */
  public Pair alice() {
    return pair("alice");
  }

  /** A client named by a DNS SAN: tenant {@code bob}. */
  public Pair bob() {
    return pair("bob");
  }

  /** A client certificate from the trusted CA with no tenant SAN. */
  public Pair anonymous() {
    return pair("anonymous");
  }

  /** The gateway's client certificate (URI SAN {@value #GATEWAY_ID}). */
  public Pair gateway() {
    return pair("gateway");
  }

  /** A client certificate naming tenant alice, signed by a CA the server does not trust. */
  public Pair untrusted() {
    return pair("untrusted");
  }

  private Pair pair(String name) {
    return new Pair(dir.resolve(name + ".crt"), dir.resolve(name + ".key"));
  }

  private void make() throws IOException, InterruptedException {
    ca("ca", "CN=Sampler Test CA");
    ca("other-ca", "CN=Untrusted Test CA");
    leaf("ca", "server", "CN=localhost", "san=ip:127.0.0.1,dns:localhost", "serverAuth");
    leaf("ca", "alice", "CN=alice", "san=uri:spiffe://" + TRUST_DOMAIN + "/tenant/alice", "clientAuth");
    leaf("ca", "bob", "CN=bob", "san=dns:bob" + DNS_SUFFIX, "clientAuth");
    leaf("ca", "anonymous", "CN=alice", "san=dns:someone.example.org", "clientAuth");
    leaf("ca", "gateway", "CN=gateway", "san=uri:" + GATEWAY_ID, "clientAuth");
    leaf("other-ca", "untrusted", "CN=alice", "san=uri:spiffe://" + TRUST_DOMAIN + "/tenant/alice", "clientAuth");
  }

  private void ca(String name, String dname) throws IOException, InterruptedException {
    keytool("-genkeypair", "-alias", "key", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", dname,
        "-ext", "bc:c", "-ext", "ku:c=keyCertSign,cRLSign", "-validity", "3", "-keystore", store(name));
    keytool("-exportcert", "-rfc", "-alias", "key", "-keystore", store(name), "-file",
        dir.resolve(name + ".crt").toString());
  }

  private void leaf(String ca, String name, String dname, String san, String eku)
      throws IOException, InterruptedException {
    keytool("-genkeypair", "-alias", "key", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", dname,
        "-validity", "3", "-keystore", store(name));
    Path csr = dir.resolve(name + ".csr");
    keytool("-certreq", "-alias", "key", "-keystore", store(name), "-file", csr.toString());
    Path crt = dir.resolve(name + ".crt");
    keytool("-gencert", "-rfc", "-alias", "key", "-keystore", store(ca), "-infile", csr.toString(), "-outfile",
        crt.toString(), "-validity", "3", "-ext", san, "-ext", "eku=" + eku, "-ext", "ku=digitalSignature");
    // Chain file: leaf then CA, as a server or client presents it.
    Files.writeString(crt, Files.readString(crt) + Files.readString(dir.resolve(ca + ".crt")));
    writeKey(name);
  }

  private void writeKey(String name) throws IOException {
    try (InputStream in = Files.newInputStream(Path.of(store(name)))) {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(in, PASS.toCharArray());
      PrivateKey key = (PrivateKey) ks.getKey("key", PASS.toCharArray());
      Files.writeString(dir.resolve(name + ".key"), pem("PRIVATE KEY", key.getEncoded()));
    } catch (java.security.GeneralSecurityException e) {
      throw new IOException(e);
    }
  }

  /** PEM text of DER bytes. */
  public static String pem(String type, byte[] der) {
    String b64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
    return "-----BEGIN " + type + "-----\n" + b64 + "\n-----END " + type + "-----\n";
  }

  /** The leaf certificate of a PEM chain file. */
  public static Certificate leaf(Path chain) throws IOException {
    try (InputStream in = Files.newInputStream(chain)) {
      return java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in);
    } catch (java.security.cert.CertificateException e) {
      throw new IOException(e);
    }
  }

  private static final String PASS = "test-only";

  private String store(String name) {
    return dir.resolve(name + ".p12").toString();
  }

  private void keytool(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    cmd.addAll(List.of(args));
    cmd.addAll(List.of("-storepass", PASS, "-storetype", "PKCS12", "-noprompt"));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException("keytool " + String.join(" ", args) + " failed: " + output);
    }
  }
}
