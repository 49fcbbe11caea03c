package dev.sampler.server.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sampler.integrity.sealed.DataKey;
import dev.sampler.integrity.sealed.UnsealedBytes;
import dev.sampler.integrity.sealed.Unsealer;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sampler seal} in-process on the demo model. */
class SealCommandTest {
  static final Path DEMO = SamplerCliTest.DEMO;

  @TempDir Path tmp;

  static List<String> names(Path dir) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void seal_demoModelToKeyFile_sealsWeightsCopiesTheRestAndUnsealsWithTheKey() throws Exception {
    Path out = tmp.resolve("sealed");
    Path keyFile = tmp.resolve("model.key");
    SamplerCliTest.Result r = SamplerCliTest.run("seal", "--model", DEMO.toString(), "--out", out.toString(),
        "--key-out", keyFile.toString());
    assertEquals(0, r.code(), r.err());
    assertEquals("", r.out());
    assertEquals(List.of("classes.json", "config.json", "diffusion_pytorch_model.safetensors.sealed",
        "example-expected.safetensors.sealed", "example-input.safetensors.sealed", "model.sig", "scheduler_config.json",
        "signer.pub.pem"), names(out));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keyFile)));
    String keyText = Files.readString(keyFile);
    assertEquals(45, keyText.length());
    assertTrue(keyText.endsWith("\n"));
    assertFalse(r.err().contains(keyText.strip()), "key printed on stderr");
    assertTrue(r.err().contains("sealed  diffusion_pytorch_model.safetensors -> diffusion_pytorch_model.safetensors.sealed"
        + "  (4,684,028 -> 4,684,148 bytes, 5 segments)"), r.err());
    assertTrue(r.err().contains("copied  config.json  (864 bytes)"), r.err());
    assertTrue(r.err().startsWith("crypto: "), r.err());
    for (String copied : List.of("config.json", "model.sig", "signer.pub.pem")) {
      assertArrayEquals(Files.readAllBytes(DEMO.resolve(copied)), Files.readAllBytes(out.resolve(copied)), copied);
    }
    try (DataKey key = DataKey.fromBase64(keyText);
        UnsealedBytes u = Unsealer.unseal(out.resolve("diffusion_pytorch_model.safetensors.sealed"), key,
            "diffusion_pytorch_model.safetensors", 2)) {
      assertArrayEquals(Files.readAllBytes(DEMO.resolve("diffusion_pytorch_model.safetensors")),
          u.segment().toArray(ValueLayout.JAVA_BYTE));
    }
    assertEquals(List.of("model.key", "sealed"), names(tmp), "no temporary key file left behind");
  }

  @Test
  void seal_keyToStdout_printsOnlyTheKeyLine() throws Exception {
    Path out = tmp.resolve("sealed");
    SamplerCliTest.Result r = SamplerCliTest.run("seal", "--model", DEMO.toString(), "--out", out.toString(),
        "--key-out", "-");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().matches("[A-Za-z0-9+/]{43}=\n"), r.out());
    assertFalse(r.err().contains(r.out().strip()));
    assertTrue(r.err().contains("data key: written to stdout"), r.err());
    try (DataKey key = DataKey.fromBase64(r.out());
        UnsealedBytes u = Unsealer.unseal(out.resolve("example-input.safetensors.sealed"), key,
            "example-input.safetensors", 1)) {
      assertEquals(Files.size(DEMO.resolve("example-input.safetensors")), u.byteSize());
    }
  }

  @Test
  void seal_outputDirectoryExists_refused() throws Exception {
    Path out = Files.createDirectory(tmp.resolve("sealed"));
    SamplerCliTest.Result r = SamplerCliTest.run("seal", "--model", DEMO.toString(), "--out", out.toString(),
        "--key-out", tmp.resolve("k").toString());
    assertEquals(1, r.code());
    assertEquals("error: output directory already exists (refusing to overwrite): " + out + "\n", r.err());
    assertFalse(Files.exists(tmp.resolve("k")));
  }

  @Test
  void seal_keyFileExists_refusedBeforeSealingAnything() throws Exception {
    Path key = Files.writeString(tmp.resolve("k"), "old");
    Path out = tmp.resolve("sealed");
    SamplerCliTest.Result r = SamplerCliTest.run("seal", "--model", DEMO.toString(), "--out", out.toString(),
        "--key-out", key.toString());
    assertEquals(1, r.code());
    assertEquals("error: key file already exists (refusing to overwrite): " + key + "\n", r.err());
    assertEquals("old", Files.readString(key));
    assertFalse(Files.exists(out));
  }

  @Test
  void seal_keyFileInsideOutput_refusedAsTheDirectoryDoesNotExistYet() throws Exception {
    Path out = tmp.resolve("sealed");
    Path key = out.resolve("model.key");
    SamplerCliTest.Result r = SamplerCliTest.run("seal", "--model", DEMO.toString(), "--out", out.toString(),
        "--key-out", key.toString());
    assertEquals(1, r.code());
    assertEquals("error: key file's directory does not exist: " + out.toAbsolutePath() + "\n", r.err());
    assertFalse(Files.exists(out));
  }

  @Test
  void seal_noWeights_failsAndLeavesNothing() throws Exception {
    Path model = Files.createDirectory(tmp.resolve("m"));
    Files.writeString(model.resolve("config.json"), "{}");
    Path out = tmp.resolve("sealed");
    SamplerCliTest.Result r = SamplerCliTest.run("seal", "--model", model.toString(), "--out", out.toString(),
        "--key-out", "-");
    assertEquals(1, r.code());
    assertTrue(r.err().endsWith("error: no *.safetensors file in " + model + ": nothing to seal\n"), r.err());
    assertEquals("", r.out());
    assertFalse(Files.exists(out));
  }
}
