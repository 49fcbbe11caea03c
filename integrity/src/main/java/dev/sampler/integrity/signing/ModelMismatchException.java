package dev.sampler.integrity.signing;

import java.util.List;

/**
 * The model's files do not match a verified manifest: files (or shards) on disk that the manifest
 * does not list, resources it lists that are not on disk, and resources whose digest differs. The
 * message lists a bounded number of each; the accessors return all of them (untrusted names: quote
 * them with {@link dev.sampler.integrity.Untrusted#quote} before showing them).
 */
public final class ModelMismatchException extends SignatureVerificationException {
  private static final long serialVersionUID = 1L;

  private final List<String> extra;
  private final List<String> missing;
  private final List<String> mismatched;

  ModelMismatchException(String message, List<String> extra, List<String> missing, List<String> mismatched) {
    super(message);
    this.extra = List.copyOf(extra);
    this.missing = List.copyOf(missing);
    this.mismatched = List.copyOf(mismatched);
  }

  /** Resource names found in the model but not in the manifest, sorted. */
  public List<String> extra() {
    return extra;
  }

  /** Resource names in the manifest but not found in the model, sorted. */
  public List<String> missing() {
    return missing;
  }

  /** Resource names in both whose digests differ, sorted. */
  public List<String> mismatched() {
    return mismatched;
  }
}
