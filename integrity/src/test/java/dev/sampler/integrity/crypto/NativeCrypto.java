package dev.sampler.integrity.crypto;

import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Assumptions;

/**
 * The OpenSSL provider for tests. Where libcrypto.so.3 is missing the native tests are skipped,
 * except in CI ({@code CI=true}), where bin/test installs it and its absence is a failure.
 */
public final class NativeCrypto {
  private NativeCrypto() {}

  /** The OpenSSL provider, or a skipped test (a failed one in CI) if it cannot be used here. */
  public static CryptoProvider require() {
    try {
      return Crypto.openssl();
    } catch (CryptoUnavailableException e) {
      if ("true".equals(System.getenv("CI"))) {
        fail("OpenSSL is required in CI: " + e.getMessage());
      }
      Assumptions.abort("OpenSSL unavailable here: " + e.getMessage());
      throw new AssertionError("unreachable");
    }
  }
}
