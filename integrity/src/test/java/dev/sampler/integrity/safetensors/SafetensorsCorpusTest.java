package dev.sampler.integrity.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsCorpusTest {
  /** Corpus files that are not produced by {@link SafetensorsCorpus}. */
  private static final Set<String> EXTERNAL = Set.of("python_struct_json.safetensors");

  @TempDir Path tmp;

  private static Path corpusDir() throws URISyntaxException {
    return Path.of(SafetensorsCorpusTest.class.getResource("/safetensors/").toURI());
  }

  private Path pathOf(SafetensorsCorpus.Case c) throws Exception {
    if (c.committed()) {
      return corpusDir().resolve(c.file());
    }
    Path p = tmp.resolve(c.file());
    Files.write(p, c.bytes());
    return p;
  }

  @Test
  void open_errorCorpus_failsWithExactMessage() throws Exception {
    List<String> failures = new ArrayList<>();
    for (SafetensorsCorpus.Case c : SafetensorsCorpus.errors()) {
      Path p = pathOf(c);
      String expected = p + ": " + c.expected();
      try (SafetensorsFile f = SafetensorsFile.open(p)) {
        failures.add(c.file() + ": accepted, expected \"" + expected + "\" (" + f + ")");
      } catch (SafetensorsException e) {
        if (!expected.equals(e.getMessage())) {
          failures.add(c.file() + ":\n  expected " + expected + "\n  actual   " + e.getMessage());
        }
      } catch (RuntimeException | IOException e) {
        failures.add(c.file() + ": unexpected " + e);
      }
    }
    assertEquals(List.of(), failures);
  }

  @Test
  void parse_errorCorpus_failsWithSameMessageInMemory() {
    List<String> failures = new ArrayList<>();
    for (SafetensorsCorpus.Case c : SafetensorsCorpus.errors()) {
      String expected = "blob: " + c.expected();
      try {
        SafetensorsFile.parse(MemorySegment.ofArray(c.bytes()), "blob");
        failures.add(c.file() + ": accepted");
      } catch (SafetensorsException e) {
        if (!expected.equals(e.getMessage())) {
          failures.add(c.file() + ": expected " + expected + ", actual " + e.getMessage());
        }
      }
    }
    assertEquals(List.of(), failures);
  }

  @Test
  void open_validCorpus_parsesToExpectedTensors() throws Exception {
    List<String> failures = new ArrayList<>();
    for (SafetensorsCorpus.Case c : SafetensorsCorpus.valid()) {
      try (SafetensorsFile f = SafetensorsFile.open(pathOf(c))) {
        String actual = SafetensorsCorpus.summary(f);
        if (!c.expected().equals(actual)) {
          failures.add(c.file() + ":\n  expected " + c.expected() + "\n  actual   " + actual);
        }
        for (TensorInfo t : f.tensors()) {
          int n =
              t.dtype() == DType.I64 ? f.readLongs(t.name()).length : f.readFloats(t.name()).length;
          if (n != t.elementCount()) {
            failures.add(c.file() + ": read " + n + " elements of " + t);
          }
        }
      } catch (SafetensorsException | IOException | RuntimeException e) {
        failures.add(c.file() + ": rejected: " + e);
      }
    }
    assertEquals(List.of(), failures);
  }

  @Test
  void committedCorpus_matchesGenerator() throws Exception {
    List<String> failures = new ArrayList<>();
    Set<String> generated = new TreeSet<>();
    for (SafetensorsCorpus.Case c : SafetensorsCorpus.all()) {
      if (!c.committed()) {
        continue;
      }
      generated.add(c.file());
      Path p = corpusDir().resolve(c.file());
      if (!Files.exists(p)) {
        failures.add(c.file() + ": missing; run SafetensorsCorpus.main");
      } else if (!Arrays.equals(c.bytes(), Files.readAllBytes(p))) {
        failures.add(c.file() + ": differs from the generator; run SafetensorsCorpus.main");
      }
    }
    try (Stream<Path> files = Files.list(corpusDir())) {
      for (String name :
          files
              .map(p -> p.getFileName().toString())
              .filter(n -> n.endsWith(".safetensors"))
              .collect(Collectors.toCollection(TreeSet::new))) {
        if (!generated.contains(name) && !EXTERNAL.contains(name)) {
          failures.add(name + ": not part of SafetensorsCorpus");
        }
      }
    }
    assertEquals(List.of(), failures);
  }

  @Test
  void corpus_coversEveryRequiredReason() {
    Set<String> files =
        SafetensorsCorpus.errors().stream()
            .map(SafetensorsCorpus.Case::file)
            .collect(Collectors.toSet());
    List<String> missing = new ArrayList<>();
    for (String reason :
        List.of(
            "empty_file",
            "shorter_than_8_bytes",
            "header_length_too_large",
            "header_length_beyond_file_end",
            "invalid_utf8",
            "not_json",
            "json_not_an_object",
            "duplicate_tensor_name",
            "unknown_dtype",
            "negative_shape_entry",
            "non_integer_shape_entry",
            "shape_product_overflow",
            "data_offsets_one_entry",
            "data_offsets_three_entries",
            "begin_after_end",
            "gap_between_tensors",
            "overlapping_tensors",
            "first_tensor_not_at_zero",
            "trailing_bytes_after_last_tensor",
            "data_area_shorter_than_claimed",
            "size_mismatch",
            "too_many_tensors",
            "name_too_long",
            "empty_name",
            "metadata_value_not_a_string",
            "unknown_field_in_tensor_entry",
            "header_not_starting_with_brace")) {
      if (!files.contains("error_" + reason + ".safetensors")) {
        missing.add(reason);
      }
    }
    assertEquals(List.of(), missing);
  }

  /** Cross-check against a file written outside Java (see make_python_fixture.py). */
  @Test
  void open_pythonWrittenFile_readsKnownValues() throws Exception {
    try (SafetensorsFile f =
        SafetensorsFile.open(corpusDir().resolve("python_struct_json.safetensors"))) {
      assertEquals(Map.of("format", "pt", "source", "python3 struct/json"), f.metadata());
      assertEquals(
          List.of("down.weight", "norm.bias", "emb.bf16", "step_ids", "café.scale"),
          f.tensors().stream().map(TensorInfo::name).toList());
      assertArrayEquals(new long[] {2, 3}, f.tensor("down.weight").shape());
      assertArrayEquals(
          new float[] {0f, -1.5f, 3.25f, 1024f, 0.125f, 0.1f}, f.readFloats("down.weight"));
      assertArrayEquals(new float[] {1f, -2f, 0.333251953125f, 65504f}, f.readFloats("norm.bias"));
      assertArrayEquals(new float[] {1f, -0.5f, 3.140625f}, f.readFloats("emb.bf16"));
      assertArrayEquals(new long[] {-1, 1L << 40}, f.readLongs("step_ids"));
      assertEquals(0, f.tensor("café.scale").rank());
      assertArrayEquals(new float[] {2.5f}, f.readFloats("café.scale"));
      assertTrue(f.tensor("step_ids").begin() % 8 != 0, "fixture exercises unaligned reads");
    }
  }
}
