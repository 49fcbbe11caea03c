package dev.sampler.server.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * How a model's files are trusted (keys under {@code models[i]}).
 *
 * @param signerPublicKey the pinned public key (PEM) the model's signature must verify against
 *     ({@code signer-public-key}); required unless {@code insecureSkipSignature}
 * @param signature the OpenSSF model-signing bundle ({@code signature}, default {@code
 *     <dir>/model.sig})
 * @param ignorePaths paths under the model directory the signature does not cover ({@code
 *     ignore-paths}), besides the ones the bundle itself records
 * @param insecureSkipSignature development only: load without verifying the signature ({@code
 *     insecure-skip-signature}); logged loudly
 * @param sealedKey the key-broker resource holding the data key of the sealed weights ({@code
 *     sealed-key}, e.g. {@code kbs:///sampler/demo/weights}); empty: the weights are plaintext
 *     files, verified against the manifest
 */
public record ModelTrust(Optional<Path> signerPublicKey, Path signature, List<String> ignorePaths,
    boolean insecureSkipSignature, Optional<String> sealedKey) {
  /** Checks for nulls and copies the list. */
  public ModelTrust {
    Objects.requireNonNull(signerPublicKey, "signerPublicKey");
    Objects.requireNonNull(signature, "signature");
    ignorePaths = List.copyOf(ignorePaths);
    Objects.requireNonNull(sealedKey, "sealedKey");
  }

  /** Development defaults for a model directory: no signature check, plaintext weights. */
  public static ModelTrust insecureUnverified(Path dir) {
    return new ModelTrust(Optional.empty(), dir.resolve("model.sig"), List.of(), true, Optional.empty());
  }
}
