package dev.sampler.server.cli;

import dev.sampler.integrity.signing.ModelSignature;
import dev.sampler.integrity.signing.ModelSigner;
import dev.sampler.integrity.signing.SignOptions;
import dev.sampler.integrity.signing.SigningKeys;
import dev.sampler.integrity.signing.VerifiedManifest;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sampler sign}: sign a model directory in the OpenSSF model-signing format. */
@Command(
    name = "sign",
    mixinStandardHelpOptions = true,
    description = {
      "Sign a model directory with an ECDSA key (OpenSSF model signing).",
      "Hashes every file (weights, model config, scheduler config, ...) into a manifest, wraps it in an in-toto"
          + " statement (predicate https://model_signing/signature/v1.0) and signs its DSSE envelope; the result is a"
          + " Sigstore bundle v0.3 in the format of sigstore/model-transparency's model_signing 1.x ('verify key').",
      "Left out: .git, .gitattributes, .github, .gitignore, the signature file itself and --ignore-paths (all"
          + " recorded in the signature). Symbolic links are refused. The signature is written atomically."
    })
final class SignCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--model", required = true, paramLabel = "DIR", description = "the model directory (or a single model file)")
  Path model;

  @Option(names = "--private-key", required = true, paramLabel = "FILE",
      description = "PEM private key (PKCS#8 or SEC1 'EC PRIVATE KEY', unencrypted), e.g. from 'sampler keygen'")
  Path privateKey;

  @Option(names = "--public-key", paramLabel = "FILE",
      description = "its public key; needed only when the private key file does not embed it")
  Path publicKey;

  @Option(names = "--signature", paramLabel = "FILE", description = "where to write the signature (default: DIR/model.sig)")
  Path signature;

  @Option(names = "--shard-size", paramLabel = "BYTES",
      description = "sign fixed-size shards of every file (method 'shards') instead of whole files")
  Long shardSize;

  @Option(names = "--ignore-paths", arity = "1..*", paramLabel = "PATH",
      description = "files or directories to leave out: inside the model as seen from here, or relative to DIR")
  List<Path> ignorePaths = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    CommandLine cmd = spec.commandLine();
    if (shardSize != null && (shardSize < 1 || shardSize > SignOptions.MAX_SHARD_SIZE)) {
      throw new CommandLine.ParameterException(cmd, "--shard-size must be between 1 and 2^53 bytes, not " + shardSize);
    }
    Path sig = SigningPaths.signature(model, signature);
    List<String> ignored = SigningPaths.ignorePaths(cmd, model, ignorePaths);
    KeyPair kp = publicKey == null ? SigningKeys.readKeyPair(privateKey)
        : new KeyPair(SigningKeys.readPublicKey(publicKey), SigningKeys.readPrivateKey(privateKey));
    SignOptions opts = SignOptions.defaults().withSignatureFile(sig).withIgnorePaths(ignored)
        .withShardSize(shardSize == null ? 0 : shardSize);
    byte[] bundle = ModelSigner.sign(model, kp.getPrivate(), kp.getPublic(), opts);
    PublicKey pub = kp.getPublic();
    VerifiedManifest m = ModelSignature.verify(bundle, pub); // self-check before writing
    ModelSigner.writeSignature(sig, bundle);
    PrintWriter o = cmd.getOut();
    o.println("signed:      " + model);
    o.println("signature:   " + sig);
    o.println("root digest: sha256:" + m.rootDigest());
    o.println("method:      " + VerifyCommand.method(m));
    o.println("resources:   " + m.resources().size());
    o.println("key hint:    " + SigningKeys.hint(pub));
    return ExitCode.OK;
  }
}
