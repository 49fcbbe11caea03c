package dev.sampler.attestation;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.attestation.jwe.Jwe;
import dev.sampler.attestation.jwe.Jwk;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import javax.security.auth.DestroyFailedException;

/**
 * The ephemeral EC P-256 key pair of one RCAR handshake (the reference client's default): its
 * public JWK goes into the Attestation's {@code tee-pubkey} and into the report-data binding, and
 * the key broker encrypts the resource to it (ECDH-ES+A256KW).
 *
 * <p>Secret handling: no equals/hashCode, a redacted {@link #toString()}, no accessor for the
 * private key. {@link #destroy()} drops the private key; the JDK's EC private key objects cannot be
 * zeroed in place, so destroy asks the key to destroy itself (which SunEC may refuse) and forgets the
 * reference, leaving the bytes to the garbage collector. Thread-safe.
 */
public final class TeeKeyPair {
  private static final SecureRandom RANDOM = new SecureRandom();

  private final ObjectNode publicJwk;
  private ECPrivateKey privateKey;

  private TeeKeyPair(KeyPair pair) {
    this.publicJwk = Jwk.ecPublicJwk((ECPublicKey) pair.getPublic());
    this.privateKey = (ECPrivateKey) pair.getPrivate();
  }

  /**
   * A fresh P-256 key pair from the JDK's default {@link SecureRandom}.
   *
   * @throws IllegalStateException if the JDK has no P-256 (it always has)
   */
  public static TeeKeyPair generate() {
    try {
      KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
      gen.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return new TeeKeyPair(gen.generateKeyPair());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK cannot generate a P-256 key", e);
    }
  }

  /**
   * The public key as exactly {@code {"kty":"EC","crv":"P-256","alg":"ECDH-ES+A256KW","x","y"}} in
   * that order, coordinates 32 bytes base64url without padding. A fresh copy on each call; still
   * available after {@link #destroy()}.
   */
  public ObjectNode publicJwk() {
    return publicJwk.deepCopy();
  }

  /**
   * Decrypts a key broker's resource response (flattened JWE JSON, ECDH-ES+A256KW / A256GCM).
   *
   * @return the plaintext; the caller owns it and should wipe it when done
   * @throws AttestationException if the key pair was destroyed or {@link Jwe#decrypt} fails (the
   *     message names the step)
   */
  public byte[] decrypt(String flattenedJweJson) throws AttestationException {
    ECPrivateKey key;
    synchronized (this) {
      key = privateKey;
    }
    if (key == null) {
      throw new AttestationException("JWE decrypt: the TEE key pair was destroyed");
    }
    return Jwe.decrypt(flattenedJweJson, key);
  }

  /** Forgets the private key; later {@link #decrypt} calls fail. Idempotent. */
  public void destroy() {
    ECPrivateKey key;
    synchronized (this) {
      key = privateKey;
      privateKey = null;
    }
    if (key != null && !key.isDestroyed()) {
      try {
        key.destroy();
      } catch (DestroyFailedException e) {
        // SunEC keys do not implement destroy(); dropping the reference is all that is possible.
      }
    }
  }

  /** Whether {@link #destroy()} was called. */
  public synchronized boolean isDestroyed() {
    return privateKey == null;
  }

  /** Names the curve and state, never key material. */
  @Override
  public String toString() {
    return "TeeKeyPair[P-256, " + (isDestroyed() ? "destroyed" : "private key redacted") + "]";
  }
}
