package dev.sampler.server.cli;

import dev.sampler.integrity.signing.ModelSignature;
import dev.sampler.integrity.signing.Serialization;
import dev.sampler.integrity.signing.SigningKeys;
import dev.sampler.integrity.signing.VerifiedManifest;
import dev.sampler.integrity.signing.VerifyOptions;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sampler verify}: check a model against its signature and a pinned public key. */
@Command(
    name = "verify",
    mixinStandardHelpOptions = true,
    description = {
      "Verify a model against its signature and a pinned public key (OpenSSF model signing).",
      "No Fulcio or Rekor: the key you pin is the trust anchor. Accepts signatures from 'sampler sign' and from"
          + " model_signing 1.x with an EC key or a certificate chain (whose leaf must carry the pinned key).",
      "Checks the bundle, the key hint, the ECDSA signature over the DSSE envelope and the statement, then re-hashes"
          + " the model and compares: extra, missing and changed files all fail. On success prints the root digest,"
          + " method and resource count (warnings on stderr); on failure the failed check on stderr, exit code 1."
    })
final class VerifyCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--model", required = true, paramLabel = "DIR", description = "the model directory (or a single model file)")
  Path model;

  @Option(names = "--public-key", required = true, paramLabel = "FILE",
      description = "the pinned key: PEM public key, or a PEM certificate whose key is pinned")
  Path publicKey;

  @Option(names = "--signature", paramLabel = "FILE", description = "the signature (default: DIR/model.sig)")
  Path signature;

  @Option(names = "--ignore-paths", arity = "1..*", paramLabel = "PATH",
      description = "files or directories to leave out besides those the signature records: inside the model as seen"
          + " from here, or relative to DIR")
  List<Path> ignorePaths = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    CommandLine cmd = spec.commandLine();
    Path sig = SigningPaths.signature(model, signature);
    List<String> ignored = SigningPaths.ignorePaths(cmd, model, ignorePaths);
    PublicKey pinned = SigningKeys.readPublicKey(publicKey);
    VerifiedManifest m = ModelSignature.verify(sig, pinned);
    m.verifyDirectory(model, VerifyOptions.defaults().withSignatureFile(sig).withIgnorePaths(ignored));
    PrintWriter o = cmd.getOut();
    o.println("verified:    " + model);
    o.println("signature:   " + sig);
    o.println("root digest: sha256:" + m.rootDigest());
    o.println("method:      " + method(m));
    o.println("resources:   " + m.resources().size());
    o.println("key hint:    " + SigningKeys.hint(pinned));
    PrintWriter e = cmd.getErr();
    for (String w : m.warnings()) {
      e.println("warning: " + w);
    }
    e.flush();
    return ExitCode.OK;
  }

  /** The serialization in words: method, shard size, symlink rule. */
  static String method(VerifiedManifest m) {
    Serialization s = m.serialization();
    return s.method().wireName() + (s.method() == Serialization.Method.SHARDS ? " of " + s.shardSize() + " bytes" : "")
        + " (sha256, allow_symlinks " + s.allowSymlinks() + ")";
  }
}
