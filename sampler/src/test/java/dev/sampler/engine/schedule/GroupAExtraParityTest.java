package dev.sampler.engine.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * Group A options the main vector grid does not reach (DDIM use_clipped_model_output, DDPM
 * variance types on other schedules, Euler final_sigmas_type/sigma_min/sigma_max/log_linear
 * variants, Heun clip_sample, LMS runs where scipy's quad bisects, the "trailing" step counts with
 * an extra -1 timestep), recorded from diffusers by {@code tools/make_group_a_extra_vectors.py}
 * in the main vectors' format and checked with SchedulerParityTest's own per-case checks and
 * tolerances.
 */
class GroupAExtraParityTest {
  static final Path FILE = Path.of("src/test/resources/vectors/schedulers_extra/GroupAExtra.json.gz");

  @Test
  void extraVectors_everyCase_matchesDiffusers() throws Exception {
    JsonNode doc = SchedulerParityTest.readGz(FILE);
    List<String> failures = new ArrayList<>();
    SchedulerParityTest.Summary sum = new SchedulerParityTest.Summary();
    int cases = 0;
    for (JsonNode c : doc.get("cases")) {
      String id = c.get("id").asText();
      String cls = id.substring(0, id.indexOf('/'));
      cases++;
      try {
        SchedulerParityTest.runCase(cls, c, failures, sum);
      } catch (RuntimeException e) {
        failures.add(id + ": unexpected " + e);
      }
    }
    System.out.println(String.format(Locale.ROOT, "group A extra: %d cases (%d with steps); worst schedule rel err "
        + "%.3e (%s), worst prev_sample rel L2 %.3e (%s), worst pred_original_sample rel L2 %.3e (%s)", cases,
        sum.withSteps, sum.worstSchedule, sum.worstScheduleCase, sum.worstPrev, sum.worstPrevCase, sum.worstPred,
        sum.worstPredCase));
    assertEquals(52, cases, FILE + ": case count");
    assertTrue(failures.isEmpty(), failures.size() + " failure(s):\n  " + String.join("\n  ", failures));
  }
}
