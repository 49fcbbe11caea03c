package dev.sampler.integrity.signing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The upstream statement goldens ({@code tests/_signing/testdata/signing/TestPayload}), byte for
 * byte: the seven models of upstream {@code tests/conftest.py} are rebuilt here and serialized with
 * upstream's test settings (SHA-256, symlinks allowed, no ignore paths), as whole files, 1 GB
 * shards and 8-byte shards.
 */
class GoldenPayloadTest {

  private static final String KNOWN_MODEL_TEXT = "This is a simple model";

  /** Builds each conftest model under {@code tmp}; returns fixture name to model path. */
  private static Map<String, Path> models(Path tmp) throws Exception {
    Map<String, Path> m = new LinkedHashMap<>();
    Path f = Files.createDirectories(tmp.resolve("m1")).resolve("file_model");
    Files.writeString(f, KNOWN_MODEL_TEXT);
    m.put("sample_model_file", f);

    Path sample = Files.createDirectories(tmp.resolve("m2/sample_model"));
    for (int i = 0; i < 2; i++) {
      Path d = Files.createDirectories(sample.resolve("d" + i));
      for (int j = 0; j < 3; j++) {
        Files.writeString(d.resolve("f" + i + j), "This is file f" + i + j + " in d" + i + ".");
      }
    }
    for (int i = 0; i < 4; i++) {
      Files.writeString(sample.resolve("f" + i), "This is file f" + i + " in root.");
    }
    m.put("sample_model_folder", sample);

    Path deep = Files.createDirectories(tmp.resolve("m3/deep_model"));
    Path cur = deep;
    for (int i = 0; i < 5; i++) {
      cur = Files.createDirectories(cur.resolve("d" + i));
    }
    for (int i = 0; i < 4; i++) {
      Files.writeString(cur.resolve("f" + i), "This is file f" + i + ".");
    }
    m.put("deep_model_folder", deep);

    Path empty = Files.createDirectories(tmp.resolve("m4")).resolve("empty_file_model");
    Files.write(empty, new byte[0]);
    m.put("empty_model_file", empty);

    m.put("empty_model_folder", Files.createDirectories(tmp.resolve("m5/empty_folder_model")));

    Path withEmpty = Files.createDirectories(tmp.resolve("m6/empty_file_inside_model"));
    Files.write(withEmpty.resolve("empty_file"), new byte[0]);
    m.put("model_folder_with_empty_file", withEmpty);

    Path external = Files.createDirectories(tmp.resolve("external")).resolve("file");
    Files.writeString(external, KNOWN_MODEL_TEXT);
    Path link = Files.createDirectories(tmp.resolve("m7/symlink_model"));
    Files.createSymbolicLink(link.resolve("symlink_file"), external.toAbsolutePath());
    m.put("symlink_model_folder", link);
    return m;
  }

  @Test
  void statement_upstreamConftestModels_matchAll21GoldensByteForByte(@TempDir Path tmp) throws Exception {
    Map<String, Long> variants = new LinkedHashMap<>();
    variants.put("", 0L);
    variants.put("_shard", SignOptions.DEFAULT_SHARD_SIZE);
    variants.put("_small_shards", 8L);
    List<String> failures = new ArrayList<>();
    int compared = 0;
    for (Map.Entry<String, Path> model : models(tmp).entrySet()) {
      for (Map.Entry<String, Long> v : variants.entrySet()) {
        String golden = model.getKey() + v.getKey();
        SignOptions opts = SignOptions.defaults().withAllowSymlinks(true).withIgnoreGitPaths(false)
            .withShardSize(v.getValue());
        String ours = new String(ModelSigner.statement(model.getValue(), opts), StandardCharsets.UTF_8) + "\n";
        String theirs = Files.readString(Fixtures.GOLDENS.resolve(golden));
        compared++;
        if (!ours.equals(theirs)) {
          failures.add(golden + ":\n" + ours);
        }
      }
    }
    assertEquals(21, compared);
    assertEquals(List.of(), failures);
  }
}
