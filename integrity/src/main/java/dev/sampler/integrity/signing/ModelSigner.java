package dev.sampler.integrity.signing;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.integrity.IntegrityException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Signs a model in the OpenSSF model-signing format (v1.0 predicate, upstream {@code model_signing}
 * 1.1 with an elliptic-curve key): hashes the model into a manifest, wraps it in an in-toto
 * statement, signs the statement's DSSE PAE with ECDSA and returns a Sigstore bundle v0.3 carrying
 * the key hint and no transparency-log entries.
 *
 * <p>Statements are written byte for byte as upstream writes them, resources in upstream's order
 * (path components, then shard start and end), so the upstream verifier accepts them and the
 * upstream statement goldens can be compared as bytes. Ignore paths are recorded as upstream 1.1
 * records them: the caller's, the git paths (unless turned off) and the signature file when it lies
 * inside the model, relative to the root; sorted here (upstream's order is a Python set's).
 */
public final class ModelSigner {
  private ModelSigner() {}

  /**
   * Signs the model at {@code root} (a directory, or a single file).
   *
   * @param key the signing key (EC P-256, P-384 or P-521)
   * @param pub its public key (checked to belong to {@code key})
   * @return the bundle JSON (UTF-8, compact, no trailing newline) to write as {@code model.sig}
   * @throws IOException if the model cannot be read
   * @throws IntegrityException for a key pair that does not match or is not supported, or a model
   *     that cannot be signed with these options (a symbolic link, a special file)
   */
  public static byte[] sign(Path root, PrivateKey key, PublicKey pub, SignOptions opts)
      throws IOException, IntegrityException {
    if (EcCurve.of(pub).isEmpty()) {
      throw new IntegrityException("only ECDSA P-256, P-384 and P-521 keys can sign, not a " + pub.getAlgorithm() + " key");
    }
    if (!SigningKeys.matches(key, pub)) {
      throw new IntegrityException("the private key does not belong to the public key "
          + abbreviate(SigningKeys.hint(pub)));
    }
    return bundle(statement(root, opts), key, pub);
  }

  /**
   * Signs {@code payload} (an in-toto statement) and wraps it in a bundle; the key pair is assumed
   * checked. Package-private: tests use it to sign statements no model produces.
   */
  static byte[] bundle(byte[] payload, PrivateKey key, PublicKey pub) throws IntegrityException {
    EcCurve curve = SigningKeys.curveOf(pub);
    byte[] sig;
    try {
      Signature s = Signature.getInstance(curve.signatureAlgorithm());
      s.initSign(key);
      s.update(Dsse.pae(Dsse.PAYLOAD_TYPE, payload));
      sig = s.sign();
    } catch (GeneralSecurityException e) {
      throw new IntegrityException("signing with the " + curve.displayName() + " key failed: " + e.getMessage(), e);
    }
    ObjectMapper json = new ObjectMapper();
    ObjectNode bundle = json.createObjectNode();
    bundle.put("mediaType", Dsse.BUNDLE_MEDIA_TYPE);
    ObjectNode material = bundle.putObject("verificationMaterial");
    material.putObject("publicKey").put("hint", SigningKeys.hint(pub));
    material.putArray("tlogEntries");
    ObjectNode env = bundle.putObject("dsseEnvelope");
    env.put("payload", Base64.getEncoder().encodeToString(payload));
    env.put("payloadType", Dsse.PAYLOAD_TYPE);
    env.putArray("signatures").addObject().put("sig", Base64.getEncoder().encodeToString(sig)).put("keyid", "");
    try {
      return json.writeValueAsBytes(bundle);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialize a bundle", e);
    }
  }

  /**
   * The unsigned in-toto statement {@link #sign} would sign: the DSSE payload bytes (UTF-8 JSON,
   * two-space indent, no trailing newline).
   *
   * @throws IOException if the model cannot be read
   * @throws IntegrityException for a model that cannot be serialized with these options
   */
  public static byte[] statement(Path root, SignOptions opts) throws IOException, IntegrityException {
    TreeSet<String> ignored = new TreeSet<>(Hashing::comparePaths);
    ignored.addAll(opts.ignorePaths());
    if (opts.ignoreGitPaths()) {
      ignored.addAll(ModelTree.GIT_PATHS);
    }
    if (opts.signatureFile() != null) {
      String rel = ModelTree.relativeInside(root, opts.signatureFile());
      if (rel != null) {
        ignored.add(rel);
      }
    }
    List<ModelTree.FileEntry> files;
    try {
      files = ModelTree.list(root, ModelTree.Ignore.of(ignored), opts.allowSymlinks());
    } catch (ModelTree.TreeException e) {
      throw new IntegrityException(root + ": cannot sign: " + e.getMessage());
    }
    List<Hashing.Item> items = new ArrayList<>(Hashing.items(files, opts.shardSize()));
    items.sort(Hashing.ORDER);
    List<byte[]> digests = Hashing.hashAll(items, opts.threads());

    var root256 = Sha256.newDigest();
    List<Object> resources = new ArrayList<>(items.size());
    HexFormat hex = HexFormat.of();
    for (int i = 0; i < items.size(); i++) {
      byte[] d = digests.get(i);
      root256.update(d);
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("algorithm", items.get(i).algorithm());
      r.put("digest", hex.formatHex(d));
      r.put("name", items.get(i).name());
      resources.add(r);
    }
    Map<String, Object> serialization = new LinkedHashMap<>();
    serialization.put("method", opts.shardSize() == 0 ? "files" : "shards");
    serialization.put("hash_type", "sha256");
    serialization.put("allow_symlinks", opts.allowSymlinks());
    if (opts.shardSize() != 0) {
      serialization.put("shard_size", new PyJson.PyFloat(opts.shardSize()));
    }
    if (!ignored.isEmpty()) {
      serialization.put("ignore_paths", List.copyOf(ignored));
    }
    Map<String, Object> predicate = new LinkedHashMap<>();
    predicate.put("serialization", serialization);
    predicate.put("resources", resources);

    Map<String, Object> subject = new LinkedHashMap<>();
    subject.put("name", modelName(root));
    subject.put("digest", Map.of("sha256", hex.formatHex(root256.digest())));
    Map<String, Object> statement = new LinkedHashMap<>();
    statement.put("_type", Dsse.STATEMENT_TYPE);
    statement.put("subject", List.of(subject));
    statement.put("predicateType", Dsse.PREDICATE_TYPE);
    statement.put("predicate", predicate);
    return PyJson.dumps(statement).getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Writes a signature file atomically (a temporary sibling, synced, then renamed over {@code
   * file}) with mode 0644, so a verifier never reads a partial bundle.
   *
   * @throws IOException if the file system refuses
   */
  public static void writeSignature(Path file, byte[] bundle) throws IOException {
    SigningKeys.writeAtomically(file, bundle, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
  }

  /** The model's name as upstream takes it: the last component of the (absolute) path. */
  static String modelName(Path root) {
    Path name = root.toAbsolutePath().normalize().getFileName();
    return name == null ? "" : name.toString();
  }

  static String abbreviate(String hex) {
    return hex.length() <= 12 ? hex : hex.substring(0, 12) + "...";
  }
}
