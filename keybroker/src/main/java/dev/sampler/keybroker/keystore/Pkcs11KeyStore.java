package dev.sampler.keybroker.keystore;

import dev.sampler.keybroker.ResourcePath;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Data keys wrapped under a KEK held by a PKCS#11 token, one file per key version in a directory:
 * {@code DIR/<repo>/<type>/<tag>/v<N>.jwe} ({@link WrappedKeyFile}). Importing a key for a
 * resource adds the next version; {@link #fetch} returns the newest. Only ciphertext is ever
 * written; files are 0600 and directories 0700 where the file system has POSIX permissions.
 */
public final class Pkcs11KeyStore implements DataKeyStore {
  private static final Pattern VERSION_FILE = Pattern.compile("v([1-9][0-9]{0,8})\\.jwe");

  private final Pkcs11Token token;
  private final Kek kek;
  private final Path dir;

  private Pkcs11KeyStore(Pkcs11Token token, Kek kek, Path dir) {
    this.token = token;
    this.kek = kek;
    this.dir = dir;
  }

  /**
   * A store over {@code dir} using the token's KEK. Takes ownership of {@code token}.
   *
   * @throws StoreException when the KEK is missing or unusable, or {@code dir} is not a directory
   */
  public static Pkcs11KeyStore open(Pkcs11Token token, Path dir) throws StoreException {
    Kek kek = token.kek();
    if (!Files.isDirectory(dir)) {
      throw new StoreException("keystore: key directory " + dir + " does not exist (keybroker import creates it)");
    }
    return new Pkcs11KeyStore(token, kek, dir);
  }

  /**
   * A store over {@code dir}, creating the directory (0700) when it is missing; for {@code import}.
   *
   * @throws StoreException as {@link #open}, or when the directory cannot be created
   */
  public static Pkcs11KeyStore openOrCreate(Pkcs11Token token, Path dir) throws StoreException {
    try {
      createPrivateDirectories(dir);
    } catch (IOException e) {
      throw new StoreException("keystore: cannot create key directory " + dir + ": " + e.getMessage(), e);
    }
    return open(token, dir);
  }

  @Override
  public String description() {
    return "pkcs11: KEK '" + kek.label() + "' in " + token.name() + " of " + token.settings().library()
        + ", wrapped keys in " + dir;
  }

  @Override
  public Optional<DataKey> fetch(ResourcePath resource) throws StoreException {
    Path d = keyDir(resource);
    OptionalInt latest = latestVersion(d);
    if (latest.isEmpty()) {
      return Optional.empty();
    }
    int version = latest.getAsInt();
    Path f = d.resolve("v" + version + ".jwe");
    String text;
    try {
      if (Files.size(f) > WrappedKeyFile.MAX_FILE_BYTES) {
        throw new StoreException("keystore: " + f + " is larger than " + WrappedKeyFile.MAX_FILE_BYTES + " bytes");
      }
      text = Files.readString(f, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new StoreException("keystore: cannot read " + f + ": " + e.getMessage(), e);
    }
    return Optional.of(new DataKey(resource, version, WrappedKeyFile.open(kek, resource, version, text)));
  }

  /**
   * Wraps {@code key} under the KEK and stores it as the next version of {@code resource}. The
   * caller still owns (and zeroes) {@code key}.
   *
   * @return the new version number
   * @throws StoreException when the token or the file system fails
   */
  public int importKey(ResourcePath resource, byte[] key) throws StoreException {
    Path d = keyDir(resource);
    try {
      createPrivateDirectories(d);
    } catch (IOException e) {
      throw new StoreException("keystore: cannot create " + d + ": " + e.getMessage(), e);
    }
    int version = latestVersion(d).orElse(0) + 1;
    String text = WrappedKeyFile.seal(kek, resource, version, key);
    // Check that the token opens what it sealed before the file counts.
    byte[] back = WrappedKeyFile.open(kek, resource, version, text);
    boolean same = Arrays.equals(back, key);
    Arrays.fill(back, (byte) 0);
    if (!same) {
      throw new StoreException("hsm: the token did not decrypt what it encrypted; nothing stored");
    }
    Path target = d.resolve("v" + version + ".jwe");
    Path tmp = d.resolve(".v" + version + ".jwe.tmp");
    try {
      Files.deleteIfExists(tmp);
      Files.writeString(tmp, text + "\n", StandardCharsets.US_ASCII, StandardOpenOption.CREATE_NEW,
          StandardOpenOption.WRITE, StandardOpenOption.SYNC);
      setMode(tmp, "rw-------");
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target);
      }
    } catch (FileAlreadyExistsException e) {
      throw new StoreException("keystore: " + target + " appeared meanwhile (a concurrent import?); retry", e);
    } catch (IOException e) {
      throw new StoreException("keystore: cannot write " + target + ": " + e.getMessage(), e);
    } finally {
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException ignored) {
        // holds ciphertext only; left behind at worst
      }
    }
    return version;
  }

  /** Closes the token session. */
  @Override
  public void close() {
    token.close();
  }

  private Path keyDir(ResourcePath r) {
    return dir.resolve(r.repo()).resolve(r.type()).resolve(r.tag());
  }

  private static OptionalInt latestVersion(Path d) throws StoreException {
    if (!Files.isDirectory(d)) {
      return OptionalInt.empty();
    }
    try (Stream<Path> files = Files.list(d)) {
      return files.map(p -> VERSION_FILE.matcher(p.getFileName().toString()))
          .filter(Matcher::matches)
          .mapToInt(m -> Integer.parseInt(m.group(1)))
          .max();
    } catch (IOException e) {
      throw new StoreException("keystore: cannot list " + d + ": " + e.getMessage(), e);
    }
  }

  private static void createPrivateDirectories(Path d) throws IOException {
    if (Files.isDirectory(d)) {
      return;
    }
    Path parent = d.toAbsolutePath().getParent();
    if (parent != null) {
      createPrivateDirectories(parent);
    }
    try {
      Files.createDirectory(d);
      setMode(d, "rwx------");
    } catch (FileAlreadyExistsException e) {
      if (!Files.isDirectory(d)) {
        throw e;
      }
    }
  }

  private static void setMode(Path p, String mode) throws IOException {
    try {
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(mode));
    } catch (UnsupportedOperationException e) {
      // not a POSIX file system: the file holds ciphertext only
    }
  }
}
