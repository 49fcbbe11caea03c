package dev.sampler.server.cli;

import dev.sampler.integrity.signing.EcCurve;
import dev.sampler.integrity.signing.SigningKeys;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sampler keygen}: a fresh ECDSA key pair for signing models. */
@Command(
    name = "keygen",
    mixinStandardHelpOptions = true,
    description = {
      "Generate an ECDSA key pair for signing models ('sampler sign').",
      "The private key is written as PKCS#8 PEM with its public key embedded, mode 0600, atomically; the public key"
          + " as SubjectPublicKeyInfo PEM: the file a verifier pins ('sampler verify --public-key'). Neither file may"
          + " exist yet. The private key is never printed; keep it off the machines that serve the model."
    })
final class KeygenCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--private-key", required = true, paramLabel = "FILE", description = "where to write the private key")
  Path privateKey;

  @Option(names = "--public-key", required = true, paramLabel = "FILE", description = "where to write the public key")
  Path publicKey;

  @Option(names = "--curve", paramLabel = "CURVE", defaultValue = "P-256",
      description = "P-256 (default), P-384 or P-521; ECDSA uses SHA-256, SHA-384 or SHA-512 with them")
  String curve;

  @Override
  public Integer call() throws Exception {
    CommandLine cmd = spec.commandLine();
    EcCurve c;
    try {
      c = EcCurve.named(curve);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(cmd, "--curve: " + e.getMessage());
    }
    if (privateKey.toAbsolutePath().normalize().equals(publicKey.toAbsolutePath().normalize())) {
      throw new CommandLine.ParameterException(cmd, "--private-key and --public-key name the same file");
    }
    for (Path p : new Path[] {privateKey, publicKey}) {
      if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
        throw new CommandLine.ParameterException(cmd, p + " already exists; remove it first or choose another path");
      }
    }
    KeyPair kp = SigningKeys.generate(c);
    SigningKeys.writePrivateKey(privateKey, kp);
    SigningKeys.writePublicKey(publicKey, kp.getPublic());
    PrintWriter o = cmd.getOut();
    o.println("private key: " + privateKey + " (mode 0600; keep it secret)");
    o.println("public key:  " + publicKey);
    o.println("curve:       " + c.displayName() + " (ECDSA with " + c.digestName() + ")");
    o.println("key hint:    " + SigningKeys.hint(kp.getPublic()));
    return ExitCode.OK;
  }
}
