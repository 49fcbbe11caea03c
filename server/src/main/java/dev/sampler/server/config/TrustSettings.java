package dev.sampler.server.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Start-up trust settings: the sandbox self-check, attestation and the key broker, runtime
 * re-verification, and who may call the admin RPCs.
 *
 * @param sandboxRelax sandbox checks relaxed to a warning ({@code sandbox.relax}: {@code
 *     run-as-root}, {@code writable-root}, {@code no-seccomp}, {@code new-privileges}, {@code
 *     capabilities}, or {@code all}); development only
 * @param attestation evidence and key broker
 * @param reverify runtime re-verification
 * @param adminTenants tenants allowed to call {@code sampler.v1.AdminService} ({@code
 *     admin.tenants}); empty: nobody
 */
public record TrustSettings(Set<String> sandboxRelax, Attestation attestation, Reverify reverify,
    Set<String> adminTenants) {
  /** The sandbox check names {@code sandbox.relax} accepts (besides {@code all}). */
  public static final Set<String> SANDBOX_CHECKS = Set.of("run-as-root", "writable-root", "no-seccomp",
      "new-privileges", "capabilities");

  /** Copies the sets. */
  public TrustSettings {
    sandboxRelax = Set.copyOf(sandboxRelax);
    Objects.requireNonNull(attestation, "attestation");
    Objects.requireNonNull(reverify, "reverify");
    adminTenants = Set.copyOf(adminTenants);
  }

  /** True if the sandbox check {@code name} is relaxed. */
  public boolean relaxed(String name) {
    return sandboxRelax.contains("all") || sandboxRelax.contains(name);
  }

  /**
   * Attestation and key release ({@code attestation.*}).
   *
   * @param kbsUrl the key broker's KBS base URL ({@code kbs-url}, e.g. {@code
   *     http://127.0.0.1:8080/kbs/v0}); required when a model is sealed
   * @param evidence the evidence provider: {@code tsm} (configfs-tsm: SEV-SNP, TDX) or {@code
   *     insecure-sample} (no TEE; development only, logged loudly)
   * @param tsmDir the configfs-tsm report directory ({@code tsm-dir})
   * @param timeout per broker request ({@code timeout})
   */
  public record Attestation(Optional<URI> kbsUrl, String evidence, Path tsmDir, Duration timeout) {
    /** Checks for nulls. */
    public Attestation {
      Objects.requireNonNull(kbsUrl, "kbsUrl");
      Objects.requireNonNull(evidence, "evidence");
      Objects.requireNonNull(tsmDir, "tsmDir");
      Objects.requireNonNull(timeout, "timeout");
    }
  }

  /**
   * Runtime re-verification ({@code integrity.*}).
   *
   * @param period mean time between re-verifications ({@code reverify-period}); zero disables the
   *     periodic run (the admin RPC still works)
   * @param jitter each wait is {@code period} times a uniform factor in {@code [1 - jitter, 1 +
   *     jitter]} ({@code reverify-jitter}, 0..0.9), so replicas and an attacker cannot predict it
   * @param exitOnDrift end the process (exit code 20) on drift instead of only going NOT_SERVING
   *     ({@code exit-on-drift})
   */
  public record Reverify(Duration period, double jitter, boolean exitOnDrift) {
    /** Checks the ranges. */
    public Reverify {
      Objects.requireNonNull(period, "period");
      if (!(jitter >= 0 && jitter <= 0.9)) {
        throw new IllegalArgumentException("jitter must be 0..0.9, got " + jitter);
      }
    }
  }
}
