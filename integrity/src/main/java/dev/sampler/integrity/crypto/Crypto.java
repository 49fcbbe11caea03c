package dev.sampler.integrity.crypto;

import java.util.Locale;
import java.util.Objects;

/**
 * Chooses the crypto implementation. {@link #auto()} tries OpenSSL first and falls back to the
 * JDK when OpenSSL cannot be loaded or fails its known-answer self-test; the choice is made once
 * per process and {@link #selection()} says which and why, for the caller to log (this class never
 * prints). {@link #named} picks one explicitly and fails instead of falling back.
 */
public final class Crypto {
  private Crypto() {}

  /**
   * Which implementation {@link #auto()} chose and why.
   *
   * @param implementation {@code "openssl"} or {@code "jdk"}
   * @param description the library and version, e.g. {@code "OpenSSL 3.0.19 1 Jul 2025 (libcrypto.so.3)"}
   * @param reason why: for OpenSSL that it loaded and passed its self-test; for the JDK why OpenSSL
   *     could not be used
   */
  public record Selection(String implementation, String description, String reason) {
    /** Checks that no field is null. */
    public Selection {
      Objects.requireNonNull(implementation, "implementation");
      Objects.requireNonNull(description, "description");
      Objects.requireNonNull(reason, "reason");
    }

    /** One line for a log: {@code crypto: openssl (OpenSSL 3.0.19 ...): reason}. */
    @Override
    public String toString() {
      return "crypto: " + implementation + " (" + description + "): " + reason;
    }
  }

  private record Chosen(CryptoProvider provider, Selection selection) {}

  private static final class Auto {
    static final Chosen CHOSEN = choose(Crypto::openssl);
  }

  private static final class Native {
    static final CryptoProvider PROVIDER;
    static final CryptoUnavailableException FAILURE;

    static {
      CryptoProvider p = null;
      CryptoUnavailableException f = null;
      try {
        OpenSslCrypto loaded = OpenSslCrypto.load();
        SelfTest.run(loaded);
        p = loaded;
      } catch (CryptoUnavailableException e) {
        f = e;
      } catch (RuntimeException | LinkageError e) {
        f = new CryptoUnavailableException(OpenSslCrypto.LIBRARY + " could not be used: " + e, e);
      }
      PROVIDER = p;
      FAILURE = f;
    }
  }

  /** A loader of the preferred (native) implementation, for {@link #choose}. */
  @FunctionalInterface
  interface Loader {
    CryptoProvider load() throws CryptoUnavailableException;
  }

  /** The fast implementation when it works here, else the JDK's; decided once per process. */
  public static CryptoProvider auto() {
    return Auto.CHOSEN.provider();
  }

  /** How {@link #auto()} chose (computing the choice if it has not been made yet). */
  public static Selection selection() {
    return Auto.CHOSEN.selection();
  }

  /** The JDK implementation (always available). */
  public static CryptoProvider jdk() {
    return JdkCrypto.INSTANCE;
  }

  /**
   * The OpenSSL implementation, loaded once and checked against known-answer vectors.
   *
   * @throws CryptoUnavailableException if it cannot be loaded or fails its self-test (the same
   *     failure on every call)
   */
  public static CryptoProvider openssl() throws CryptoUnavailableException {
    if (Native.PROVIDER == null) {
      throw Native.FAILURE;
    }
    return Native.PROVIDER;
  }

  /**
   * The implementation named {@code name}: {@code "auto"}, {@code "openssl"} or {@code "jdk"}
   * (case-insensitive).
   *
   * @throws IllegalArgumentException for any other name
   * @throws CryptoUnavailableException if {@code "openssl"} was asked for and cannot be used
   */
  public static CryptoProvider named(String name) throws CryptoUnavailableException {
    return switch (Objects.requireNonNull(name, "name").toLowerCase(Locale.ROOT)) {
      case "auto" -> auto();
      case "openssl" -> openssl();
      case "jdk" -> jdk();
      default -> throw new IllegalArgumentException(
          "unknown crypto implementation (allowed: auto, openssl, jdk)");
    };
  }

  /** The choice {@link #auto()} makes, with the native loader given (tests substitute it). */
  static Chosen choose(Loader nativeLoader) {
    try {
      CryptoProvider p = nativeLoader.load();
      return new Chosen(p, new Selection(p.name(), p.description(), "loaded and passed its known-answer self-test"));
    } catch (CryptoUnavailableException e) {
      JdkCrypto jdk = JdkCrypto.INSTANCE;
      return new Chosen(jdk, new Selection(jdk.name(), jdk.description(),
          "OpenSSL unavailable (" + e.getMessage() + "); using the JDK's AES-GCM, which is slower"));
    }
  }

  /** {@link #choose}'s selection only; visible to tests in this package. */
  static Selection chooseSelection(Loader nativeLoader) {
    return choose(nativeLoader).selection();
  }
}
