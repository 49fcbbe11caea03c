package dev.sampler.keybroker.keystore;

import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.Provider;
import java.security.ProviderException;
import java.security.Security;
import java.util.Arrays;
import java.util.Objects;
import java.util.OptionalLong;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

/**
 * A logged-in session with a PKCS#11 token through the JDK's SunPKCS11 provider, holding the
 * broker's key-encryption key: AES-256, sensitive and non-extractable, a token object labelled
 * {@link Settings#kekLabel()}. Every encryption and decryption under it runs inside the token.
 *
 * <p>Each failure names its step: {@code hsm: PKCS#11 library ... not found}, {@code hsm: no
 * token labelled ...}, {@code hsm: login to token ... failed: wrong PIN}, {@code hsm: no key
 * labelled ...}. A PIN never appears in a message.
 */
public final class Pkcs11Token implements AutoCloseable {
  /** The default SoftHSM2 library path on Debian and Ubuntu (package softhsm2). */
  public static final Path DEFAULT_LIBRARY = Path.of("/usr/lib/softhsm/libsofthsm2.so");
  /** The default label of the key-encryption key. */
  public static final String DEFAULT_KEK_LABEL = "sampler-kek";

  /**
   * Which token and key to use.
   *
   * @param library the PKCS#11 library
   * @param tokenLabel the token's label; exactly one of tokenLabel and slot is given
   * @param slot the token's slot id
   * @param kekLabel the label of the KEK inside the token
   */
  public record Settings(Path library, String tokenLabel, OptionalLong slot, String kekLabel) {
    /**
     * Checks that exactly one of label and slot is given.
     *
     * @throws IllegalArgumentException otherwise
     */
    public Settings {
      Objects.requireNonNull(library, "library");
      Objects.requireNonNull(slot, "slot");
      Objects.requireNonNull(kekLabel, "kekLabel");
      if ((tokenLabel == null) == slot.isEmpty()) {
        throw new IllegalArgumentException("give exactly one of --hsm-token-label and --hsm-slot");
      }
      if (kekLabel.isEmpty() || kekLabel.length() > 64) {
        throw new IllegalArgumentException("--kek-label must be 1 to 64 characters");
      }
    }

    /** How messages name the token: {@code token 'label'} or {@code slot N}. */
    String tokenName() {
      return tokenLabel != null ? "token '" + tokenLabel + "'" : "slot " + slot.getAsLong();
    }
  }

  private final Settings settings;
  private final Provider provider;
  private final KeyStore keyStore;

  private Pkcs11Token(Settings settings, Provider provider, KeyStore keyStore) {
    this.settings = settings;
    this.provider = provider;
    this.keyStore = keyStore;
  }

  /**
   * Finds the token, configures SunPKCS11 for it and logs in as the user. The PIN array is zeroed
   * before this returns.
   *
   * @throws StoreException naming the step that failed
   */
  public static Pkcs11Token open(Settings settings, char[] pin) throws StoreException {
    try {
      long slot = settings.slot().isPresent()
          ? settings.slot().getAsLong()
          : TokenSlots.byLabel(settings.library(), settings.tokenLabel()).slotId();
      Provider base = Security.getProvider("SunPKCS11");
      if (base == null) {
        throw new StoreException("hsm: the JDK has no SunPKCS11 provider (module jdk.crypto.cryptoki)");
      }
      Provider provider;
      try {
        provider = base.configure(config(settings.library(), slot));
      } catch (ProviderException | IllegalArgumentException e) {
        throw new StoreException("hsm: configuring SunPKCS11 for " + settings.tokenName() + " of "
            + settings.library() + " failed: " + rootMessage(e), e);
      }
      KeyStore ks;
      try {
        ks = KeyStore.getInstance("PKCS11", provider);
        ks.load(null, pin);
      } catch (IOException | GeneralSecurityException | ProviderException e) {
        throw new StoreException("hsm: login to " + settings.tokenName() + " failed: " + loginReason(e), e);
      }
      return new Pkcs11Token(settings, provider, ks);
    } finally {
      if (pin != null) {
        Arrays.fill(pin, '\0');
      }
    }
  }

  /** The settings this token was opened with. */
  public Settings settings() {
    return settings;
  }

  /** {@code token 'label'} or {@code slot N}, for messages. */
  public String name() {
    return settings.tokenName();
  }

  /** Whether a KEK labelled {@link Settings#kekLabel()} exists in the token. */
  public boolean hasKek() throws StoreException {
    try {
      return keyStore.containsAlias(settings.kekLabel());
    } catch (GeneralSecurityException | ProviderException e) {
      throw new StoreException("hsm: looking up key '" + settings.kekLabel() + "' in " + name() + " failed: "
          + rootMessage(e), e);
    }
  }

  /**
   * Creates the KEK in the token: AES-256 generated by the token as a sensitive, non-extractable
   * session key, then stored as a private token object under the label.
   *
   * @throws StoreException when a key with the label exists already or the token refuses
   */
  public void createKek() throws StoreException {
    if (hasKek()) {
      throw new StoreException("hsm: " + name() + " already holds a key labelled '" + settings.kekLabel() + "'");
    }
    try {
      KeyGenerator kg = KeyGenerator.getInstance("AES", provider);
      kg.init(256);
      SecretKey session = kg.generateKey();
      keyStore.setEntry(settings.kekLabel(), new KeyStore.SecretKeyEntry(session), null);
    } catch (GeneralSecurityException | ProviderException e) {
      throw new StoreException("hsm: creating key '" + settings.kekLabel() + "' in " + name() + " failed: "
          + rootMessage(e), e);
    }
    kek(); // read it back: proves it is there and not extractable
  }

  /**
   * The KEK, checked to be an AES key whose value the token does not export.
   *
   * @throws StoreException "hsm: no key labelled 'x' in token 'y' (run keybroker init-kek)" and similar
   */
  public Kek kek() throws StoreException {
    Key key;
    try {
      key = keyStore.getKey(settings.kekLabel(), null);
    } catch (GeneralSecurityException | ProviderException e) {
      throw new StoreException("hsm: reading key '" + settings.kekLabel() + "' in " + name() + " failed: "
          + rootMessage(e), e);
    }
    if (key == null) {
      throw new StoreException("hsm: no key labelled '" + settings.kekLabel() + "' in " + name()
          + " (create it with: keybroker init-kek)");
    }
    if (!(key instanceof SecretKey) || !"AES".equalsIgnoreCase(key.getAlgorithm())) {
      throw new StoreException("hsm: key '" + settings.kekLabel() + "' in " + name() + " is not an AES secret key");
    }
    if (key.getEncoded() != null) {
      // SunPKCS11 returns an encoding only for keys whose value can leave the token.
      throw new StoreException("hsm: key '" + settings.kekLabel() + "' in " + name()
          + " is extractable; a KEK must be sensitive and non-extractable");
    }
    return new TokenKek(settings.kekLabel(), key);
  }

  /** Logs out and closes the provider's sessions. */
  @Override
  public void close() {
    try {
      if (provider instanceof java.security.AuthProvider ap) {
        ap.logout();
      }
    } catch (javax.security.auth.login.LoginException | ProviderException ignored) {
      // closing on the way out: nothing useful to do with a logout failure
    }
  }

  private final class TokenKek implements Kek {
    private final String label;
    private final Key key;

    TokenKek(String label, Key key) {
      this.label = label;
      this.key = key;
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
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding", provider);
        c.init(mode, key, new GCMParameterSpec(128, iv));
        c.updateAAD(aad);
        return c.doFinal(in);
      } catch (AEADBadTagException e) {
        throw new StoreException("hsm: AES-GCM tag does not verify under key '" + label + "' in " + name()
            + " (wrapped under another KEK, or the file was altered)", e);
      } catch (GeneralSecurityException | ProviderException e) {
        throw new StoreException("hsm: AES-GCM " + (mode == Cipher.ENCRYPT_MODE ? "encryption" : "decryption")
            + " under key '" + label + "' in " + name() + " failed: " + rootMessage(e), e);
      }
    }
  }

  /**
   * The SunPKCS11 configuration: the library, the slot, and a template that makes every AES key
   * the token generates for this provider sensitive and non-extractable.
   */
  static String config(Path library, long slot) {
    return "--name = sampler-keybroker\n"
        + "library = " + library.toAbsolutePath() + "\n"
        + "slot = " + slot + "\n"
        + "attributes(generate, CKO_SECRET_KEY, CKK_AES) = {\n"
        + "  CKA_SENSITIVE = true\n"
        + "  CKA_EXTRACTABLE = false\n"
        + "  CKA_ENCRYPT = true\n"
        + "  CKA_DECRYPT = true\n"
        + "}\n";
  }

  private static String loginReason(Throwable e) {
    String m = rootMessage(e);
    if (m.contains("CKR_PIN_INCORRECT")) {
      return "wrong PIN (CKR_PIN_INCORRECT)";
    }
    if (m.contains("CKR_PIN_LOCKED")) {
      return "the user PIN is locked (CKR_PIN_LOCKED)";
    }
    if (m.contains("CKR_USER_PIN_NOT_INITIALIZED")) {
      return "the token's user PIN is not initialised (CKR_USER_PIN_NOT_INITIALIZED)";
    }
    return m;
  }

  /** The innermost cause's class and message (PKCS#11 errors carry the CKR_ name there). */
  static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String m = t.getMessage();
    return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
  }
}
