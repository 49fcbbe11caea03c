package dev.sampler.integrity.sealed;

/**
 * A token that code must pass to read a {@link DataKey}'s bytes, so every place that handles raw
 * key material names this class and can be found with a search (the pattern of Tink's {@code
 * InsecureSecretKeyAccess}). Holding it grants nothing else.
 */
public final class InsecureKeyAccess {
  private static final InsecureKeyAccess INSTANCE = new InsecureKeyAccess();

  private InsecureKeyAccess() {}

  /** The token. */
  public static InsecureKeyAccess get() {
    return INSTANCE;
  }
}
