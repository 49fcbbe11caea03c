package dev.sampler.server.cli;

import dev.sampler.rng.InsecureSeedAccess;
import dev.sampler.rng.NoiseStream;
import dev.sampler.rng.SecretSeed;
import dev.sampler.server.engine.CommitmentKey;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Optional;
import java.util.UUID;
import picocli.CommandLine.Option;

/**
 * Where a command's noise comes from: fresh OS entropy (default), or a client seed for exact
 * replay. The seed never appears in output: only its keyed commitment (HMAC-SHA256 under the
 * commitment key) does.
 */
final class NoiseOptions {

  @Option(names = "--seed-hex", paramLabel = "HEX",
      description = "replay seed, 32 to 128 hex digits (128 to 512 bits); never printed. Visible to other"
          + " local users in the process list: prefer --seed-file")
  String seedHex;

  @Option(names = "--seed-file", paramLabel = "FILE", description = "read the replay seed (hex) from FILE")
  Path seedFile;

  @Option(names = "--request-id", paramLabel = "ID",
      description = "request id, part of the noise stream's personalization (default: a random UUID;"
          + " replay needs the same seed, request id and tenant)")
  String requestId;

  @Option(names = "--tenant", defaultValue = "local", paramLabel = "NAME", description = "tenant name in the personalization (default: ${DEFAULT-VALUE})")
  String tenant;

  @Option(names = "--commitment-key-file", paramLabel = "FILE",
      description = "HMAC key (hex, at least 32 bytes) for seed commitments (default: a random key per run,"
          + " so commitments are only comparable within one run)")
  Path commitmentKeyFile;

  /** The resolved request id (a random UUID unless given). */
  String requestId() {
    if (requestId == null) {
      requestId = UUID.randomUUID().toString();
    }
    return requestId;
  }

  /** The seed, or null for OS entropy. The caller closes it. */
  SecretSeed seed() throws IOException {
    if (seedHex != null && seedFile != null) {
      throw new IllegalArgumentException("give either --seed-hex or --seed-file, not both");
    }
    String hex = seedHex;
    if (seedFile != null) {
      hex = Files.readString(seedFile, StandardCharsets.US_ASCII).strip();
    }
    if (hex == null) {
      return null;
    }
    return parseSeed(hex);
  }

  static SecretSeed parseSeed(String hex) {
    if (hex.length() % 2 != 0 || !hex.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
      throw new IllegalArgumentException("the seed must be an even number of hex digits (value not shown)");
    }
    if (hex.length() < 32 || hex.length() > 128) {
      throw new IllegalArgumentException("the seed must have 32 to 128 hex digits (128 to 512 bits), got "
          + hex.length() + " digits");
    }
    byte[] bytes = HexFormat.of().parseHex(hex);
    try {
      return SecretSeed.copyOf(bytes, InsecureSeedAccess.get());
    } finally {
      Arrays.fill(bytes, (byte) 0);
    }
  }

  /**
   * The commitment key ({@code --commitment-key-file}, else random per run) and its public id; the
   * server derives its key the same way ({@link CommitmentKey#load}).
   */
  CommitmentKey commitmentKey() throws IOException {
    return CommitmentKey.load(Optional.ofNullable(commitmentKeyFile));
  }

  /** Opens the request's stream: replayed from {@code seed}, or from OS entropy when it is null. */
  NoiseStream open(SecretSeed seed, String id) throws Exception {
    NoiseStream.Personalization p = new NoiseStream.Personalization(tenant, id);
    return seed != null ? NoiseStream.replay(seed, p) : NoiseStream.fromOsEntropy(p);
  }
}
