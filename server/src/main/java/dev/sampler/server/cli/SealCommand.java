package dev.sampler.server.cli;

import dev.sampler.integrity.crypto.Crypto;
import dev.sampler.integrity.crypto.CryptoProvider;
import dev.sampler.integrity.sealed.DataKey;
import dev.sampler.integrity.sealed.InsecureKeyAccess;
import dev.sampler.integrity.sealed.SealResult;
import dev.sampler.integrity.sealed.SealedFormat;
import dev.sampler.integrity.sealed.Sealer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code sampler seal}: encrypts every {@code *.safetensors} file of a model directory under a
 * fresh data key (Tink's AES256_GCM_HKDF_1MB streaming format, the file's path relative to the
 * model directory as associated data) and copies every other file unchanged, so the signed
 * manifest ({@code model.sig}) and configs travel with the sealed weights. The key goes to a new
 * file with mode 0600 or to stdout, for the key broker's import; nothing else ever shows it.
 */
@Command(
    name = "seal",
    mixinStandardHelpOptions = true,
    description = {
      "Seal a model directory: encrypt each *.safetensors file into OUT/<name>.sealed under a fresh data key"
          + " (Tink AES256_GCM_HKDF_1MB, the relative file name as associated data) and copy every other file"
          + " (configs, model.sig, signer.pub.pem) unchanged.",
      "The key (base64, one line) goes to --key-out FILE (created with mode 0600; never overwritten) or to"
          + " stdout with '-', e.g. piped into 'bin/keybroker import'. What was sealed is listed on stderr."
    })
final class SealCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--model", required = true, paramLabel = "DIR", description = "model directory to seal")
  Path model;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory (must not exist)")
  Path out;

  @Option(names = "--key-out", required = true, paramLabel = "FILE|-",
      description = "where to write the data key: a new file (mode 0600), or - for stdout")
  String keyOut;

  @Override
  public Integer call() throws Exception {
    PrintWriter err = spec.commandLine().getErr();
    if (!Files.isDirectory(model, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException("model directory does not exist or is not a directory: " + model);
    }
    Path keyFile = keyOut.equals("-") ? null : Path.of(keyOut);
    if (Files.exists(out, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException("output directory already exists (refusing to overwrite): " + out);
    }
    if (keyFile != null) {
      if (Files.exists(keyFile, LinkOption.NOFOLLOW_LINKS)) {
        throw new IOException("key file already exists (refusing to overwrite): " + keyFile);
      }
      Path parent = keyFile.toAbsolutePath().getParent();
      if (parent == null || !Files.isDirectory(parent)) {
        throw new IOException("key file's directory does not exist: " + parent);
      }
    }
    List<Path> files = listFiles(model);

    CryptoProvider crypto = Crypto.auto();
    err.println(Crypto.selection());
    long sealedCount = 0;
    long sealedBytes = 0;
    long copiedCount = 0;
    boolean done = false;
    Files.createDirectory(out); // atomic: fails if something appeared meanwhile
    try (DataKey key = DataKey.generate()) {
      for (Path f : files) {
        String rel = relativeName(model, f);
        Path dir = out.resolve(rel).getParent();
        Files.createDirectories(dir);
        if (rel.endsWith(".safetensors")) {
          Path target = out.resolve(rel + SealedFormat.SUFFIX);
          SealResult r = Sealer.seal(f, target, key, rel, crypto);
          err.printf("sealed  %s -> %s  (%,d -> %,d bytes, %d segment%s)%n", rel, out.relativize(target),
              r.plaintextBytes(), r.sealedBytes(), r.segments(), r.segments() == 1 ? "" : "s");
          sealedCount++;
          sealedBytes += r.plaintextBytes();
        } else {
          Path target = out.resolve(rel);
          Files.copy(f, target);
          err.printf("copied  %s  (%,d bytes)%n", rel, Files.size(target));
          copiedCount++;
        }
      }
      if (sealedCount == 0) {
        throw new IOException("no *.safetensors file in " + model + ": nothing to seal");
      }
      byte[] line = withNewline(key.toBase64(InsecureKeyAccess.get()));
      try {
        if (keyFile == null) {
          writeToStdout(line);
        } else {
          writeKeyFile(keyFile, line);
        }
      } finally {
        Arrays.fill(line, (byte) 0);
      }
      done = true;
    } finally {
      if (!done) {
        deleteTree(out);
      }
    }
    err.printf("sealed %d file(s) (%,d bytes of weights), copied %d file(s) into %s%n",
        sealedCount, sealedBytes, copiedCount, out);
    err.println(keyFile == null
        ? "data key: written to stdout"
        : "data key: written to " + keyFile + " (mode 0600); import it into the key broker, then delete it");
    err.flush();
    return ExitCode.OK;
  }

  /** Regular files under {@code dir}, sorted; a symbolic link is refused rather than followed. */
  static List<Path> listFiles(Path dir) throws IOException {
    List<Path> files = new ArrayList<>();
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.naturalOrder()).toList()) {
        if (Files.isSymbolicLink(p)) {
          throw new IOException("symbolic link in the model directory (refusing to follow it): " + p);
        }
        if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
          files.add(p);
        } else if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
          throw new IOException("not a regular file or directory in the model directory: " + p);
        }
      }
    }
    return files;
  }

  /** The file's path relative to the model directory, '/'-separated: its associated data. */
  static String relativeName(Path root, Path file) {
    List<String> parts = new ArrayList<>();
    for (Path p : root.relativize(file)) {
      parts.add(p.toString());
    }
    return String.join("/", parts);
  }

  private static byte[] withNewline(byte[] b64) {
    byte[] line = Arrays.copyOf(b64, b64.length + 1);
    line[b64.length] = '\n';
    Arrays.fill(b64, (byte) 0);
    return line;
  }

  private void writeToStdout(byte[] line) {
    PrintWriter o = spec.commandLine().getOut();
    char[] chars = new char[line.length];
    for (int i = 0; i < line.length; i++) {
      chars[i] = (char) line[i];
    }
    o.write(chars);
    o.flush();
    Arrays.fill(chars, '\0');
  }

  /**
   * Creates {@code target} holding {@code line}, mode 0600 from the first byte on, and complete or
   * not at all: the bytes go to a 0600 temporary file beside it, which is then hard-linked to the
   * target name (link(2) fails if the name exists, so an existing file is never replaced).
   */
  static void writeKeyFile(Path target, byte[] line) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    Path tmp;
    try {
      tmp = Files.createTempFile(dir, ".sampler-key-", ".tmp",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (UnsupportedOperationException e) {
      throw new IOException("cannot create a key file with mode 0600 in " + dir + " (no POSIX permissions there)");
    }
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ByteBuffer b = ByteBuffer.wrap(line);
        while (b.hasRemaining()) {
          ch.write(b);
        }
        ch.force(true);
      }
      try {
        Files.createLink(target, tmp);
      } catch (FileAlreadyExistsException e) {
        throw new IOException("key file already exists (refusing to overwrite): " + target);
      } catch (UnsupportedOperationException | FileSystemException e) {
        // No hard links on this file system: rename instead (atomic, but it would replace a file
        // created after the check above; the window is the few microseconds between the two).
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
          throw new IOException("key file already exists (refusing to overwrite): " + target);
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException ignored) {
      // best effort: the failure that got us here is what the user needs to see
    }
  }
}
