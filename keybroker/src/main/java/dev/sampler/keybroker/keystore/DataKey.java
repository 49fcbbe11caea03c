package dev.sampler.keybroker.keystore;

import dev.sampler.keybroker.ResourcePath;
import java.util.Arrays;

/**
 * A released data key: the resource it belongs to, the store's version number for it, and the
 * plaintext bytes. A secret: no {@code equals}/{@code hashCode}, a redacted {@link #toString()},
 * {@link #close()} zeroes the bytes. Only {@link #plaintext(ReleaseAccess)} reads them, and its
 * argument marks every call site that does.
 */
public final class DataKey implements AutoCloseable {
  /**
   * The explicit token a caller passes to read a key's bytes (Tink's InsecureSecretKeyAccess
   * pattern): searching for its use finds every place plaintext key bytes leave this type.
   */
  public static final class ReleaseAccess {
    private static final ReleaseAccess INSTANCE = new ReleaseAccess();

    private ReleaseAccess() {}

    /** The token. Call it only where the bytes are about to be encrypted to an attested key. */
    public static ReleaseAccess get() {
      return INSTANCE;
    }
  }

  private final ResourcePath resource;
  private final int version;
  private final byte[] bytes;
  private volatile boolean closed;

  /** Takes ownership of {@code bytes} (zeroed on {@link #close()}). */
  public DataKey(ResourcePath resource, int version, byte[] bytes) {
    if (version < 1) {
      throw new IllegalArgumentException("key version must be >= 1");
    }
    if (bytes == null || bytes.length == 0) {
      throw new IllegalArgumentException("a data key needs at least one byte");
    }
    this.resource = resource;
    this.version = version;
    this.bytes = bytes;
  }

  /** The resource this key is stored under. */
  public ResourcePath resource() {
    return resource;
  }

  /** The store's version number of this key (1 for the first import, then +1 per import). */
  public int version() {
    return version;
  }

  /** The key's length in bytes (not secret). */
  public int length() {
    return bytes.length;
  }

  /**
   * The plaintext bytes (the array itself, not a copy: do not keep it).
   *
   * @throws IllegalStateException after {@link #close()}
   */
  public byte[] plaintext(ReleaseAccess access) {
    if (access == null) {
      throw new NullPointerException("access");
    }
    if (closed) {
      throw new IllegalStateException("data key was closed");
    }
    return bytes;
  }

  /** Zeroes the bytes. */
  @Override
  public void close() {
    closed = true;
    Arrays.fill(bytes, (byte) 0);
  }

  @Override
  public String toString() {
    return "DataKey[" + resource.path() + " v" + version + ", " + bytes.length + " bytes, redacted]";
  }
}
