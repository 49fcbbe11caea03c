package dev.sampler.integrity.signing;

import dev.sampler.integrity.IntegrityException;

/**
 * A model signature or the model it covers failed verification. The message names the artefact
 * and the check that failed, with the values involved (digests abbreviated, names from the
 * signature or the model quoted and escaped), e.g. {@code model.sig: publicKey.hint 3fa1b2c3d4e5...
 * does not match the pinned key 92b0aa13c4f1...}.
 */
public class SignatureVerificationException extends IntegrityException {
  private static final long serialVersionUID = 1L;

  /** Creates an exception whose message names the failed check. */
  public SignatureVerificationException(String message) {
    super(message);
  }

  /** Creates an exception for a failed check caused by {@code cause}. */
  public SignatureVerificationException(String message, Throwable cause) {
    super(message, cause);
  }
}
