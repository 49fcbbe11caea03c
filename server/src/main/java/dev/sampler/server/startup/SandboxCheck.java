package dev.sampler.server.startup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Start-up step 2: the process checks the sandbox it runs in, from the kernel's own view of it
 * ({@code /proc/self/status} and the root mount), before it touches any model or key:
 * <ul>
 *   <li>{@code run-as-root}: the real and effective uid are not 0;
 *   <li>{@code writable-root}: the root filesystem is mounted read-only;
 *   <li>{@code no-seccomp}: a seccomp filter is installed ({@code Seccomp: 2});
 *   <li>{@code new-privileges}: {@code no_new_privs} is set ({@code NoNewPrivs: 1});
 *   <li>{@code capabilities}: the effective and permitted capability sets are empty.
 * </ul>
 * A check that fails stops start-up unless it is relaxed ({@code sandbox.relax}); a relaxed check
 * that fails is still reported, as a warning.
 */
public final class SandboxCheck {
  /** One check's outcome. */
  public record Finding(String check, boolean passed, String detail) {}

  private SandboxCheck() {}

  /** Runs the checks on this process. */
  public static List<Finding> inspect() throws IOException {
    String status = Files.readString(Path.of("/proc/self/status"));
    return inspect(status, Files.getFileStore(Path.of("/")).isReadOnly());
  }

  /**
   * Runs the checks on a {@code /proc/<pid>/status} text and the root mount's read-only flag
   * (tests feed recorded texts).
   */
  public static List<Finding> inspect(String procStatus, boolean rootReadOnly) {
    Map<String, String> f = new HashMap<>();
    for (String line : procStatus.split("\n")) {
      int colon = line.indexOf(':');
      if (colon > 0) {
        f.put(line.substring(0, colon), line.substring(colon + 1).strip());
      }
    }
    List<Finding> out = new ArrayList<>();
    String[] uid = f.getOrDefault("Uid", "").split("\\s+");
    boolean root = uid.length < 2 || uid[0].equals("0") || uid[1].equals("0");
    out.add(new Finding("run-as-root", !root, root ? "the process runs as uid 0 (root)"
        : "uid " + uid[1]));
    out.add(new Finding("writable-root", rootReadOnly, rootReadOnly ? "/ is read-only"
        : "the root filesystem / is mounted read-write"));
    String seccomp = f.getOrDefault("Seccomp", "unknown");
    out.add(new Finding("no-seccomp", seccomp.equals("2"), seccomp.equals("2") ? "seccomp filter mode"
        : "no seccomp filter (Seccomp: " + seccomp + ", 2 is filter mode)"));
    String nnp = f.getOrDefault("NoNewPrivs", "unknown");
    out.add(new Finding("new-privileges", nnp.equals("1"), nnp.equals("1") ? "no_new_privs set"
        : "no_new_privs is not set (NoNewPrivs: " + nnp + ")"));
    String eff = f.getOrDefault("CapEff", "unknown");
    String prm = f.getOrDefault("CapPrm", "unknown");
    boolean noCaps = isZero(eff) && isZero(prm);
    out.add(new Finding("capabilities", noCaps, noCaps ? "no capabilities"
        : "capabilities held (CapEff " + eff + ", CapPrm " + prm + ")"));
    return out;
  }

  /**
   * The failures that are not relaxed, as one message, or null if there are none.
   *
   * @param relaxed whether a check (by name) is relaxed
   */
  public static String enforce(List<Finding> findings, Predicate<String> relaxed) {
    List<String> failed = new ArrayList<>();
    for (Finding x : findings) {
      if (!x.passed() && !relaxed.test(x.check())) {
        failed.add(x.detail() + " [" + x.check() + "]");
      }
    }
    if (failed.isEmpty()) {
      return null;
    }
    return String.join("; ", failed) + ". Run under the sandbox the deployment describes (non-root uid, read-only"
        + " root, seccomp profile, no_new_privs, no capabilities), or relax a check with sandbox.relax: [<check>]"
        + " (development only)";
  }

  private static boolean isZero(String hex) {
    return hex.matches("0+");
  }
}
