package dev.sampler.rng;

/**
 * CTR_DRBG_Generate returned "reseed required" (SP 800-90A 10.2.1.5, step 1): the number of
 * generate requests since the last (re)seed reached the configured reseed interval.
 */
public final class ReseedRequiredException extends RngException {
    private static final long serialVersionUID = 1L;

    ReseedRequiredException(long requestsSinceSeed, long reseedInterval) {
        super("CTR_DRBG generate refused: " + requestsSinceSeed + " requests since the last (re)seed reached reseed_interval = "
                + reseedInterval + "; reseed before generating more");
    }
}
