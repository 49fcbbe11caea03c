package dev.sampler.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sampler.integrity.safetensors.SafetensorsFile;
import dev.sampler.integrity.safetensors.SafetensorsWriter;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the CLI in-process against the shipped demo model, as a user would from the shell. */
class SamplerCliTest {

  static final Path DEMO = Path.of("..", "models", "demo");

  record Result(int code, String out, String err) {}

  static Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = SamplerCli.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
    return new Result(code, out.toString(), err.toString());
  }

  @Test
  void noCommand_exitsWithUsageError() {
    Result r = run();
    assertEquals(2, r.code());
    assertTrue(r.err().contains("missing command"), r.err());
  }

  @Test
  void help_listsEveryCommand() {
    Result r = run("--help");
    assertEquals(0, r.code());
    for (String c : List.of("demo", "generate", "schedule", "fidelity", "forward", "info", "keygen", "sign", "verify",
        "seal")) {
      assertTrue(r.out().contains(c), "help does not mention " + c + ":\n" + r.out());
    }
  }

  @Test
  void forward_exampleInput_matchesPyTorchWithinTolerance(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("out.safetensors");
    Result r = run("forward", "--model", DEMO.toString(), "--input", DEMO.resolve("example-input.safetensors").toString(),
        "--out", out.toString(), "--threads", "2");
    assertEquals(0, r.code(), r.err());
    float[] got;
    float[] expected;
    try (SafetensorsFile a = SafetensorsFile.open(out);
        SafetensorsFile b = SafetensorsFile.open(DEMO.resolve("example-expected.safetensors"))) {
      got = a.readFloats("sample");
      expected = b.readFloats("sample");
    }
    double err = DemoCommand.relativeL2(got, expected);
    assertTrue(err <= 1e-5, "relative L2 error " + err);
  }

  @Test
  void info_demoModel_printsParameterCountAndFileDigests() throws Exception {
    Result r = run("info", "--model", DEMO.toString(), "--threads", "1");
    assertEquals(0, r.code(), r.err());
    String digest = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(DEMO.resolve("config.json"))));
    assertTrue(r.out().contains("sha256:" + digest), r.out());
    assertTrue(r.out().contains("parameters: 1,165,539"), r.out());
  }

  @Test
  void forward_missingModelDirectory_failsNamingIt(@TempDir Path tmp) {
    Result r = run("forward", "--model", tmp.resolve("nope").toString(), "--input", "x", "--out", "y");
    assertEquals(1, r.code());
    assertTrue(r.err().startsWith("error: ") && r.err().contains("nope"), r.err());
  }

  /** Each malformed input is rejected with exit code 1 and exactly this message; nothing is written. */
  @Test
  void forward_malformedInputs_failWithPreciseMessages(@TempDir Path tmp) throws Exception {
    float[] sample = new float[2 * 3 * 32 * 32];
    Map<String, UnaryOperator<SafetensorsWriter>> cases = new LinkedHashMap<>();
    Map<String, String> expected = new LinkedHashMap<>();
    add(cases, expected, "missing_sample", w -> w.addF32("timestep", new long[] {2}, new float[2]).addI64("class_labels", new long[] {2}, new long[2]),
        "in.safetensors: missing tensor 'sample' [N, C, H, W] F32");
    add(cases, expected, "sample_f16", w -> w.addF16("sample", new long[] {2, 3, 32, 32}, sample).addF32("timestep", new long[] {2}, new float[2]),
        "in.safetensors: 'sample' must be F32, got F16");
    add(cases, expected, "sample_rank3", w -> w.addF32("sample", new long[] {6, 32, 32}, sample).addF32("timestep", new long[] {2}, new float[2]),
        "in.safetensors: 'sample' must have 4 dimensions [N, C, H, W], got [6, 32, 32]");
    add(cases, expected, "wrong_channels", w -> w.addF32("sample", new long[] {3, 2, 32, 32}, sample).addF32("timestep", new long[] {3}, new float[3]),
        "in.safetensors: 'sample' has C=2 channels but the model's in_channels is 3");
    add(cases, expected, "odd_size", w -> w.addF32("sample", new long[] {2, 3, 32, 30}, new float[2 * 3 * 32 * 30]).addF32("timestep", new long[] {2}, new float[2]),
        "in.safetensors: 'sample' width 30 must be a multiple of 4 (the model downsamples 2 times), at most 4096");
    add(cases, expected, "nan_sample", w -> {
          float[] s = sample.clone();
          s[7] = Float.NaN;
          return w.addF32("sample", new long[] {2, 3, 32, 32}, s).addF32("timestep", new long[] {2}, new float[2]);
        },
        "in.safetensors: 'sample' element 7 is not finite (NaN)");
    add(cases, expected, "timestep_shape", w -> w.addF32("sample", new long[] {2, 3, 32, 32}, sample).addF32("timestep", new long[] {3}, new float[3]),
        "in.safetensors: 'timestep' must have shape [2], got [3]");
    add(cases, expected, "negative_timestep", w -> w.addF32("sample", new long[] {2, 3, 32, 32}, sample).addF32("timestep", new long[] {2}, new float[] {1, -5}),
        "in.safetensors: timestep[1] = -5.0 must be finite and >= 0");
    add(cases, expected, "missing_labels", w -> w.addF32("sample", new long[] {2, 3, 32, 32}, sample).addF32("timestep", new long[] {2}, new float[2]),
        "in.safetensors: missing tensor 'class_labels' [N] I64 (the model is class-conditional with num_class_embeds=10)");
    add(cases, expected, "label_range", w -> w.addF32("sample", new long[] {2, 3, 32, 32}, sample).addF32("timestep", new long[] {2}, new float[2])
            .addI64("class_labels", new long[] {2}, new long[] {3, 10}),
        "in.safetensors: class_labels[1] = 10 is outside [0, 10)");
    add(cases, expected, "labels_f32", w -> w.addF32("sample", new long[] {2, 3, 32, 32}, sample).addF32("timestep", new long[] {2}, new float[2])
            .addF32("class_labels", new long[] {2}, new float[2]),
        "in.safetensors: 'class_labels' must be I64, got F32");
    add(cases, expected, "unknown_tensor", w -> w.addF32("sample", new long[] {2, 3, 32, 32}, sample).addF32("timestep", new long[] {2}, new float[2])
            .addF32("encoder_hidden_states", new long[] {1}, new float[1]),
        "in.safetensors: unexpected tensors [encoder_hidden_states] (expected sample, timestep, class_labels)");

    List<String> failures = new ArrayList<>();
    for (var e : cases.entrySet()) {
      Path dir = tmp.resolve(e.getKey());
      Files.createDirectories(dir);
      Path in = dir.resolve("in.safetensors");
      e.getValue().apply(SafetensorsWriter.create()).write(in);
      Path out = dir.resolve("out.safetensors");
      Result r = run("forward", "--model", DEMO.toString(), "--input", in.toString(), "--out", out.toString(), "--threads", "1");
      String want = "error: " + expected.get(e.getKey());
      if (r.code() != 1 || !r.err().strip().equals(want.strip()) || Files.exists(out)) {
        failures.add(e.getKey() + ": exit " + r.code() + ", stderr '" + r.err().strip() + "', want '" + want + "'"
            + (Files.exists(out) ? ", and an output was written" : ""));
      }
    }
    assertTrue(failures.isEmpty(), String.join("\n", failures));
  }

  private static void add(Map<String, UnaryOperator<SafetensorsWriter>> cases, Map<String, String> expected, String name,
      UnaryOperator<SafetensorsWriter> w, String message) {
    cases.put(name, w);
    expected.put(name, message);
  }
}
