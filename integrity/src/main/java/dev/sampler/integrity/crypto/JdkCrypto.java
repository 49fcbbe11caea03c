package dev.sampler.integrity.crypto;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import javax.security.auth.DestroyFailedException;

/**
 * The fallback: the JDK's {@code javax.crypto} {@code AES/GCM/NoPadding} and {@code
 * MessageDigest("SHA-256")}. Always available; its GCM is slow (tens of MB/s on CPUs where it
 * does not use the AVX-512/VAES intrinsics).
 */
public final class JdkCrypto implements CryptoProvider {
  static final JdkCrypto INSTANCE = new JdkCrypto();

  /** ByteBuffers are int-indexed: larger segments are processed in chunks of this size. */
  private static final int CHUNK = 1 << 30;

  private JdkCrypto() {}

  @Override
  public String name() {
    return "jdk";
  }

  @Override
  public String description() {
    return "JDK javax.crypto AES/GCM/NoPadding and MessageDigest SHA-256 (Java " + Runtime.version() + ")";
  }

  @Override
  public AesGcm aesGcm(byte[] key) {
    Sizes.checkKey(key);
    return new Gcm(key);
  }

  @Override
  public Sha256 sha256() {
    try {
      return new Sha(MessageDigest.getInstance("SHA-256"));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  @Override
  public String toString() {
    return "JdkCrypto";
  }

  private static final class Gcm implements AesGcm {
    private final SecretKeySpec key;
    private Cipher decryptor;
    private boolean closed;

    Gcm(byte[] key) {
      this.key = new SecretKeySpec(key, "AES");
    }

    @Override
    public void encrypt(byte[] nonce, MemorySegment aad, MemorySegment plaintext, MemorySegment out) {
      Sizes.checkEncrypt(nonce, plaintext, out);
      Sizes.checkJdk(aad, plaintext, out);
      ensureOpen();
      try {
        // A fresh Cipher per encryption: the JDK refuses to reuse one for the same key and nonce,
        // which known-answer tests do on purpose.
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
        c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(8 * TAG_BYTES, nonce));
        if (aad.byteSize() > 0) {
          c.updateAAD(aad.asByteBuffer());
        }
        ByteBuffer dst = out.asByteBuffer();
        c.doFinal(plaintext.asByteBuffer(), dst);
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("JDK AES-GCM encryption failed: " + e.getMessage(), e);
      }
    }

    @Override
    public boolean decrypt(byte[] nonce, MemorySegment aad, MemorySegment ciphertextAndTag, MemorySegment out) {
      Sizes.checkDecrypt(nonce, ciphertextAndTag, out);
      Sizes.checkJdk(aad, ciphertextAndTag, out);
      ensureOpen();
      try {
        if (decryptor == null) {
          decryptor = Cipher.getInstance("AES/GCM/NoPadding");
        }
        decryptor.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(8 * TAG_BYTES, nonce));
        if (aad.byteSize() > 0) {
          decryptor.updateAAD(aad.asByteBuffer());
        }
        decryptor.doFinal(ciphertextAndTag.asByteBuffer(), out.asByteBuffer());
        return true;
      } catch (AEADBadTagException e) {
        return false;
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("JDK AES-GCM decryption failed: " + e.getMessage(), e);
      }
    }

    private void ensureOpen() {
      if (closed) {
        throw new IllegalStateException("AES-GCM context is closed");
      }
    }

    @Override
    public void close() {
      if (closed) {
        return;
      }
      closed = true;
      decryptor = null;
      try {
        key.destroy();
      } catch (DestroyFailedException e) {
        // SecretKeySpec may not support destroy; its copy is left to the garbage collector.
      }
    }
  }

  private static final class Sha implements Sha256 {
    private final MessageDigest md;

    Sha(MessageDigest md) {
      this.md = md;
    }

    @Override
    public void update(MemorySegment data) {
      long size = data.byteSize();
      for (long off = 0; off < size; off += CHUNK) {
        md.update(data.asSlice(off, Math.min(CHUNK, size - off)).asByteBuffer());
      }
    }

    @Override
    public byte[] digest() {
      return md.digest();
    }

    @Override
    public void close() {
      md.reset();
    }
  }
}
