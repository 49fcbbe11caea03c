package dev.sampler.server.config;

/**
 * The server configuration is missing, unreadable or invalid. The message names the key (and the
 * environment variable when the value came from one), the value where it is not secret, and what
 * is allowed, e.g. {@code "grpc.port (SAMPLER_GRPC_PORT) must be 0..65535, got 70000"}.
 */
public final class ConfigException extends Exception {
  /** A failure described by {@code message}. */
  public ConfigException(String message) {
    super(message);
  }

  /** A failure described by {@code message}, caused by {@code cause}. */
  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
