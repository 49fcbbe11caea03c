package dev.sampler.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code keygen}, {@code sign} and {@code verify} in-process, as a user runs them. */
class SigningCommandsTest {

  private static SamplerCliTest.Result run(String... args) {
    return SamplerCliTest.run(args);
  }

  private static Path model(Path tmp) throws Exception {
    Path m = Files.createDirectories(tmp.resolve("model/sub"));
    Files.writeString(m.resolve("weights.bin"), "weights");
    Files.writeString(m.getParent().resolve("config.json"), "{\"a\": 1}");
    Files.writeString(m.getParent().resolve("notes.txt"), "not part of the model");
    return m.getParent();
  }

  @Test
  void keygenSignVerify_roundTrip_succeedsAndNeverPrintsThePrivateKey(@TempDir Path tmp) throws Exception {
    Path m = model(tmp);
    Path key = tmp.resolve("k.pem");
    Path pub = tmp.resolve("k.pub.pem");
    SamplerCliTest.Result g = run("keygen", "--private-key", key.toString(), "--public-key", pub.toString(), "--curve", "P-384");
    assertEquals(0, g.code(), g.err());
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
    String body = Files.readString(key).replaceAll("-----[A-Z ]+-----|\\s", "");
    assertTrue(Base64.getDecoder().decode(body).length > 0);
    for (int i = 0; i + 16 <= body.length(); i += 16) {
      assertFalse(g.out().contains(body.substring(i, i + 16)) || g.err().contains(body.substring(i, i + 16)),
          "keygen printed part of the private key");
    }
    assertTrue(g.out().contains("curve:       P-384 (ECDSA with SHA-384)"), g.out());

    SamplerCliTest.Result s = run("sign", "--model", m.toString(), "--private-key", key.toString(),
        "--ignore-paths", m.resolve("notes.txt").toString());
    assertEquals(0, s.code(), s.err());
    assertTrue(Files.isRegularFile(m.resolve("model.sig")));
    assertTrue(s.out().contains("resources:   2"), s.out());

    SamplerCliTest.Result v = run("verify", "--model", m.toString(), "--public-key", pub.toString());
    assertEquals(0, v.code(), v.err());
    assertTrue(v.out().contains("method:      files (sha256, allow_symlinks false)"), v.out());
    assertTrue(v.out().contains("resources:   2"), v.out());
    assertTrue(v.out().contains("root digest: sha256:"), v.out());

    Files.writeString(m.resolve("config.json"), "{\"a\": 2}");
    SamplerCliTest.Result bad = run("verify", "--model", m.toString(), "--public-key", pub.toString());
    assertEquals(1, bad.code());
    assertTrue(bad.err().startsWith("error: " + m + ": the model does not match model.sig: 1 file differs: 'config.json'"),
        bad.err());
  }

  @Test
  void sign_shardSizeAndCustomSignaturePath_verifies(@TempDir Path tmp) throws Exception {
    Path m = model(tmp);
    Path key = tmp.resolve("k.pem");
    Path pub = tmp.resolve("k.pub.pem");
    assertEquals(0, run("keygen", "--private-key", key.toString(), "--public-key", pub.toString()).code());
    Path sig = tmp.resolve("elsewhere.sig");
    SamplerCliTest.Result s = run("sign", "--model", m.toString(), "--private-key", key.toString(),
        "--signature", sig.toString(), "--shard-size", "4", "--ignore-paths", "notes.txt");
    assertEquals(0, s.code(), s.err());
    SamplerCliTest.Result v = run("verify", "--model", m.toString(), "--public-key", pub.toString(),
        "--signature", sig.toString());
    assertEquals(0, v.code(), v.err());
    assertTrue(v.out().contains("method:      shards of 4 bytes (sha256, allow_symlinks false)"), v.out());
  }

  @Test
  void verify_wrongKey_failsNamingTheHint(@TempDir Path tmp) throws Exception {
    Path other = tmp.resolve("other.pub.pem");
    assertEquals(0, run("keygen", "--private-key", tmp.resolve("o.pem").toString(), "--public-key", other.toString()).code());
    SamplerCliTest.Result v = run("verify", "--model", SamplerCliTest.DEMO.toString(), "--public-key", other.toString());
    assertEquals(1, v.code());
    assertTrue(v.err().startsWith("error: model.sig: verificationMaterial.publicKey.hint "), v.err());
    assertTrue(v.err().contains("does not match the pinned key"), v.err());
  }

  @Test
  void verify_shippedDemoModel_succeeds() {
    SamplerCliTest.Result v = run("verify", "--model", SamplerCliTest.DEMO.toString(), "--public-key",
        SamplerCliTest.DEMO.resolve("signer.pub.pem").toString());
    assertEquals(0, v.code(), v.err());
    assertTrue(v.out().contains("resources:   7"), v.out());
  }

  @Test
  void keygen_existingFile_refusedWithUsageError(@TempDir Path tmp) throws Exception {
    Path key = tmp.resolve("k.pem");
    Files.writeString(key, "keep me");
    SamplerCliTest.Result g = run("keygen", "--private-key", key.toString(), "--public-key", tmp.resolve("p").toString());
    assertEquals(2, g.code());
    assertTrue(g.err().contains(key + " already exists; remove it first or choose another path"), g.err());
    assertEquals("keep me", Files.readString(key));
  }

  @Test
  void sign_ignorePathOutsideModel_refused(@TempDir Path tmp) throws Exception {
    Path m = model(tmp);
    SamplerCliTest.Result s = run("sign", "--model", m.toString(), "--private-key", tmp.resolve("none").toString(),
        "--ignore-paths", "/etc/passwd");
    assertEquals(2, s.code());
    assertTrue(s.err().contains("--ignore-paths '/etc/passwd' is not inside the model " + m), s.err());
  }

  @Test
  void help_signingCommands_describeTheirOptions() {
    for (List<String> c : List.of(List.of("keygen", "--curve"), List.of("sign", "--shard-size"), List.of("verify", "--public-key"))) {
      SamplerCliTest.Result r = run(c.get(0), "--help");
      assertEquals(0, r.code());
      assertTrue(r.out().contains(c.get(1)), r.out());
    }
  }
}
