package dev.sampler.integrity.safetensors;

import dev.sampler.integrity.IntegrityException;

/**
 * A safetensors file (or a request against one) is invalid. The message starts with the file's
 * name, then names the problem and the values involved, for example {@code "unet.safetensors:
 * tensor 'conv_in.weight': shape [32, 3, 3, 3] x F32 needs 3456 bytes but data_offsets span 3452"}.
 * Tensor names and other strings from the file appear only shortened and with anything but plain
 * letters, digits and ASCII punctuation escaped.
 */
public final class SafetensorsException extends IntegrityException {
  private static final long serialVersionUID = 1L;

  /** Creates an exception with a complete message (including the file name, where known). */
  public SafetensorsException(String message) {
    super(message);
  }

  /** Creates an exception with a complete message and the underlying cause. */
  public SafetensorsException(String message, Throwable cause) {
    super(message, cause);
  }
}
