package dev.sampler.keybroker;

import java.util.List;
import java.util.Set;

/** The tee names of the RCAR {@code Request} (kbs-types {@code Tee}, PROTOCOLS.md B2). */
public final class Tees {
  private Tees() {}

  /** Every tee name the protocol defines, in upstream's order. */
  public static final List<String> ALL = List.of("az-snp-vtpm", "az-tdx-vtpm", "nvidia", "sgx", "snp", "tdx", "cca",
      "csv", "se", "hygondcu", "dpu", "tpm", "sample", "sampledevice");

  private static final Set<String> SET = Set.copyOf(ALL);

  /** The insecure development tee: evidence without a signature. */
  public static final String SAMPLE = "sample";

  /** Whether {@code tee} is one of {@link #ALL}. */
  public static boolean known(String tee) {
    return tee != null && SET.contains(tee);
  }
}
