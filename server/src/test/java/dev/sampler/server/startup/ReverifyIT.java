package dev.sampler.server.startup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sampler.server.SamplerServer;
import dev.sampler.server.engine.Engine;
import dev.sampler.server.testing.Servers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runtime re-verification on a real in-process server: a copy of the signed demo model, a
 * scheduler config edited on disk after start-up, and the drift it causes.
 */
class ReverifyIT {
  @Test
  void reverify_configEditedAfterStartup_driftsToNotServingAndCallsTheExitHook(@TempDir Path tmp) throws Exception {
    Path model = tmp.resolve("demo");
    Files.createDirectories(model);
    try (Stream<Path> s = Files.list(Servers.HOME.resolve("models/demo"))) {
      for (Path f : (Iterable<Path>) s::iterator) {
        Files.copy(f, model.resolve(f.getFileName()));
      }
    }
    var cfg = Servers.config("models:\n  - name: demo\n    dir: " + model + "\n    threads: 2\n"
        + "    signer-public-key: " + Servers.HOME.resolve("models/demo/signer.pub.pem") + "\n"
        + "integrity:\n  reverify-period: PT0S\n  exit-on-drift: true\n");
    List<Integer> exits = new CopyOnWriteArrayList<>();
    try (SamplerServer server = SamplerServer.builder().config(cfg).onFatalDrift(exits::add).build().start()) {
      Reverifier.Result ok = server.reverifier().runNow();
      assertTrue(ok.ok(), ok.toString());
      assertEquals(2, ok.checks());
      assertEquals(Engine.State.READY, server.state());

      Path sc = model.resolve("scheduler_config.json");
      Files.writeString(sc, Files.readString(sc) + " ");
      Reverifier.Result drift = server.reverifier().runNow();
      assertFalse(drift.ok());
      assertEquals(1, drift.drift().size(), drift.toString());
      assertTrue(drift.drift().get(0).startsWith("model demo: signed files on disk: ")
          && drift.drift().get(0).contains("'scheduler_config.json' (signed 94bc54b1151e"), drift.toString());
      assertEquals(Engine.State.DRIFTED, server.state());
      assertEquals(List.of(20), exits);
      String scrape = server.metrics().scrape();
      assertTrue(scrape.contains("sampler_integrity_ok 0") && scrape.contains("sampler_integrity_drift_total 1"), scrape);
    }
  }
}
