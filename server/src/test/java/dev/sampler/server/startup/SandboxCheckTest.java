package dev.sampler.server.startup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The sandbox self-check reads the kernel's view of the process; fed recorded status texts here. */
class SandboxCheckTest {
  // As seen under bubblewrap with setpriv (uid 65532), --cap-drop ALL and a seccomp filter.
  private static final String SANDBOXED = """
      Name:\tjava
      Uid:\t65532\t65532\t65532\t65532
      Gid:\t65532\t65532\t65532\t65532
      CapInh:\t0000000000000000
      CapPrm:\t0000000000000000
      CapEff:\t0000000000000000
      CapBnd:\t0000000000000000
      NoNewPrivs:\t1
      Seccomp:\t2
      Seccomp_filters:\t1
      """;
  // A root shell on a development machine.
  private static final String ROOT = """
      Name:\tjava
      Uid:\t0\t0\t0\t0
      CapPrm:\t000001ffffffffff
      CapEff:\t000001ffffffffff
      NoNewPrivs:\t0
      Seccomp:\t0
      """;

  @Test
  void inspect_fullSandbox_everyCheckPasses() {
    List<SandboxCheck.Finding> f = SandboxCheck.inspect(SANDBOXED, true);
    assertEquals(5, f.size());
    assertTrue(f.stream().allMatch(SandboxCheck.Finding::passed), f.toString());
    assertNull(SandboxCheck.enforce(f, c -> false));
  }

  @Test
  void enforce_rootShell_namesEveryFailedCheck() {
    String problem = SandboxCheck.enforce(SandboxCheck.inspect(ROOT, false), c -> false);
    for (String s : List.of("uid 0 (root) [run-as-root]", "mounted read-write [writable-root]",
        "no seccomp filter (Seccomp: 0, 2 is filter mode) [no-seccomp]", "NoNewPrivs: 0) [new-privileges]",
        "capabilities held (CapEff 000001ffffffffff, CapPrm 000001ffffffffff) [capabilities]",
        "sandbox.relax")) {
      assertTrue(problem.contains(s), s + " missing from: " + problem);
    }
  }

  @Test
  void enforce_relaxedChecks_onlyTheOthersFail() {
    Set<String> relaxed = Set.of("run-as-root", "writable-root", "no-seccomp", "new-privileges");
    String problem = SandboxCheck.enforce(SandboxCheck.inspect(ROOT, false), relaxed::contains);
    assertTrue(problem.startsWith("capabilities held"), problem);
    assertTrue(!problem.contains("[run-as-root]"), problem);
  }

  @Test
  void inspect_unknownFields_failClosed() {
    String problem = SandboxCheck.enforce(SandboxCheck.inspect("Name:\tjava\n", true), c -> false);
    assertTrue(problem.contains("[run-as-root]") && problem.contains("[no-seccomp]")
        && problem.contains("[new-privileges]") && problem.contains("[capabilities]"), problem);
  }
}
