package dev.sampler.server.startup;

/**
 * The start-up steps, in the order of docs/DESIGN.md ("Two paths through the house"). Each runs
 * only after the one before it passed; readiness (health SERVING) follows the last.
 */
public enum StartupStep {
  /** Load the typed configuration (file + environment) and check it. */
  CONFIG(1, "config"),
  /** Not root, read-only root filesystem, seccomp filter, no_new_privs, no capabilities. */
  SANDBOX(2, "sandbox"),
  /** The signed model manifest against the pinned key; the config files against it. */
  INTEGRITY(3, "integrity"),
  /** TEE evidence bound to a fresh nonce and an ephemeral key; the data key from the key broker. */
  ATTESTATION(4, "attestation"),
  /** The sealed weights decrypted in memory and hashed against the manifest. */
  UNSEAL(5, "unseal"),
  /** The weights on the backend, host copies zeroed, the loaded-weights digest taken. */
  UPLOAD(6, "upload"),
  /** Warm-up through the real request path, then health SERVING. */
  READINESS(7, "readiness");

  private final int number;
  private final String label;

  StartupStep(int number, String label) {
    this.number = number;
    this.label = label;
  }

  /** The step's number in docs/DESIGN.md (1..7). */
  public int number() {
    return number;
  }

  /** The short name used in logs and messages. */
  public String label() {
    return label;
  }

  /** "step 3 (integrity)". */
  @Override
  public String toString() {
    return "step " + number + " (" + label + ")";
  }
}
