package dev.sampler.server.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Test certificates made with the JDK's keytool at test time (EC P-256): a trusted CA, an
 * untrusted CA, a server certificate for 127.0.0.1/localhost, and client certificates with the
 * subject alternative names the identity rules read. Leaf keys and their certificate requests are
 * made in Java; keytool makes the CAs and signs. Generated once per test JVM into a temporary
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

  /** The shared PKI (made on first use: 8 keytool runs). */
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
    leaf("ca", "server", "localhost", "san=ip:127.0.0.1,dns:localhost", "serverAuth");
    leaf("ca", "alice", "alice", "san=uri:spiffe://" + TRUST_DOMAIN + "/tenant/alice", "clientAuth");
    leaf("ca", "bob", "bob", "san=dns:bob" + DNS_SUFFIX, "clientAuth");
    leaf("ca", "anonymous", "alice", "san=dns:someone.example.org", "clientAuth");
    leaf("ca", "gateway", "gateway", "san=uri:" + GATEWAY_ID, "clientAuth");
    leaf("other-ca", "untrusted", "alice", "san=uri:spiffe://" + TRUST_DOMAIN + "/tenant/alice", "clientAuth");
  }

  private void ca(String name, String dname) throws IOException, InterruptedException {
    keytool("-genkeypair", "-alias", "key", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", dname,
        "-ext", "bc:c", "-ext", "ku:c=keyCertSign,cRLSign", "-validity", "3", "-keystore", store(name));
    try (InputStream in = Files.newInputStream(Path.of(store(name)))) {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(in, PASS.toCharArray());
      Files.writeString(dir.resolve(name + ".crt"), pem("CERTIFICATE", ks.getCertificate("key").getEncoded()));
    } catch (GeneralSecurityException e) {
      throw new IOException(e);
    }
  }

  private void leaf(String ca, String name, String cn, String san, String eku)
      throws IOException, InterruptedException {
    // The key pair and the certificate request are made here (a PKCS#10 request is a few lines of
    // DER), so keytool runs once per leaf, only to sign: test set-up stays a few seconds.
    KeyPair pair;
    byte[] csr;
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      pair = g.generateKeyPair();
      csr = certificationRequest(cn, pair);
    } catch (GeneralSecurityException e) {
      throw new IOException(e);
    }
    Path req = dir.resolve(name + ".csr");
    Files.writeString(req, pem("NEW CERTIFICATE REQUEST", csr));
    Path crt = dir.resolve(name + ".crt");
    keytool("-gencert", "-rfc", "-alias", "key", "-keystore", store(ca), "-infile", req.toString(), "-outfile",
        crt.toString(), "-validity", "3", "-ext", san, "-ext", "eku=" + eku, "-ext", "ku=digitalSignature");
    // Chain file: leaf then CA, as a server or client presents it.
    Files.writeString(crt, Files.readString(crt) + Files.readString(dir.resolve(ca + ".crt")));
    Files.writeString(dir.resolve(name + ".key"), pem("PRIVATE KEY", pair.getPrivate().getEncoded()));
  }

  /** A DER PKCS#10 CertificationRequest for subject CN={@code cn}, signed with ECDSA-SHA256. */
  static byte[] certificationRequest(String cn, KeyPair pair) throws GeneralSecurityException {
    byte[] name = seq(set(seq(oid(2, 5, 4, 3), tlv(0x0c, cn.getBytes(StandardCharsets.UTF_8)))));
    byte[] info = seq(tlv(0x02, new byte[] {0}), name, pair.getPublic().getEncoded(), tlv(0xa0, new byte[0]));
    Signature signer = Signature.getInstance("SHA256withECDSA");
    signer.initSign(pair.getPrivate());
    signer.update(info);
    byte[] sig = signer.sign();
    byte[] bits = new byte[sig.length + 1];
    System.arraycopy(sig, 0, bits, 1, sig.length);
    return seq(info, seq(oid(1, 2, 840, 10045, 4, 3, 2)), tlv(0x03, bits));
  }

  private static byte[] seq(byte[]... parts) {
    return tlv(0x30, concat(parts));
  }

  private static byte[] set(byte[]... parts) {
    return tlv(0x31, concat(parts));
  }

  private static byte[] oid(int... arcs) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(40 * arcs[0] + arcs[1]);
    for (int i = 2; i < arcs.length; i++) {
      int v = arcs[i];
      int n = 0;
      byte[] tmp = new byte[5];
      do {
        tmp[n++] = (byte) (v & 0x7f);
        v >>>= 7;
      } while (v != 0);
      for (int k = n - 1; k >= 0; k--) {
        out.write(tmp[k] | (k > 0 ? 0x80 : 0));
      }
    }
    return tlv(0x06, out.toByteArray());
  }

  private static byte[] tlv(int tag, byte[] content) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(tag);
    int len = content.length;
    if (len < 0x80) {
      out.write(len);
    } else if (len < 0x100) {
      out.write(0x81);
      out.write(len);
    } else {
      out.write(0x82);
      out.write(len >>> 8);
      out.write(len & 0xff);
    }
    out.writeBytes(content);
    return out.toByteArray();
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
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
