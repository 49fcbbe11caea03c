package dev.sampler.integrity.signing;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * How {@link VerifiedManifest#verifyDirectory} compares a model directory with its manifest.
 * Defaults: the git paths ignored, the signature file {@code model.sig} in the model root ignored,
 * every file on disk counted, nothing verified elsewhere.
 *
 * @param ignorePaths extra paths to leave out, relative to the model root (on top of the recorded
 *     {@code ignore_paths}, the git paths and the signature file)
 * @param verifiedElsewhere manifest names whose content the caller verifies itself (sealed weights:
 *     on disk as {@code <name>}{@value #SEALED_SUFFIX} ciphertext, checked after decryption with
 *     {@link VerifiedManifest#verifyContent}); each must be in the manifest, is not hashed here, and
 *     its {@code .sealed} file does not count as extra
 * @param signatureFile the signature file, left out when it lies inside the model; null means
 *     {@code model.sig} in the model root
 * @param ignoreGitPaths whether {@code .git}, {@code .gitattributes}, {@code .github} and {@code
 *     .gitignore} are left out (upstream's default)
 * @param onlySignedFiles hash only files the manifest names, so unsigned extra files are
 *     tolerated (upstream's {@code --ignore_unsigned_files}); off by default
 * @param threads hashing threads, at least 1
 */
public record VerifyOptions(List<String> ignorePaths, Set<String> verifiedElsewhere, Path signatureFile,
    boolean ignoreGitPaths, boolean onlySignedFiles, int threads) {

  /** The on-disk suffix of a file whose plaintext name is declared {@link #verifiedElsewhere}. */
  public static final String SEALED_SUFFIX = ".sealed";
  /** The signature's file name when none is given. */
  public static final String DEFAULT_SIGNATURE_NAME = "model.sig";

  /**
   * Validates and normalizes the paths.
   *
   * @throws IllegalArgumentException for threads below 1 or a path that is empty, absolute,
   *     contains {@code ..} or is {@code .}
   */
  public VerifyOptions {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, not " + threads);
    }
    List<String> norm = new ArrayList<>(ignorePaths.size());
    for (String p : ignorePaths) {
      norm.add(ModelTree.normalizeRelative(p));
    }
    ignorePaths = List.copyOf(norm);
    Set<String> names = new LinkedHashSet<>();
    for (String n : verifiedElsewhere) {
      names.add(ModelTree.normalizeRelative(n));
    }
    verifiedElsewhere = Set.copyOf(names);
  }

  /** The defaults described above. */
  public static VerifyOptions defaults() {
    return new VerifyOptions(List.of(), Set.of(), null, true, false, Hashing.DEFAULT_THREADS);
  }

  /** These options with {@code paths} (relative to the model root) also left out. */
  public VerifyOptions withIgnorePaths(List<String> paths) {
    List<String> all = new ArrayList<>(ignorePaths);
    all.addAll(paths);
    return new VerifyOptions(all, verifiedElsewhere, signatureFile, ignoreGitPaths, onlySignedFiles, threads);
  }

  /** These options with {@code names} verified by the caller (see {@link #verifiedElsewhere}). */
  public VerifyOptions withVerifiedElsewhere(Set<String> names) {
    Set<String> all = new LinkedHashSet<>(verifiedElsewhere);
    all.addAll(names);
    return new VerifyOptions(ignorePaths, all, signatureFile, ignoreGitPaths, onlySignedFiles, threads);
  }

  /** These options with the signature file at {@code file}. */
  public VerifyOptions withSignatureFile(Path file) {
    return new VerifyOptions(ignorePaths, verifiedElsewhere, file, ignoreGitPaths, onlySignedFiles, threads);
  }

  /** These options with the git paths left out ({@code true}) or counted. */
  public VerifyOptions withIgnoreGitPaths(boolean ignore) {
    return new VerifyOptions(ignorePaths, verifiedElsewhere, signatureFile, ignore, onlySignedFiles, threads);
  }

  /** These options hashing only the files the manifest names ({@code true}) or all files. */
  public VerifyOptions withOnlySignedFiles(boolean only) {
    return new VerifyOptions(ignorePaths, verifiedElsewhere, signatureFile, ignoreGitPaths, only, threads);
  }

  /** These options hashing on {@code n} threads. */
  public VerifyOptions withThreads(int n) {
    return new VerifyOptions(ignorePaths, verifiedElsewhere, signatureFile, ignoreGitPaths, onlySignedFiles, n);
  }
}
