package dev.sampler.integrity.crypto;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.NoSuchElementException;

/**
 * AES-256-GCM and SHA-256 from the system OpenSSL 3 ({@code libcrypto.so.3}, Debian package
 * {@code libssl3}) through the Foreign Function &amp; Memory API: no JNI, no bundled native code.
 * The binding is the EVP calls below and nothing else; each is used as OpenSSL's EVP
 * authenticated-encryption documentation shows ({@code EVP_EncryptInit_ex(3)}).
 *
 * <ul>
 *   <li>{@code EVP_CIPHER_CTX_new/free}, {@code EVP_aes_256_gcm}, {@code EVP_CIPHER_CTX_ctrl}
 *       ({@code EVP_CTRL_GCM_SET_IVLEN}, {@code _SET_TAG}, {@code _GET_TAG});
 *   <li>{@code EVP_EncryptInit_ex/Update/Final_ex}, {@code EVP_DecryptInit_ex/Update/Final_ex};
 *   <li>{@code EVP_MD_CTX_new/free}, {@code EVP_sha256}, {@code EVP_DigestInit_ex/Update/Final_ex};
 *   <li>{@code ERR_clear_error}, {@code OpenSSL_version_num}, {@code OpenSSL_version}.
 * </ul>
 *
 * <p>Needs native access ({@code --enable-native-access=ALL-UNNAMED}; without it Java 25 warns
 * once, and a JVM run with {@code --illegal-native-access=deny} makes {@link #load} fail).
 */
public final class OpenSslCrypto implements CryptoProvider {
  /** The shared object loaded (the OpenSSL 3 ABI soname). */
  public static final String LIBRARY = "libcrypto.so.3";

  // openssl/evp.h
  private static final int EVP_CTRL_GCM_SET_IVLEN = 0x9;
  private static final int EVP_CTRL_GCM_GET_TAG = 0x10;
  private static final int EVP_CTRL_GCM_SET_TAG = 0x11;
  // openssl/crypto.h
  private static final int OPENSSL_VERSION = 0;

  /** EVP_*Update take an int length: longer inputs go in chunks of this size. */
  private static final int CHUNK = 1 << 30;

  /** Heap data for SHA-256 is copied off heap in pieces of this size. */
  private static final int HEAP_COPY = 1 << 16;

  private final MethodHandle cipherCtxNew;
  private final MethodHandle cipherCtxFree;
  private final MethodHandle cipherCtxCtrl;
  private final MethodHandle encryptInit;
  private final MethodHandle encryptUpdate;
  private final MethodHandle encryptFinal;
  private final MethodHandle decryptInit;
  private final MethodHandle decryptUpdate;
  private final MethodHandle decryptFinal;
  private final MethodHandle mdCtxNew;
  private final MethodHandle mdCtxFree;
  private final MethodHandle digestInit;
  private final MethodHandle digestUpdate;
  private final MethodHandle digestFinal;
  private final MethodHandle errClear;
  /** {@code const EVP_CIPHER *} and {@code const EVP_MD *}: static objects inside libcrypto. */
  private final MemorySegment aes256Gcm;
  private final MemorySegment sha256Md;
  private final String version;

  private OpenSslCrypto(SymbolLookup lib) throws CryptoUnavailableException {
    Linker linker = Linker.nativeLinker();
    Binder b = new Binder(linker, lib);
    MethodHandle versionNum = b.bind("OpenSSL_version_num", FunctionDescriptor.of(JAVA_LONG));
    MethodHandle versionText = b.bind("OpenSSL_version", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    cipherCtxNew = b.bind("EVP_CIPHER_CTX_new", FunctionDescriptor.of(ADDRESS));
    cipherCtxFree = b.bind("EVP_CIPHER_CTX_free", FunctionDescriptor.ofVoid(ADDRESS));
    cipherCtxCtrl = b.bind("EVP_CIPHER_CTX_ctrl", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
    FunctionDescriptor init = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS);
    FunctionDescriptor update = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT);
    FunctionDescriptor fin = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
    encryptInit = b.bind("EVP_EncryptInit_ex", init);
    encryptUpdate = b.bind("EVP_EncryptUpdate", update);
    encryptFinal = b.bind("EVP_EncryptFinal_ex", fin);
    decryptInit = b.bind("EVP_DecryptInit_ex", init);
    decryptUpdate = b.bind("EVP_DecryptUpdate", update);
    decryptFinal = b.bind("EVP_DecryptFinal_ex", fin);
    mdCtxNew = b.bind("EVP_MD_CTX_new", FunctionDescriptor.of(ADDRESS));
    mdCtxFree = b.bind("EVP_MD_CTX_free", FunctionDescriptor.ofVoid(ADDRESS));
    digestInit = b.bind("EVP_DigestInit_ex", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    digestUpdate = b.bind("EVP_DigestUpdate", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
    digestFinal = b.bind("EVP_DigestFinal_ex", fin);
    errClear = b.bind("ERR_clear_error", FunctionDescriptor.ofVoid());
    MethodHandle aesGcm = b.bind("EVP_aes_256_gcm", FunctionDescriptor.of(ADDRESS));
    MethodHandle sha256 = b.bind("EVP_sha256", FunctionDescriptor.of(ADDRESS));
    try {
      long num = (long) versionNum.invokeExact();
      // OPENSSL_VERSION_NUMBER is 0xMNN00PP0L: major 3 or later has the EVP_* API bound here.
      if (num >>> 28 < 3) {
        throw new CryptoUnavailableException(
            LIBRARY + " reports version 0x" + Long.toHexString(num) + ", older than OpenSSL 3");
      }
      MemorySegment text = (MemorySegment) versionText.invokeExact(OPENSSL_VERSION);
      version = text.equals(MemorySegment.NULL) ? "OpenSSL" : text.reinterpret(256).getString(0);
      aes256Gcm = (MemorySegment) aesGcm.invokeExact();
      sha256Md = (MemorySegment) sha256.invokeExact();
    } catch (CryptoUnavailableException e) {
      throw e;
    } catch (Throwable t) {
      throw new CryptoUnavailableException(LIBRARY + ": calling it failed: " + t, t);
    }
    if (aes256Gcm.equals(MemorySegment.NULL) || sha256Md.equals(MemorySegment.NULL)) {
      throw new CryptoUnavailableException(LIBRARY + ": EVP_aes_256_gcm() or EVP_sha256() returned NULL");
    }
  }

  /**
   * Loads {@link #LIBRARY} and binds the functions. Does not run the self-test; {@link
   * Crypto#openssl()} does.
   *
   * @throws CryptoUnavailableException if the library cannot be loaded (missing, native access
   *     denied), lacks a symbol, or is older than OpenSSL 3
   */
  public static OpenSslCrypto load() throws CryptoUnavailableException {
    SymbolLookup lib;
    try {
      lib = SymbolLookup.libraryLookup(LIBRARY, Arena.global());
    } catch (IllegalArgumentException e) {
      throw new CryptoUnavailableException(LIBRARY + " could not be loaded: " + e.getMessage(), e);
    } catch (IllegalCallerException e) {
      throw new CryptoUnavailableException(
          "native access is not enabled for this module (run java with --enable-native-access=ALL-UNNAMED): "
              + e.getMessage(), e);
    }
    return new OpenSslCrypto(lib);
  }

  @Override
  public String name() {
    return "openssl";
  }

  @Override
  public String description() {
    return version + " (" + LIBRARY + ")";
  }

  @Override
  public AesGcm aesGcm(byte[] key) {
    Sizes.checkKey(key);
    return new Gcm(key);
  }

  @Override
  public Sha256 sha256() {
    return new Sha();
  }

  @Override
  public String toString() {
    return "OpenSslCrypto[" + version + "]";
  }

  private static IllegalStateException failure(String call, Throwable cause) {
    return new IllegalStateException("OpenSSL " + call + " failed", cause);
  }

  private static void check(int rc, String call) {
    if (rc != 1) {
      throw new IllegalStateException("OpenSSL " + call + " returned " + rc);
    }
  }

  /** {@code seg} itself when it is off heap, else an off-heap copy of it in {@code tmp}. */
  private static MemorySegment offHeap(MemorySegment seg, Arena tmp) {
    if (seg.isNative()) {
      return seg;
    }
    return tmp.allocate(Math.max(1, seg.byteSize())).asSlice(0, seg.byteSize()).copyFrom(seg);
  }

  /** A keyed GCM context: one EVP_CIPHER_CTX per direction, key set once, nonce set per call. */
  private final class Gcm implements AesGcm {
    private final Arena arena = Arena.ofShared();
    private final MemorySegment iv = arena.allocate(NONCE_BYTES);
    private final MemorySegment outLen = arena.allocate(JAVA_INT);
    private MemorySegment enc = MemorySegment.NULL;
    private MemorySegment dec = MemorySegment.NULL;
    private boolean closed;

    Gcm(byte[] key) {
      MemorySegment k = arena.allocate(32);
      try {
        k.copyFrom(MemorySegment.ofArray(key));
        enc = newContext(encryptInit, k, "EVP_EncryptInit_ex");
        dec = newContext(decryptInit, k, "EVP_DecryptInit_ex");
      } catch (RuntimeException | Error e) {
        close();
        throw e;
      } finally {
        // OpenSSL keeps its own key schedule in the context (wiped by EVP_CIPHER_CTX_free).
        k.fill((byte) 0);
      }
    }

    private MemorySegment newContext(MethodHandle initFn, MemorySegment key, String name) {
      try {
        MemorySegment ctx = (MemorySegment) cipherCtxNew.invokeExact();
        if (ctx.equals(MemorySegment.NULL)) {
          throw new IllegalStateException("OpenSSL EVP_CIPHER_CTX_new returned NULL");
        }
        try {
          check((int) initFn.invokeExact(ctx, aes256Gcm, MemorySegment.NULL, MemorySegment.NULL, MemorySegment.NULL), name);
          check((int) cipherCtxCtrl.invokeExact(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_BYTES, MemorySegment.NULL),
              "EVP_CIPHER_CTX_ctrl(SET_IVLEN)");
          check((int) initFn.invokeExact(ctx, MemorySegment.NULL, MemorySegment.NULL, key, MemorySegment.NULL), name);
        } catch (Throwable t) {
          cipherCtxFree.invokeExact(ctx);
          throw t;
        }
        return ctx;
      } catch (RuntimeException | Error e) {
        throw e;
      } catch (Throwable t) {
        throw failure(name, t);
      }
    }

    @Override
    public void encrypt(byte[] nonce, MemorySegment aad, MemorySegment plaintext, MemorySegment out) {
      Sizes.checkEncrypt(nonce, plaintext, out);
      ensureOpen();
      long n = plaintext.byteSize();
      try (Arena tmp = Arena.ofConfined()) {
        MemorySegment in = offHeap(plaintext, tmp);
        try {
          MemorySegment o = out.isNative() ? out : tmp.allocate(out.byteSize());
          begin(encryptInit, encryptUpdate, enc, nonce, aad, tmp, "EVP_Encrypt");
          update(encryptUpdate, enc, in, o, n, "EVP_EncryptUpdate");
          check((int) encryptFinal.invokeExact(enc, o.asSlice(n, 0), outLen), "EVP_EncryptFinal_ex");
          check((int) cipherCtxCtrl.invokeExact(enc, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, o.asSlice(n, TAG_BYTES)),
              "EVP_CIPHER_CTX_ctrl(GET_TAG)");
          if (o != out) {
            out.copyFrom(o);
          }
        } finally {
          if (in != plaintext) {
            in.fill((byte) 0); // an off-heap copy of the plaintext
          }
        }
      } catch (RuntimeException | Error e) {
        throw e;
      } catch (Throwable t) {
        throw failure("AES-GCM encryption", t);
      }
    }

    @Override
    public boolean decrypt(byte[] nonce, MemorySegment aad, MemorySegment ciphertextAndTag, MemorySegment out) {
      Sizes.checkDecrypt(nonce, ciphertextAndTag, out);
      ensureOpen();
      long n = out.byteSize();
      try (Arena tmp = Arena.ofConfined()) {
        MemorySegment in = offHeap(ciphertextAndTag, tmp);
        MemorySegment o = out.isNative() ? out : tmp.allocate(Math.max(1, n)).asSlice(0, n);
        try {
          begin(decryptInit, decryptUpdate, dec, nonce, aad, tmp, "EVP_Decrypt");
          update(decryptUpdate, dec, in, o, n, "EVP_DecryptUpdate");
          check((int) cipherCtxCtrl.invokeExact(dec, EVP_CTRL_GCM_SET_TAG, TAG_BYTES, in.asSlice(n, TAG_BYTES)),
              "EVP_CIPHER_CTX_ctrl(SET_TAG)");
          int ok = (int) decryptFinal.invokeExact(dec, o.asSlice(n, 0), outLen);
          if (ok <= 0) {
            errClear.invokeExact();
            return false;
          }
          if (o != out) {
            out.copyFrom(o);
          }
          return true;
        } finally {
          if (o != out) {
            o.fill((byte) 0); // the temporary may hold plaintext, authenticated or not
          }
        }
      } catch (RuntimeException | Error e) {
        throw e;
      } catch (Throwable t) {
        throw failure("AES-GCM decryption", t);
      }
    }

    /** Sets the nonce on a keyed context ({@code *Init_ex} with only an IV) and feeds the associated data. */
    private void begin(MethodHandle initFn, MethodHandle updateFn, MemorySegment ctx, byte[] nonce,
        MemorySegment aad, Arena tmp, String prefix) throws Throwable {
      iv.copyFrom(MemorySegment.ofArray(nonce));
      check((int) initFn.invokeExact(ctx, MemorySegment.NULL, MemorySegment.NULL, MemorySegment.NULL, iv),
          prefix + "Init_ex");
      // out == NULL: the input is associated data.
      update(updateFn, ctx, offHeap(aad, tmp), MemorySegment.NULL, aad.byteSize(), prefix + "Update");
    }

    /** {@code *Update} over {@code n} bytes in int-sized chunks; {@code out} NULL feeds associated data. */
    private void update(MethodHandle updateFn, MemorySegment ctx, MemorySegment in, MemorySegment out, long n,
        String name) throws Throwable {
      for (long off = 0; off < n; off += CHUNK) {
        int len = (int) Math.min(CHUNK, n - off);
        boolean aad = out.equals(MemorySegment.NULL);
        MemorySegment dst = aad ? MemorySegment.NULL : out.asSlice(off, len);
        check((int) updateFn.invokeExact(ctx, dst, outLen, in.asSlice(off, len), len), name);
        if (!aad) {
          checkLength(len);
        }
      }
    }

    private void checkLength(int expected) {
      int got = outLen.get(JAVA_INT, 0);
      if (got != expected) {
        throw new IllegalStateException("OpenSSL GCM update produced " + got + " bytes for " + expected);
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
      try {
        if (!enc.equals(MemorySegment.NULL)) {
          cipherCtxFree.invokeExact(enc);
        }
        if (!dec.equals(MemorySegment.NULL)) {
          cipherCtxFree.invokeExact(dec);
        }
      } catch (Throwable t) {
        throw failure("EVP_CIPHER_CTX_free", t);
      } finally {
        enc = MemorySegment.NULL;
        dec = MemorySegment.NULL;
        arena.close();
      }
    }
  }

  /** An EVP_MD_CTX for SHA-256, re-initialised after each digest. */
  private final class Sha implements Sha256 {
    private final Arena arena = Arena.ofShared();
    private final MemorySegment md = arena.allocate(64);
    private final MemorySegment mdLen = arena.allocate(JAVA_INT);
    private MemorySegment copy;
    private MemorySegment ctx;

    Sha() {
      try {
        ctx = (MemorySegment) mdCtxNew.invokeExact();
        if (ctx.equals(MemorySegment.NULL)) {
          arena.close();
          throw new IllegalStateException("OpenSSL EVP_MD_CTX_new returned NULL");
        }
        init();
      } catch (RuntimeException | Error e) {
        throw e;
      } catch (Throwable t) {
        throw failure("EVP_MD_CTX_new", t);
      }
    }

    private void init() throws Throwable {
      check((int) digestInit.invokeExact(ctx, sha256Md, MemorySegment.NULL), "EVP_DigestInit_ex");
    }

    @Override
    public void update(MemorySegment data) {
      ensureOpen();
      long size = data.byteSize();
      if (size == 0) {
        return;
      }
      try {
        if (data.isNative()) {
          check((int) digestUpdate.invokeExact(ctx, data, size), "EVP_DigestUpdate");
          return;
        }
        if (copy == null) {
          copy = arena.allocate(HEAP_COPY);
        }
        for (long off = 0; off < size; off += HEAP_COPY) {
          long len = Math.min(HEAP_COPY, size - off);
          MemorySegment.copy(data, off, copy, 0, len);
          check((int) digestUpdate.invokeExact(ctx, copy, len), "EVP_DigestUpdate");
        }
      } catch (RuntimeException | Error e) {
        throw e;
      } catch (Throwable t) {
        throw failure("EVP_DigestUpdate", t);
      }
    }

    @Override
    public byte[] digest() {
      ensureOpen();
      try {
        check((int) digestFinal.invokeExact(ctx, md, mdLen), "EVP_DigestFinal_ex");
        if (mdLen.get(JAVA_INT, 0) != DIGEST_BYTES) {
          throw new IllegalStateException("OpenSSL SHA-256 produced " + mdLen.get(JAVA_INT, 0) + " bytes");
        }
        byte[] out = md.asSlice(0, DIGEST_BYTES).toArray(JAVA_BYTE);
        init();
        return out;
      } catch (RuntimeException | Error e) {
        throw e;
      } catch (Throwable t) {
        throw failure("EVP_DigestFinal_ex", t);
      }
    }

    private void ensureOpen() {
      if (ctx == null) {
        throw new IllegalStateException("SHA-256 context is closed");
      }
    }

    @Override
    public void close() {
      if (ctx == null) {
        return;
      }
      try {
        mdCtxFree.invokeExact(ctx);
      } catch (Throwable t) {
        throw failure("EVP_MD_CTX_free", t);
      } finally {
        ctx = null;
        arena.close();
      }
    }
  }

  /** Looks symbols up and links them, turning a missing symbol into a precise error. */
  private record Binder(Linker linker, SymbolLookup lib) {
    MethodHandle bind(String symbol, FunctionDescriptor fd) throws CryptoUnavailableException {
      try {
        return linker.downcallHandle(lib.findOrThrow(symbol), fd);
      } catch (NoSuchElementException e) {
        throw new CryptoUnavailableException(LIBRARY + " has no symbol " + symbol, e);
      } catch (IllegalCallerException e) {
        throw new CryptoUnavailableException(
            "native access is not enabled for this module (run java with --enable-native-access=ALL-UNNAMED)", e);
      }
    }
  }
}
