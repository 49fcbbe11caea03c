package dev.sampler.integrity.signing;

import static dev.sampler.integrity.Untrusted.quote;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The files of a model as the model-signing format sees them (upstream {@code
 * _serialization/file.py}): every regular file under the root, recursively, dotfiles included,
 * named by its POSIX path relative to the root; a model that is a single file has the one name
 * {@code "."}. Ignored paths are skipped with everything under them; a symbolic link that is not
 * ignored fails unless links are allowed (then it is followed); sockets, pipes and devices fail.
 */
final class ModelTree {
  /** Ignored unless the caller opts out, as upstream's {@code ignore_git_paths=True}. */
  static final List<String> GIT_PATHS = List.of(".git", ".gitattributes", ".github", ".gitignore");
  /** Directory depth beyond which a tree is refused (guards against link loops the check misses). */
  private static final int MAX_DEPTH = 256;

  /** One file of the model: its manifest name, where to read it, and its size. */
  record FileEntry(String name, Path path, long size) {}

  /** A failure to list the model that is the model's fault (not an I/O error). */
  static final class TreeException extends Exception {
    private static final long serialVersionUID = 1L;

    TreeException(String message) {
      super(message);
    }
  }

  private ModelTree() {}

  /**
   * Normalizes an ignore path given relative to the model root: drops {@code ./} components and a
   * trailing {@code /}.
   *
   * @throws IllegalArgumentException for an empty path, {@code .}, an absolute path or one with
   *     {@code ..} (which would ignore the whole model or point outside it)
   */
  static String normalizeRelative(String p) {
    if (p == null || p.isEmpty() || p.startsWith("/") || p.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("ignore path " + quote(p) + " must be a non-empty path relative to the model");
    }
    List<String> parts = new ArrayList<>();
    for (String c : p.split("/")) {
      if (c.isEmpty() || c.equals(".")) {
        continue;
      }
      if (c.equals("..")) {
        throw new IllegalArgumentException("ignore path " + quote(p) + " must not contain '..'");
      }
      parts.add(c);
    }
    if (parts.isEmpty()) {
      throw new IllegalArgumentException("ignore path " + quote(p) + " would ignore the whole model");
    }
    return String.join("/", parts);
  }

  /** Paths to skip: each matches itself and everything below it (whole components only). */
  record Ignore(Set<String> paths) {
    Ignore {
      paths = Set.copyOf(paths);
    }

    static Ignore of(Collection<String> normalized) {
      return new Ignore(new LinkedHashSet<>(normalized));
    }

    boolean matches(String name) {
      if (paths.contains(name)) {
        return true;
      }
      for (int i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) {
        if (paths.contains(name.substring(0, i))) {
          return true;
        }
      }
      return false;
    }
  }

  /**
   * The path of {@code file} relative to {@code root} when it lies inside it (normalized, POSIX),
   * or null.
   */
  static String relativeInside(Path root, Path file) {
    Path r = root.toAbsolutePath().normalize();
    Path f = file.toAbsolutePath().normalize();
    if (!f.startsWith(r) || f.equals(r)) {
      return null;
    }
    List<String> parts = new ArrayList<>();
    for (Path c : r.relativize(f)) {
      parts.add(c.toString());
    }
    return String.join("/", parts);
  }

  /**
   * Lists the model's files in a stable order (by name, directory by directory).
   *
   * @throws TreeException for a link that is not allowed or is broken, a link loop, a special file
   *     or a root that is neither a file nor a directory
   * @throws IOException if a directory cannot be read
   */
  static List<FileEntry> list(Path root, Ignore ignore, boolean allowSymlinks) throws IOException, TreeException {
    BasicFileAttributes a;
    try {
      a = Files.readAttributes(root, BasicFileAttributes.class);
    } catch (NoSuchFileException e) {
      throw new TreeException("model path " + root + " does not exist");
    }
    List<FileEntry> out = new ArrayList<>();
    if (a.isRegularFile()) {
      out.add(new FileEntry(".", root, a.size()));
    } else if (a.isDirectory()) {
      Set<Path> ancestors = new HashSet<>();
      ancestors.add(root.toRealPath());
      walk(root, "", ignore, allowSymlinks, ancestors, out, 0);
    } else {
      throw new TreeException("model path " + root + " is neither a regular file nor a directory");
    }
    return out;
  }

  private static void walk(Path dir, String prefix, Ignore ignore, boolean allowSymlinks, Set<Path> ancestors,
      List<FileEntry> out, int depth) throws IOException, TreeException {
    if (depth > MAX_DEPTH) {
      throw new TreeException("directory " + quote(prefix) + " is nested more than " + MAX_DEPTH + " levels deep");
    }
    List<Path> children = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      ds.forEach(children::add);
    }
    children.sort((x, y) -> x.getFileName().toString().compareTo(y.getFileName().toString()));
    for (Path child : children) {
      String name = child.getFileName().toString();
      String rel = prefix.isEmpty() ? name : prefix + "/" + name;
      if (ignore.matches(rel)) {
        continue;
      }
      BasicFileAttributes a = Files.readAttributes(child, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      if (a.isSymbolicLink()) {
        if (!allowSymlinks) {
          throw new TreeException(quote(rel) + " is a symbolic link, and symbolic links are not allowed"
              + " (serialization.allow_symlinks is false)");
        }
        try {
          a = Files.readAttributes(child, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
          throw new TreeException(quote(rel) + " is a broken symbolic link");
        }
      }
      if (a.isDirectory()) {
        Path real = child.toRealPath();
        if (!ancestors.add(real)) {
          throw new TreeException(quote(rel) + " is a symbolic link loop");
        }
        walk(child, rel, ignore, allowSymlinks, ancestors, out, depth + 1);
        ancestors.remove(real);
      } else if (a.isRegularFile()) {
        out.add(new FileEntry(rel, child, a.size()));
      } else {
        throw new TreeException(quote(rel) + " is not a regular file or directory (a socket, pipe or device)");
      }
    }
  }
}
