package dev.sampler.rng;

/** A failure inside the rng subsystem; the message names the step that failed. */
public class RngException extends Exception {
    private static final long serialVersionUID = 1L;

    /** @param message names the failed step */
    public RngException(String message) {
        super(message);
    }

    /** @param message names the failed step; @param cause the underlying failure */
    public RngException(String message, Throwable cause) {
        super(message, cause);
    }
}
