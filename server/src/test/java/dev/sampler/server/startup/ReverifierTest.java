package dev.sampler.server.startup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ReverifierTest {
  private static Reverifier.Check check(String name, AtomicReference<String> outcome) {
    return new Reverifier.Check() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public String verify() throws Exception {
        String o = outcome.get();
        if ("throw".equals(o)) {
          throw new java.io.IOException("model.sig: no such file");
        }
        return o;
      }
    };
  }

  @Test
  void runNow_allMatch_okAndNoDriftCallback() {
    List<Reverifier.Result> drift = new ArrayList<>();
    Reverifier r = new Reverifier(Duration.ZERO, 0.2, drift::add)
        .add(check("a", new AtomicReference<>(null))).add(check("b", new AtomicReference<>(null)));
    Reverifier.Result res = r.runNow();
    assertTrue(res.ok());
    assertEquals(2, res.checks());
    assertEquals(1, res.run());
    assertTrue(drift.isEmpty());
  }

  @Test
  void runNow_driftAndUncheckable_bothReportedOnce() {
    List<Reverifier.Result> drift = new ArrayList<>();
    AtomicReference<String> weights = new AtomicReference<>(null);
    Reverifier r = new Reverifier(Duration.ZERO, 0.2, drift::add)
        .add(check("model demo: weights as loaded", weights))
        .add(check("model demo: configuration files", new AtomicReference<>("throw")));
    weights.set("digest 1f.. differs from the golden 9a..");
    Reverifier.Result res = r.runNow();
    assertFalse(res.ok());
    assertEquals(List.of("model demo: weights as loaded: digest 1f.. differs from the golden 9a..",
        "model demo: configuration files: cannot be re-verified: model.sig: no such file"), res.drift());
    assertEquals(1, drift.size());
    assertEquals(res, r.last());
  }

  @Test
  void nextWait_staysWithinTheJitterBand() {
    Reverifier r = new Reverifier(Duration.ofSeconds(100), 0.2, x -> {});
    for (int i = 0; i < 1000; i++) {
      long s = r.nextWait().toMillis();
      assertTrue(s >= 80_000 && s <= 120_000, "wait " + s + " ms");
    }
  }
}
