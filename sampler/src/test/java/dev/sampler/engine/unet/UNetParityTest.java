package dev.sampler.engine.unet;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sampler.engine.backend.BackendOptions;
import dev.sampler.engine.backend.Backends;
import dev.sampler.engine.backend.TensorBackend;
import dev.sampler.integrity.safetensors.SafetensorsFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Parity with PyTorch: runs every reference-vector file under {@code
 * src/test/resources/vectors/} (written by {@code tools/make_reference_vectors.py}: inputs
 * "sample", "timestep", "class_labels", PyTorch's float32 output "expected", and in its metadata
 * the model directory and the SHA-256 of its weights) through the Java UNet and requires a
 * relative L2 error {@code ||java - torch|| / ||torch||} of at most 1e-5 per file. All failures are
 * collected before asserting; the worst case is printed.
 */
class UNetParityTest {
  static final double TOLERANCE = 1e-5;
  static final Path RESOURCES = Path.of("src/test/resources");
  static final Path REPO_ROOT = Path.of("..");

  record Result(String file, String backend, double relL2, double maxAbs) {}

  static List<Path> vectorFiles() throws IOException {
    try (Stream<Path> s = Files.list(RESOURCES.resolve("vectors"))) {
      return s.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
    }
  }

  static Path modelDir(String dir) {
    Path p = REPO_ROOT.resolve(dir);
    return Files.isDirectory(p) ? p : RESOURCES.resolve(dir);
  }

  static String sha256(Path file) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    try (InputStream in = new DigestInputStream(Files.newInputStream(file), md)) {
      in.transferTo(java.io.OutputStream.nullOutputStream());
    }
    return HexFormat.of().formatHex(md.digest());
  }

  static List<Result> run(String backendName, List<String> failures) throws Exception {
    List<Result> results = new ArrayList<>();
    try (TensorBackend backend = Backends.create(backendName, BackendOptions.threads(2))) {
      for (Path f : vectorFiles()) {
        String name = f.getFileName().toString();
        try (SafetensorsFile v = SafetensorsFile.open(f)) {
          var meta = v.metadata();
          String dir = meta.get("model_dir");
          if (dir == null || meta.get("source") == null) {
            failures.add(name + ": metadata lacks 'model_dir' or 'source'");
            continue;
          }
          Path model = modelDir(dir);
          String want = meta.get("model_sha256");
          String have = sha256(model.resolve(UNet2DModel.WEIGHTS_FILE));
          if (want != null && !want.equals(have)) {
            failures.add(name + ": made for weights sha256 " + want + " but " + model + " has " + have
                + " (regenerate the vectors)");
            continue;
          }
          float[] sample = v.readFloats("sample");
          float[] t = v.readFloats("timestep");
          long[] labels = v.find("class_labels").isPresent() ? v.readLongs("class_labels") : null;
          float[] expected = v.readFloats("expected");
          long[] shape = v.tensor("sample").shape();
          try (UNet2DModel m = UNet2DModel.load(model, backend)) {
            float[] got = m.forward(sample, (int) shape[0], (int) shape[2], (int) shape[3], t, labels);
            double num = 0, den = 0, max = 0;
            for (int i = 0; i < got.length; i++) {
              double d = got[i] - (double) expected[i];
              num += d * d;
              den += (double) expected[i] * expected[i];
              max = Math.max(max, Math.abs(d));
            }
            double rel = Math.sqrt(num / den);
            results.add(new Result(name, backendName, rel, max));
            if (!(rel <= TOLERANCE) || got.length != expected.length) {
              failures.add(String.format("%s on %s: relative L2 error %.3e > %.0e (max abs %.3e)", name, backendName,
                  rel, TOLERANCE, max));
            }
          }
        }
      }
    }
    return results;
  }

  static void print(List<Result> results) {
    for (Result r : results) {
      System.out.printf("parity %-45s %-9s rel L2 %.3e  max abs %.3e%n", r.file, r.backend, r.relL2, r.maxAbs);
    }
    results.stream().max((a, b) -> Double.compare(a.relL2, b.relL2)).ifPresent(w -> System.out.printf(
        "parity worst: %s on %s, relative L2 error %.3e%n", w.file, w.backend, w.relL2));
  }

  @Test
  void forward_everyVectorFile_cpuBackendMatchesPyTorch() throws Exception {
    List<String> failures = new ArrayList<>();
    List<Result> results = run("cpu", failures);
    print(results);
    assertFalse(results.isEmpty() && failures.isEmpty() && vectorFiles().isEmpty(), "no vector files");
    assertTrue(failures.isEmpty(), String.join("\n", failures));
  }

  @Test
  void forward_everyVectorFile_referenceBackendMatchesPyTorch() throws Exception {
    List<String> failures = new ArrayList<>();
    List<Result> results = run("reference", failures);
    print(results);
    assertTrue(failures.isEmpty(), String.join("\n", failures));
  }
}
