package dev.sampler.rng;

/**
 * The only source of {@link SeedAccess} tokens. Calling {@link #get()} is a statement that the
 * caller is allowed to see a client seed in the clear (e.g. to receive it from the client, or in a
 * test); code review should treat each call site as such.
 */
public final class InsecureSeedAccess {
    private InsecureSeedAccess() {
    }

    /** Returns the access token. */
    public static SeedAccess get() {
        return SeedAccess.INSTANCE;
    }
}
