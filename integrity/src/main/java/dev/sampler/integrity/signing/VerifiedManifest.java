package dev.sampler.integrity.signing;

import static dev.sampler.integrity.Untrusted.quote;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;

/**
 * A manifest whose signature verified against the pinned key (only {@link ModelSignature} creates
 * one): the resources the model must consist of, how they were computed, and the root digest that
 * names the model. Its methods compare a model on disk, or one file's bytes in memory, with it.
 *
 * <p>Names are as signed: POSIX paths relative to the model root ({@code "."} for a single-file
 * model), with {@code :start:end} appended for shards. They are checked to be plain relative
 * paths (no {@code ..}, no absolute path, no empty component), so joining one to the model root
 * stays inside it (symbolic links aside).
 */
public final class VerifiedManifest {
  /** Names listed per category in a mismatch message before "and N more". */
  static final int MAX_LISTED = 10;

  private final String label;
  private final String subjectName;
  private final String rootDigest;
  private final Serialization serialization;
  private final SequencedMap<String, ResourceDigest> resources;
  private final List<String> warnings;
  /** File path -> what its content must hash to. */
  private final Map<String, ExpectedDigests> files;

  private VerifiedManifest(String label, String subjectName, String rootDigest, Serialization serialization,
      SequencedMap<String, ResourceDigest> resources, List<String> warnings, Map<String, ExpectedDigests> files) {
    this.label = label;
    this.subjectName = subjectName;
    this.rootDigest = rootDigest;
    this.serialization = serialization;
    this.resources = resources;
    this.warnings = warnings;
    this.files = files;
  }

  /** Checks names, algorithms and shard tiling; builds the per-file view. */
  static VerifiedManifest create(String label, String subjectName, String rootDigest, Serialization ser,
      Map<String, ResourceDigest> byName, List<String> warnings, Function<String, SignatureVerificationException> fail)
      throws SignatureVerificationException {
    String algorithm = ser.algorithm();
    Map<String, ExpectedDigests> files = new LinkedHashMap<>();
    Map<String, List<ExpectedDigests.Shard>> shards = new LinkedHashMap<>();
    for (Map.Entry<String, ResourceDigest> e : byName.entrySet()) {
      String name = e.getKey();
      ResourceDigest d = e.getValue();
      if (!d.algorithm().equals(algorithm)) {
        throw fail.apply("resource " + quote(name) + ": algorithm " + quote(d.algorithm())
            + " does not match serialization method " + ser.method().wireName() + " (expected " + algorithm + ")");
      }
      if (d.digest().length() != 64) {
        throw fail.apply("resource " + quote(name) + ": digest has " + d.digest().length() / 2
            + " bytes; SHA-256 has 32");
      }
      if (ser.method() == Serialization.Method.FILES) {
        checkPath(name, name, fail);
        files.put(name, new ExpectedDigests.WholeFile(d.digest()));
      } else {
        int b = name.lastIndexOf(':');
        int a = b <= 0 ? -1 : name.lastIndexOf(':', b - 1);
        long start;
        long end;
        try {
          if (a <= 0) {
            throw new NumberFormatException();
          }
          start = Long.parseLong(name.substring(a + 1, b));
          end = Long.parseLong(name.substring(b + 1));
          if (!name.substring(a + 1).equals(start + ":" + end)) {
            throw new NumberFormatException(); // signs, leading zeros: not how a signer writes them
          }
        } catch (NumberFormatException ex) {
          throw fail.apply("resource " + quote(name) + " is not a shard name (path:start:end)");
        }
        String path = name.substring(0, a);
        checkPath(path, name, fail);
        shards.computeIfAbsent(path, k -> new ArrayList<>()).add(new ExpectedDigests.Shard(start, end, d.digest()));
      }
    }
    if (files.containsKey(".") && files.size() > 1 || shards.containsKey(".") && shards.size() > 1) {
      throw fail.apply("resource '.' (a single-file model) is listed together with other files");
    }
    long size = ser.shardSize();
    for (Map.Entry<String, List<ExpectedDigests.Shard>> e : shards.entrySet()) {
      List<ExpectedDigests.Shard> list = new ArrayList<>(e.getValue());
      list.sort((x, y) -> Long.compare(x.start(), y.start()));
      for (int i = 0; i < list.size(); i++) {
        ExpectedDigests.Shard s = list.get(i);
        boolean last = i == list.size() - 1;
        boolean ok = s.start() == i * size && (last ? s.end() > s.start() && s.end() - s.start() <= size
            : s.end() == s.start() + size);
        if (!ok) {
          throw fail.apply("resource " + quote(e.getKey() + ":" + s.start() + ":" + s.end()) + ": the shards of "
              + quote(e.getKey()) + " do not tile the file in steps of the shard size " + size);
        }
      }
      files.put(e.getKey(), new ExpectedDigests.Sharded(size, list));
    }
    return new VerifiedManifest(label, subjectName, rootDigest, ser,
        Collections.unmodifiableSequencedMap(new LinkedHashMap<>(byName)), List.copyOf(warnings),
        Collections.unmodifiableMap(files));
  }

  private static void checkPath(String path, String name, Function<String, SignatureVerificationException> fail)
      throws SignatureVerificationException {
    if (path.equals(".")) {
      return;
    }
    String norm;
    try {
      norm = ModelTree.normalizeRelative(path);
    } catch (IllegalArgumentException e) {
      norm = null;
    }
    if (!path.equals(norm)) {
      throw fail.apply("resource " + quote(name) + " is not a plain relative path (no '..', '.', empty components"
          + " or leading '/')");
    }
  }

  /** The resources in statement order: name to algorithm and lowercase hex digest. */
  public SequencedMap<String, ResourceDigest> resources() {
    return resources;
  }

  /** How the manifest was computed. */
  public Serialization serialization() {
    return serialization;
  }

  /** The root digest (lowercase hex SHA-256 over the raw resource digests in statement order). */
  public String rootDigest() {
    return rootDigest;
  }

  /** The subject name (the model's directory name when signed; informational, never compared). */
  public String subjectName() {
    return subjectName;
  }

  /** What verification accepted but a caller should know (legacy key material, ignored entries). */
  public List<String> warnings() {
    return warnings;
  }

  /** The file paths the manifest covers (shard names folded to their file), in statement order. */
  public Set<String> files() {
    return Collections.unmodifiableSet(new LinkedHashSet<>(files.keySet()));
  }

  /**
   * What the file {@code name} must hash to: its whole-file digest, or its shards in order.
   *
   * @throws SignatureVerificationException if the manifest does not list {@code name}
   */
  public ExpectedDigests expectedDigests(String name) throws SignatureVerificationException {
    ExpectedDigests e = files.get(name);
    if (e == null) {
      throw new SignatureVerificationException(label + " does not list the file " + quote(name)
          + (serialization.method() == Serialization.Method.SHARDS ? " (an empty file has no shards)" : ""));
    }
    return e;
  }

  /**
   * Checks the plaintext of file {@code name}, already in memory (e.g. just decrypted): its
   * SHA-256, or the SHA-256 of each shard. Shards are hashed in parallel on a few threads when
   * there are several and the segment may be read from other threads; a confined segment is hashed
   * on the calling thread.
   *
   * @throws SignatureVerificationException if the manifest does not list {@code name}
   * @throws ModelMismatchException if the size or a digest differs; the message names the file and
   *     the first differing shard's byte range
   */
  public void verifyContent(String name, MemorySegment bytes) throws SignatureVerificationException {
    ExpectedDigests e = expectedDigests(name);
    HexFormat hex = HexFormat.of();
    switch (e) {
      case ExpectedDigests.WholeFile w -> {
        String got = hex.formatHex(Sha256.of(bytes));
        if (!got.equals(w.sha256())) {
          throw new ModelMismatchException(quote(name) + ": content does not match " + label + ": SHA-256 "
              + ModelSigner.abbreviate(got) + ", signed " + ModelSigner.abbreviate(w.sha256()),
              List.of(), List.of(), List.of(name));
        }
      }
      case ExpectedDigests.Sharded s -> {
        if (bytes.byteSize() != s.size()) {
          throw new ModelMismatchException(quote(name) + ": content does not match " + label + ": "
              + bytes.byteSize() + " bytes, but the signed shards cover " + s.size(),
              List.of(), List.of(), List.of(name));
        }
        List<byte[]> got = hashShards(s.shards(), bytes);
        for (int i = 0; i < got.size(); i++) {
          ExpectedDigests.Shard sh = s.shards().get(i);
          String g = hex.formatHex(got.get(i));
          if (!g.equals(sh.sha256())) {
            throw new ModelMismatchException(quote(name) + ": content does not match " + label + ": shard "
                + sh.start() + ":" + sh.end() + " (bytes [" + sh.start() + ", " + sh.end() + ")) has SHA-256 "
                + ModelSigner.abbreviate(g) + ", signed " + ModelSigner.abbreviate(sh.sha256()),
                List.of(), List.of(), List.of(name + ":" + sh.start() + ":" + sh.end()));
          }
        }
      }
    }
  }

  private static List<byte[]> hashShards(List<ExpectedDigests.Shard> shards, MemorySegment bytes) {
    int threads = Math.min(Hashing.DEFAULT_THREADS, shards.size());
    // A confined segment may only be read by its owner thread.
    boolean shared = bytes.isAccessibleBy(new Thread(() -> { }));
    List<byte[]> out = new ArrayList<>(shards.size());
    if (threads <= 1 || !shared) {
      for (ExpectedDigests.Shard s : shards) {
        out.add(Sha256.of(bytes.asSlice(s.start(), s.end() - s.start())));
      }
      return out;
    }
    try (ExecutorService pool = Executors.newFixedThreadPool(threads, Hashing.daemons("shard-hash"))) {
      List<Future<byte[]>> futures = new ArrayList<>(shards.size());
      for (ExpectedDigests.Shard s : shards) {
        futures.add(pool.submit(() -> Sha256.of(bytes.asSlice(s.start(), s.end() - s.start()))));
      }
      for (Future<byte[]> f : futures) {
        out.add(Hashing.get(f));
      }
      return out;
    } catch (IOException e) {
      throw new IllegalStateException("hashing memory cannot fail with an I/O error", e);
    }
  }

  /**
   * Recomputes the manifest of the model at {@code root} (a directory, or the file of a single-file
   * model) as the serialization says, and compares the two as sets of names with digests.
   *
   * <p>Left out: the recorded {@code ignore_paths}, the git paths (unless turned off), the signature
   * file when it lies inside the model, the caller's ignore paths, and the files declared verified
   * elsewhere (with their {@code .sealed} counterparts). A symbolic link fails unless the manifest
   * allows links; sockets, pipes and devices fail.
   *
   * @throws SignatureVerificationException if the options name a file the manifest does not list,
   *     or the model holds a link or special file it may not
   * @throws ModelMismatchException if files (or shards) are extra, missing or differ; the message
   *     lists up to {@value #MAX_LISTED} names of each kind and then how many more
   * @throws IOException if the model cannot be read
   */
  public void verifyDirectory(Path root, VerifyOptions opts) throws IOException, SignatureVerificationException {
    Set<String> ignore = new LinkedHashSet<>(serialization.ignorePaths());
    ignore.addAll(opts.ignorePaths());
    if (opts.ignoreGitPaths()) {
      ignore.addAll(ModelTree.GIT_PATHS);
    }
    Path sig = opts.signatureFile() != null ? opts.signatureFile() : root.resolve(VerifyOptions.DEFAULT_SIGNATURE_NAME);
    String sigRel = ModelTree.relativeInside(root, sig);
    if (sigRel != null) {
      ignore.add(sigRel);
    }
    for (String n : opts.verifiedElsewhere()) {
      if (!files.containsKey(n)) {
        throw new SignatureVerificationException(root + ": " + quote(n) + " is declared verified elsewhere, but "
            + label + " does not list it");
      }
      ignore.add(n);
      ignore.add(n + VerifyOptions.SEALED_SUFFIX);
    }

    List<ModelTree.FileEntry> onDisk;
    try {
      onDisk = ModelTree.list(root, ModelTree.Ignore.of(ignore), serialization.allowSymlinks());
    } catch (ModelTree.TreeException e) {
      throw new SignatureVerificationException(root + ": " + e.getMessage());
    }
    if (opts.onlySignedFiles()) {
      onDisk = onDisk.stream().filter(f -> files.containsKey(f.name())).toList();
    }
    List<Hashing.Item> items = Hashing.items(onDisk, serialization.shardSize());
    List<byte[]> digests = Hashing.hashAll(items, opts.threads());
    Map<String, String> actual = new LinkedHashMap<>();
    HexFormat hex = HexFormat.of();
    for (int i = 0; i < items.size(); i++) {
      actual.put(items.get(i).name(), hex.formatHex(digests.get(i)));
    }

    Set<String> extra = new TreeSet<>();
    Set<String> missing = new TreeSet<>();
    Set<String> mismatched = new TreeSet<>();
    List<String> details = new ArrayList<>();
    for (Map.Entry<String, ResourceDigest> r : resources.entrySet()) {
      if (opts.verifiedElsewhere().contains(fileOf(r.getKey()))) {
        continue;
      }
      String got = actual.get(r.getKey());
      if (got == null) {
        missing.add(r.getKey());
      } else if (!got.equals(r.getValue().digest())) {
        mismatched.add(r.getKey());
      }
    }
    for (String n : actual.keySet()) {
      if (!resources.containsKey(n)) {
        extra.add(n);
      }
    }
    for (String n : opts.verifiedElsewhere()) {
      if (!isFile(root.resolve(n + VerifyOptions.SEALED_SUFFIX)) && !isFile(root.resolve(n))) {
        missing.add(n);
      }
    }
    if (extra.isEmpty() && missing.isEmpty() && mismatched.isEmpty()) {
      return;
    }
    boolean sharded = serialization.method() == Serialization.Method.SHARDS;
    for (String n : mismatched) {
      details.add(quote(n) + " (signed " + ModelSigner.abbreviate(resources.get(n).digest()) + ", found "
          + ModelSigner.abbreviate(actual.get(n)) + ")");
    }
    List<String> parts = new ArrayList<>();
    if (!mismatched.isEmpty()) {
      parts.add(count(mismatched.size(), sharded) + (mismatched.size() == 1 ? " differs: " : " differ: ")
          + bounded(details));
    }
    if (!extra.isEmpty()) {
      parts.add(count(extra.size(), sharded) + " not in the signature: " + bounded(quoted(extra)));
    }
    if (!missing.isEmpty()) {
      parts.add(count(missing.size(), sharded) + " signed but missing: " + bounded(quoted(missing)));
    }
    throw new ModelMismatchException(root + ": the model does not match " + label + ": " + String.join("; ", parts),
        new ArrayList<>(extra), new ArrayList<>(missing), new ArrayList<>(mismatched));
  }

  /** The file a resource name belongs to. */
  private String fileOf(String resource) {
    if (serialization.method() == Serialization.Method.FILES) {
      return resource;
    }
    int b = resource.lastIndexOf(':');
    int a = resource.lastIndexOf(':', b - 1);
    return resource.substring(0, a);
  }

  private static boolean isFile(Path p) {
    return Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS);
  }

  private static String count(int n, boolean shards) {
    return n + (shards ? (n == 1 ? " shard" : " shards") : (n == 1 ? " file" : " files"));
  }

  private static List<String> quoted(Set<String> names) {
    List<String> out = new ArrayList<>(names.size());
    for (String n : names) {
      out.add(quote(n));
    }
    return out;
  }

  private static String bounded(List<String> items) {
    if (items.size() <= MAX_LISTED) {
      return String.join(", ", items);
    }
    return String.join(", ", items.subList(0, MAX_LISTED)) + " and " + (items.size() - MAX_LISTED) + " more";
  }
}
