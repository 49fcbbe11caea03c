package dev.sampler.attestation.kbs;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A key broker resource id (B7): {@code kbs:///<repo>/<type>/<tag>}, fetched from {@code GET
 * <kbs>/resource/<repo>/<type>/<tag>}. Each segment matches {@code [A-Za-z0-9_-][A-Za-z0-9_.-]*}
 * (so none is {@code .} or {@code ..} and none needs URL escaping).
 *
 * @param repo the repository segment, e.g. {@code default}
 * @param type the type segment, e.g. {@code key}
 * @param tag the tag segment, e.g. {@code model-key}
 */
public record ResourceId(String repo, String type, String tag) {
  /** What each segment must match. */
  public static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9_.-]*");

  private static final int MAX_SEGMENT = 128;
  private static final String PREFIX = "kbs:///";

  /**
   * @throws IllegalArgumentException naming the segment and the rule it breaks
   */
  public ResourceId {
    check("repo", repo);
    check("type", type);
    check("tag", tag);
  }

  /**
   * Parses {@code kbs:///repo/type/tag}. The host part must be empty (the broker's address comes
   * from configuration, never from the id); {@code kbs+<plugin>://} ids (other broker plugins), a
   * query and a fragment are refused.
   *
   * @throws IllegalArgumentException naming what is wrong (without echoing the input)
   */
  public static ResourceId parse(String uri) {
    Objects.requireNonNull(uri, "uri");
    if (uri.startsWith("kbs+")) {
      throw new IllegalArgumentException(
          "resource id: only the resource plugin (kbs:///repo/type/tag) is supported, not kbs+<plugin>:// ids");
    }
    if (!uri.startsWith(PREFIX)) {
      throw new IllegalArgumentException(
          "resource id must have the form kbs:///<repo>/<type>/<tag> (scheme kbs, empty host)");
    }
    String path = uri.substring(PREFIX.length());
    if (path.indexOf('?') >= 0 || path.indexOf('#') >= 0) {
      throw new IllegalArgumentException("resource id: a query or fragment is not supported");
    }
    String[] parts = path.split("/", -1);
    if (parts.length != 3) {
      throw new IllegalArgumentException(
          "resource id must have exactly three path segments <repo>/<type>/<tag>, got " + parts.length);
    }
    return new ResourceId(parts[0], parts[1], parts[2]);
  }

  /** {@code repo/type/tag}, the path below {@code <kbs>/resource/}. */
  public String path() {
    return repo + "/" + type + "/" + tag;
  }

  /** {@code kbs:///repo/type/tag}. */
  @Override
  public String toString() {
    return PREFIX + path();
  }

  private static void check(String name, String value) {
    if (value == null) {
      throw new IllegalArgumentException("resource id: " + name + " is missing");
    }
    if (value.length() > MAX_SEGMENT) {
      throw new IllegalArgumentException(
          "resource id: " + name + " is longer than " + MAX_SEGMENT + " characters");
    }
    if (!SEGMENT.matcher(value).matches()) {
      throw new IllegalArgumentException(
          "resource id: " + name + " must match [A-Za-z0-9_-][A-Za-z0-9_.-]*");
    }
  }
}
