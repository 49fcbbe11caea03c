package dev.sampler.keybroker.keystore;

import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.Provider;
import java.security.ProviderException;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;

/**
 * A {@link Kek} that runs AES/GCM/NoPadding (128-bit tag) with a given provider: SunPKCS11 for a
 * key that lives in a token ({@link Pkcs11Token#kek()}), where the cipher runs inside the token.
 */
public final class AesGcmKek implements Kek {
  private final String label;
  private final Key key;
  private final Provider provider;
  private final String step;
  private final String where;

  /**
   * A KEK over {@code key}.
   *
   * @param label the key's label
   * @param key the AES key (a handle when it lives in a token)
   * @param provider the provider that runs the cipher; null for the JDK's default choice
   * @param step the step named in messages ({@code hsm})
   * @param where where the key lives, for messages ({@code token 'x'})
   */
  public AesGcmKek(String label, Key key, Provider provider, String step, String where) {
    this.label = label;
    this.key = key;
    this.provider = provider;
    this.step = step;
    this.where = where;
  }

  @Override
  public String label() {
    return label;
  }

  @Override
  public byte[] seal(byte[] iv, byte[] aad, byte[] plaintext) throws StoreException {
    return run(Cipher.ENCRYPT_MODE, iv, aad, plaintext);
  }

  @Override
  public byte[] open(byte[] iv, byte[] aad, byte[] ciphertextAndTag) throws StoreException {
    return run(Cipher.DECRYPT_MODE, iv, aad, ciphertextAndTag);
  }

  private byte[] run(int mode, byte[] iv, byte[] aad, byte[] in) throws StoreException {
    try {
      Cipher c = provider == null ? Cipher.getInstance("AES/GCM/NoPadding")
          : Cipher.getInstance("AES/GCM/NoPadding", provider);
      c.init(mode, key, new GCMParameterSpec(128, iv));
      c.updateAAD(aad);
      return c.doFinal(in);
    } catch (AEADBadTagException e) {
      throw new StoreException(step + ": AES-GCM tag does not verify under key '" + label + "' in " + where
          + " (wrapped under another KEK, or the file was altered)", e);
    } catch (GeneralSecurityException | ProviderException e) {
      throw new StoreException(step + ": AES-GCM " + (mode == Cipher.ENCRYPT_MODE ? "encryption" : "decryption")
          + " under key '" + label + "' in " + where + " failed: " + Pkcs11Token.rootMessage(e), e);
    }
  }
}
