package dev.sampler.keybroker;

import java.util.regex.Pattern;

/**
 * A KBS resource path {@code repo/type/tag} (PROTOCOLS.md B7): three segments, each matching
 * {@code [A-Za-z0-9_-][A-Za-z0-9_.-]*}. A segment can therefore never be {@code .} or {@code ..},
 * which is what lets the key store use the path as a directory name.
 *
 * @param repo the first segment
 * @param type the second segment
 * @param tag the third segment
 */
public record ResourcePath(String repo, String type, String tag) {
  /** One path segment, as upstream's resource URI parser allows it. */
  public static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9_.-]*");
  /** Longest segment accepted; upstream has no limit, but a file name does. */
  public static final int MAX_SEGMENT = 128;

  /**
   * Validates the segments.
   *
   * @throws IllegalArgumentException naming the segment that does not match (its value is not
   *     repeated: it may come from a client)
   */
  public ResourcePath {
    check("repo", repo);
    check("type", type);
    check("tag", tag);
  }

  /**
   * Parses {@code repo/type/tag}.
   *
   * @throws IllegalArgumentException when there are not exactly three segments or one is not
   *     allowed
   */
  public static ResourcePath parse(String path) {
    if (path == null) {
      throw new IllegalArgumentException("resource path is missing (expected repo/type/tag)");
    }
    String[] s = path.split("/", -1);
    if (s.length != 3) {
      throw new IllegalArgumentException("resource path must have exactly three segments repo/type/tag");
    }
    return new ResourcePath(s[0], s[1], s[2]);
  }

  /** {@code repo/type/tag}. */
  public String path() {
    return repo + "/" + type + "/" + tag;
  }

  @Override
  public String toString() {
    return path();
  }

  private static void check(String name, String value) {
    if (value == null || value.length() > MAX_SEGMENT || !SEGMENT.matcher(value).matches()) {
      throw new IllegalArgumentException("resource path segment '" + name + "' must match "
          + SEGMENT.pattern() + " and be at most " + MAX_SEGMENT + " characters");
    }
  }
}
