package dev.sampler.engine.schedule;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Parity with diffusers for the DPM-Solver++ and UniPC variants the main vectors do not reach
 * (solver orders 1 and 3, heun, the SDE variant at orders 1 and 3, lambda_min_clipped, bh1,
 * predict_x0 false, Karras sigmas with sigma_min/sigma_max and final_sigmas_type sigma_min,
 * larger samples): {@code src/test/resources/vectors/schedulers/multistep-extra/<ClassName>.json.gz},
 * written by {@code tools/make_multistep_extra_vectors.py} from the real diffusers classes in the
 * same format, run with {@link SchedulerParityTest}'s checks and tolerances.
 */
class MultistepExtraParityTest {
  static final Path DIR = SchedulerParityTest.DIR.resolve("multistep-extra");

  private static void run(String cls) throws Exception {
    Path file = DIR.resolve(cls + ".json.gz");
    assertTrue(Files.isRegularFile(file), file + " is missing (run tools/make_multistep_extra_vectors.py)");
    SchedulerParityTest.runClass(cls, file);
  }

  @Test
  void vectors_dpmSolverMultistepExtras_matchDiffusers() throws Exception {
    run("DPMSolverMultistepScheduler");
  }

  @Test
  void vectors_uniPcMultistepExtras_matchDiffusers() throws Exception {
    run("UniPCMultistepScheduler");
  }
}
