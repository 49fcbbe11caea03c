package dev.sampler.keybroker.keystore;

import dev.sampler.keybroker.ResourcePath;
import java.util.Optional;

/**
 * Where the broker gets the data key it releases for a resource. Implementations: {@link
 * Pkcs11KeyStore} (keys wrapped under a KEK that never leaves a PKCS#11 token) and {@link
 * InsecureDevKeyStore} (in memory, development only).
 */
public interface DataKeyStore extends AutoCloseable {
  /** One line for the start-up log: the kind of store and where its keys are. No secrets. */
  String description();

  /**
   * The newest key stored for {@code resource}, or empty when there is none. The caller closes it.
   *
   * @throws StoreException when the store has a key but cannot produce it (token gone, file
   *     tampered with); the message names the step
   */
  Optional<DataKey> fetch(ResourcePath resource) throws StoreException;

  /** Releases the store's resources (token sessions). */
  @Override
  void close();
}
