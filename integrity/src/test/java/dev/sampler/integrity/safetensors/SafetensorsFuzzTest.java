package dev.sampler.integrity.safetensors;

import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Runs {@link SafetensorsFuzzTarget} under Jazzer. Without {@code JAZZER_FUZZ} set it replays the
 * seeds (the golden corpus, copied by Maven to {@code SafetensorsFuzzTestInputs/parse/}) as
 * regression tests; with {@code JAZZER_FUZZ=1} it fuzzes for {@code maxDuration} (the {@code
 * fuzz-smoke} surefire execution does so during {@code mvn verify}). Long campaigns: {@code
 * bin/fuzz-safetensors}.
 */
class SafetensorsFuzzTest {
  @DictionaryFile(resourcePath = "safetensors.dict")
  @FuzzTest(maxDuration = "25s")
  void parse(byte[] input) {
    SafetensorsFuzzTarget.fuzzerTestOneInput(input);
  }
}
