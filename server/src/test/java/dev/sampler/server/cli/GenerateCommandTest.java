package dev.sampler.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code generate --local}, {@code schedule} and {@code demo} in-process, as a user runs them. */
class GenerateCommandTest {
  /** A public test seed; also the canary searched for in everything the commands emit. */
  static final String SEED = "5eed5eed5eed5eed0123456789abcdef";

  static List<JsonNode> lines(String out) throws Exception {
    ObjectMapper json = new ObjectMapper();
    List<JsonNode> l = new ArrayList<>();
    for (String line : out.split("\n")) {
      if (line.startsWith("{")) {
        l.add(json.readTree(line));
      }
    }
    return l;
  }

  static void assertNoSeedAnywhere(SamplerCliTest.Result r, Path dir) throws Exception {
    String[] forms = {SEED, SEED.toUpperCase(), SEED.substring(0, 16)};
    for (String f : forms) {
      assertFalse(r.out().contains(f), "seed in stdout");
      assertFalse(r.err().contains(f), "seed in stderr");
    }
    byte[] raw = java.util.HexFormat.of().parseHex(SEED);
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.filter(Files::isRegularFile).toList()) {
        byte[] b = Files.readAllBytes(p);
        String s = new String(b, StandardCharsets.ISO_8859_1);
        for (String f : forms) {
          assertFalse(s.contains(f), "seed (hex) in " + p);
        }
        assertFalse(s.contains(new String(raw, StandardCharsets.ISO_8859_1)), "seed (bytes) in " + p);
      }
    }
  }

  @Test
  void generate_sameSeedAndRequestId_sameImagesAndNoSeedInOutput(@TempDir Path tmp) throws Exception {
    List<List<String>> digests = new ArrayList<>();
    for (String run : List.of("a", "b")) {
      Path out = tmp.resolve(run);
      SamplerCliTest.Result r = SamplerCliTest.run("generate", "--local", "--model", SamplerCliTest.DEMO.toString(),
          "--class", "1,7", "--steps", "4", "--scheduler", "euler-ancestral", "--guidance", "3",
          "--seed-hex", SEED, "--request-id", "cli-test", "--threads", "2", "--out", out.toString());
      assertEquals(0, r.code(), r.err());
      List<JsonNode> meta = lines(r.out());
      assertEquals(2, meta.size(), r.out());
      List<String> d = new ArrayList<>();
      for (JsonNode m : meta) {
        assertEquals("euler-ancestral", m.get("scheduler").asText());
        assertEquals("EulerAncestralDiscreteScheduler", m.get("scheduler_class").asText());
        assertEquals(4, m.get("steps").asInt());
        assertEquals(3.0, m.get("guidance").asDouble());
        assertEquals("replay", m.get("noise").asText());
        assertEquals(64, m.get("seed_commitment").asText().length());
        assertEquals(64, m.get("model_sha256").asText().length());
        assertEquals(64, m.get("scheduler_config_sha256").asText().length());
        assertTrue(Files.exists(Path.of(m.get("file").asText())));
        d.add(m.get("png_sha256").asText());
      }
      assertEquals(List.of(1, 7), List.of(meta.get(0).get("class").asInt(), meta.get(1).get("class").asInt()));
      assertTrue(Files.exists(out.resolve("sheet.png")));
      assertNoSeedAnywhere(r, out);
      digests.add(d);
    }
    assertEquals(digests.get(0), digests.get(1), "replay must give the same PNG bytes");
  }

  @Test
  void generate_withoutSeed_usesOsEntropyAndNoCommitment(@TempDir Path tmp) throws Exception {
    SamplerCliTest.Result r = SamplerCliTest.run("generate", "--local", "--model", SamplerCliTest.DEMO.toString(),
        "--class", "0", "--steps", "2", "--scheduler", "ddim", "--out", tmp.toString(), "--threads", "2");
    assertEquals(0, r.code(), r.err());
    JsonNode m = lines(r.out()).get(0);
    assertEquals("os-entropy", m.get("noise").asText());
    assertFalse(m.has("seed_commitment"));
  }

  @Test
  void generate_badArguments_failWithPreciseMessages(@TempDir Path tmp) {
    String model = SamplerCliTest.DEMO.toString();
    record Case(List<String> args, int code, String message) {}
    List<Case> cases = List.of(
        new Case(List.of("--class", "0"), 2, "give exactly one of --target HOST:PORT (call a server) or --local"),
        new Case(List.of("--local", "--scheduler", "dpm"), 2, "unknown scheduler \"dpm\" (supported: ddpm, ddim,"),
        new Case(List.of("--local", "--class", "9"), 1, "class 9 is outside 0..8 (class 9 is the null class used for guidance)"),
        new Case(List.of("--local", "--class", "x"), 1, "--class: \"x\" is not a class number (or use 'all')"),
        new Case(List.of("--local", "--steps", "0"), 1, "steps must be 1..1000, got 0"),
        new Case(List.of("--local", "--guidance", "NaN"), 1, "guidance scale must be a finite number in 0..30, got NaN"),
        new Case(List.of("--local", "--count", "100"), 1, "at most 256 images per request, asked for 900"),
        new Case(List.of("--local", "--seed-hex", "abc"), 1, "the seed must be an even number of hex digits (value not shown)"),
        new Case(List.of("--local", "--seed-hex", "00112233"), 1, "the seed must have 32 to 128 hex digits (128 to 512 bits), got 8 digits"),
        new Case(List.of("--local", "--seed-hex", "zz112233445566778899aabbccddeeff"), 1, "(value not shown)"));
    List<String> failures = new ArrayList<>();
    for (Case c : cases) {
      List<String> args = new ArrayList<>(List.of("generate", "--model", model, "--out", tmp.toString()));
      args.addAll(c.args());
      if (!c.args().contains("--steps")) {
        args.addAll(List.of("--steps", "2"));
      }
      SamplerCliTest.Result r = SamplerCliTest.run(args.toArray(String[]::new));
      if (r.code() != c.code() || !r.err().contains(c.message())) {
        failures.add(c.args() + ": exit " + r.code() + ", stderr: " + r.err().strip());
      }
      if (r.err().contains("zz112233445566778899aabbccddeeff")) {
        failures.add(c.args() + ": the seed value was echoed");
      }
    }
    assertEquals(List.of(), failures);
  }

  @Test
  void schedule_demoConfig_printsDiffusersTimesteps() throws Exception {
    // Values printed by diffusers 58eb52c0's schedulers built with from_config(models/demo/scheduler_config.json)
    // and set_timesteps(5) (tools/diffusers_src.py import, Debian torch 1.13).
    SamplerCliTest.Result r = SamplerCliTest.run("schedule", "--config",
        SamplerCliTest.DEMO.resolve("scheduler_config.json").toString(), "--steps", "5", "--scheduler", "euler");
    assertEquals(0, r.code(), r.err());
    JsonNode j = new ObjectMapper().readTree(r.out());
    assertEquals("[801,601,401,201,1]", j.get("timesteps").toString());
    assertEquals("[3.1371963024139404,1.399937391281128,0.7426968812942505,0.3391987085342407,0.009351345710456371,0.0]",
        j.get("sigmas").toString());
    assertEquals(3.2927193641662598, j.get("init_noise_sigma").asDouble());
    SamplerCliTest.Result d = SamplerCliTest.run("schedule", "--config",
        SamplerCliTest.DEMO.resolve("scheduler_config.json").toString(), "--steps", "5", "--scheduler", "dpmpp-2m-karras");
    JsonNode k = new ObjectMapper().readTree(d.out());
    assertEquals("[999,998,997,937,0]", k.get("timesteps").toString());
    assertEquals(20291.302734375, k.get("sigmas").get(0).asDouble());
    SamplerCliTest.Result ddpm = SamplerCliTest.run("schedule", "--config",
        SamplerCliTest.DEMO.resolve("scheduler_config.json").toString(), "--steps", "5");
    assertEquals("[]", new ObjectMapper().readTree(ddpm.out()).get("sigmas").toString());
  }

  @Test
  void demo_writesLabelledSheetAndNineRecognizedImages(@TempDir Path tmp) throws Exception {
    SamplerCliTest.Result r = SamplerCliTest.run("demo", "--model", SamplerCliTest.DEMO.toString(), "--out",
        tmp.toString(), "--threads", "2");
    assertEquals(0, r.code(), r.err() + r.out());
    assertTrue(r.out().contains("relative L2 error") && r.out().contains(": OK"), r.out());
    assertTrue(Files.size(tmp.resolve("sheet.png")) > 1000);
    try (Stream<Path> s = Files.list(tmp)) {
      assertEquals(9, s.filter(p -> p.getFileName().toString().startsWith("img-")).count());
    }
    assertTrue(r.out().contains("checker: "), r.out());
    assertTrue(r.out().contains("serving the demo model in-process on 127.0.0.1:"), r.out());
    assertTrue(r.out().contains("served model sha256 matches"), r.out());
  }

  /**
   * The demo goes through gRPC; with the same seed, request id and tenant its images are the
   * bytes {@code generate --local} makes in this process: the service path changes nothing.
   */
  @Test
  void demo_replayedSeed_sameImagesAsGenerateLocal(@TempDir Path tmp) throws Exception {
    Path viaGrpc = tmp.resolve("demo");
    Path local = tmp.resolve("local");
    List<String> common = List.of("--model", SamplerCliTest.DEMO.toString(), "--steps", "4", "--threads", "2",
        "--seed-hex", SEED, "--request-id", "parity-1", "--tenant", "parity");
    List<String> demo = new ArrayList<>(List.of("demo", "--out", viaGrpc.toString()));
    demo.addAll(common);
    SamplerCliTest.Result d = SamplerCliTest.run(demo.toArray(String[]::new));
    assertEquals(0, d.code(), d.err() + d.out());
    List<String> gen = new ArrayList<>(List.of("generate", "--local", "--class", "all", "--out", local.toString()));
    gen.addAll(common);
    SamplerCliTest.Result g = SamplerCliTest.run(gen.toArray(String[]::new));
    assertEquals(0, g.code(), g.err());
    List<String> differing = new ArrayList<>();
    try (Stream<Path> s = Files.list(local)) {
      List<Path> images = s.filter(p -> p.getFileName().toString().startsWith("img-")).sorted().toList();
      assertEquals(9, images.size());
      for (Path p : images) {
        if (!java.util.Arrays.equals(Files.readAllBytes(p), Files.readAllBytes(viaGrpc.resolve(p.getFileName())))) {
          differing.add(p.getFileName().toString());
        }
      }
    }
    assertEquals(List.of(), differing);
    assertNoSeedAnywhere(d, viaGrpc);
  }
}
