package dev.sampler.keybroker.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A private SoftHSM2 set-up for a test, made by {@code scripts/softhsm-setup.sh} (so the script is
 * tested too): its own {@code SOFTHSM2_CONF} and token directory under a temporary directory. When
 * SoftHSM2 is not installed, tests that need it are skipped, unless {@code CI=true}: then they fail
 * (CI installs it through bin/test).
 *
 * @param dir the set-up directory
 * @param conf the SOFTHSM2_CONF file
 * @param userPin the file holding the user PIN
 */
public record SoftHsm(Path dir, Path conf, Path userPin) {
  /** The SoftHSM2 library path on Debian/Ubuntu. */
  public static final Path LIBRARY = Path.of("/usr/lib/softhsm/libsofthsm2.so");

  /** Skips the calling test when SoftHSM2 is missing (fails it when CI=true). */
  public static void assumeInstalled() {
    boolean util = Files.isExecutable(Path.of("/usr/bin/softhsm2-util"))
        || System.getenv("PATH") != null && List.of(System.getenv("PATH").split(":")).stream()
            .anyMatch(d -> Files.isExecutable(Path.of(d, "softhsm2-util")));
    boolean ok = util && Files.isRegularFile(LIBRARY);
    if (!ok) {
      String why = "SoftHSM2 is not installed (need softhsm2-util and " + LIBRARY + "; apt-get install softhsm2)";
      if ("true".equals(System.getenv("CI"))) {
        fail(why + " and CI=true");
      }
      Assumptions.abort(why);
    }
  }

  /** Runs the set-up script for a token labelled {@code label} under {@code dir}. */
  public static SoftHsm create(Path dir, String label) throws IOException, InterruptedException {
    assumeInstalled();
    Path script = Path.of("scripts", "softhsm-setup.sh").toAbsolutePath();
    Process p = new ProcessBuilder("bash", script.toString(), dir.toString(), label).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail("softhsm-setup.sh did not finish");
    }
    assertEquals(0, p.exitValue(), "softhsm-setup.sh: " + out);
    Path conf = dir.resolve("softhsm2.conf").toAbsolutePath();
    if (!out.contains("export SOFTHSM2_CONF=" + conf)) {
      fail("softhsm-setup.sh printed no export line: " + out);
    }
    return new SoftHsm(dir, conf, dir.resolve("user.pin"));
  }

  /** The environment a child process needs to see this set-up. */
  public Map<String, String> env() {
    return Map.of("SOFTHSM2_CONF", conf.toString());
  }

  /** The user PIN (for the canary search). */
  public String pin() throws IOException {
    return Files.readAllLines(userPin).get(0);
  }
}
