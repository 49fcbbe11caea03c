package dev.sampler.rng;

/**
 * Capability token for reading the raw bytes of a {@link SecretSeed} (the pattern of Tink's
 * {@code SecretKeyAccess}). Only {@link InsecureSeedAccess#get()} hands one out, so every place that
 * touches raw seed bytes names that class and can be found by searching for it.
 */
public final class SeedAccess {
    static final SeedAccess INSTANCE = new SeedAccess();

    private SeedAccess() {
    }
}
