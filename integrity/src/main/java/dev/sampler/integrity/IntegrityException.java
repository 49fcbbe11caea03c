package dev.sampler.integrity;

/**
 * A model artefact failed an integrity check: it is malformed, truncated, tampered with or does not
 * match what was expected. The message names the artefact, the failed step and the offending
 * values; it never echoes untrusted content beyond short, sanitized names.
 *
 * <p>Checked on purpose: every caller that loads untrusted model files must decide what a rejected
 * file means for it (refuse to start, report the model as unavailable, ...).
 */
public class IntegrityException extends Exception {
  private static final long serialVersionUID = 1L;

  /** Creates an exception whose message names the failed check and the values involved. */
  public IntegrityException(String message) {
    super(message);
  }

  /** Creates an exception for a failed check caused by {@code cause}. */
  public IntegrityException(String message, Throwable cause) {
    super(message, cause);
  }
}
