package dev.sampler.integrity.signing;

import static dev.sampler.integrity.Untrusted.quote;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.sampler.integrity.IntegrityException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.security.SignatureException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Verifies an OpenSSF model-signing signature ({@code model.sig}: a Sigstore bundle v0.3 with a
 * DSSE envelope around an in-toto statement) against a pinned EC public key, without Fulcio or
 * Rekor: the pinned key is the trust anchor.
 *
 * <p>Checks, in order (the first that fails is reported, naming the field and values):
 *
 * <ol>
 *   <li>the bundle is JSON with {@code mediaType} {@code application/vnd.dev.sigstore.bundle.v0.3+json};
 *   <li>the verification material names the pinned key: {@code publicKey.hint} (SHA-256 of the
 *       key's SPKI PEM) equal to the pinned key's; or the legacy {@code publicKey.rawBytes} (model
 *       signing 1.0.1 and earlier) holding the pinned key, accepted with a warning; or an {@code
 *       x509CertificateChain} whose leaf certificate carries the pinned key and may sign
 *       (KeyUsage digitalSignature or ExtendedKeyUsage codeSigning). The chain itself is not
 *       validated: trust comes from the pinned key;
 *   <li>{@code dsseEnvelope.payloadType} is {@code application/vnd.in-toto+json};
 *   <li>{@code signatures[0].sig} is an ECDSA signature by the pinned key, with the curve's digest,
 *       over the DSSE v1 PAE of the payload. A model_signing v0.2 signature (over that version's
 *       faulty PAE) is recognised and refused;
 *   <li>the statement: {@code _type} in-toto Statement v1, {@code predicateType}
 *       {@code https://model_signing/signature/v1.0}, exactly one subject, the resources, the root
 *       digest (SHA-256 over the raw resource digests in listed order) equal to the subject's, and
 *       a {@code serialization} this verifier can recompute (SHA-256 files or shards).
 * </ol>
 *
 * <p>What it returns says what the model must contain; {@link VerifiedManifest#verifyDirectory}
 * then compares the model on disk.
 */
public final class ModelSignature {
  /** Largest bundle accepted (a manifest of about 300,000 resources). */
  public static final int MAX_BUNDLE_BYTES = 64 << 20;

  private static final JsonMapper JSON = JsonMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
      .build();

  static {
    JSON.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
        .maxStringLength(MAX_BUNDLE_BYTES).maxNestingDepth(64).build());
  }

  private ModelSignature() {}

  /**
   * Reads and verifies a signature file; messages start with the file's name.
   *
   * @throws IOException if the file cannot be read
   * @throws SignatureVerificationException naming the failed check
   */
  public static VerifiedManifest verify(Path signatureFile, PublicKey pinnedKey)
      throws IOException, SignatureVerificationException {
    String label = String.valueOf(signatureFile.getFileName());
    long size = Files.size(signatureFile);
    if (size > MAX_BUNDLE_BYTES) {
      throw new SignatureVerificationException(label + ": " + size + " bytes is larger than a signature may be ("
          + MAX_BUNDLE_BYTES + ")");
    }
    byte[] bytes;
    try (InputStream in = Files.newInputStream(signatureFile)) {
      bytes = in.readNBytes(MAX_BUNDLE_BYTES + 1);
    }
    return verify(label, bytes, pinnedKey);
  }

  /**
   * Verifies a bundle; messages start with {@code model.sig}.
   *
   * @throws SignatureVerificationException naming the failed check
   */
  public static VerifiedManifest verify(byte[] bundleJson, PublicKey pinnedKey) throws SignatureVerificationException {
    return verify(VerifyOptions.DEFAULT_SIGNATURE_NAME, bundleJson, pinnedKey);
  }

  /**
   * Verifies a bundle; messages start with {@code label} (e.g. the signature file's name).
   *
   * @throws SignatureVerificationException naming the failed check
   */
  public static VerifiedManifest verify(String label, byte[] bundleJson, PublicKey pinnedKey)
      throws SignatureVerificationException {
    return new Check(label).run(bundleJson, pinnedKey);
  }

  /** One verification: collects warnings, prefixes every message with the label. */
  private static final class Check {
    private final String label;
    private final List<String> warnings = new ArrayList<>();

    Check(String label) {
      this.label = label;
    }

    SignatureVerificationException fail(String message) {
      return new SignatureVerificationException(label + ": " + message);
    }

    VerifiedManifest run(byte[] bundleJson, PublicKey pinned) throws SignatureVerificationException {
      EcCurve curve = EcCurve.of(pinned).orElseThrow(() -> fail("the pinned key is "
          + (pinned == null ? "missing" : "a " + pinned.getAlgorithm() + " key")
          + "; only ECDSA P-256, P-384 and P-521 keys are supported"));
      String pinnedHint = SigningKeys.hint(pinned);
      if (bundleJson.length > MAX_BUNDLE_BYTES) {
        throw fail(bundleJson.length + " bytes is larger than a signature may be (" + MAX_BUNDLE_BYTES + ")");
      }
      JsonNode bundle = parse(bundleJson, "the bundle");
      if (!bundle.isObject()) {
        throw fail("the bundle is not a JSON object");
      }

      // 1. Media type.
      String mediaType = text(bundle, "mediaType", "mediaType");
      if (!Dsse.BUNDLE_MEDIA_TYPE.equals(mediaType)) {
        throw fail("mediaType " + quote(mediaType) + " is not " + Dsse.BUNDLE_MEDIA_TYPE);
      }

      // 2. The verification material must name the pinned key.
      JsonNode material = object(bundle, "verificationMaterial", "verificationMaterial");
      checkKeyMaterial(material, pinned, curve, pinnedHint);
      JsonNode tlog = material.get("tlogEntries");
      if (tlog != null && tlog.isArray() && !tlog.isEmpty()) {
        warnings.add(label + ": " + tlog.size() + " transparency-log entries ignored (the key is pinned)");
      }

      // 3. Envelope and payload type.
      JsonNode env = bundle.get("dsseEnvelope");
      if (env == null || !env.isObject()) {
        throw fail("dsseEnvelope is missing (only DSSE bundles are model signatures)");
      }
      String payloadType = text(env, "payloadType", "dsseEnvelope.payloadType");
      if (!Dsse.PAYLOAD_TYPE.equals(payloadType)) {
        throw fail("dsseEnvelope.payloadType " + quote(payloadType) + " is not " + Dsse.PAYLOAD_TYPE);
      }
      byte[] payload = base64(text(env, "payload", "dsseEnvelope.payload"), "dsseEnvelope.payload");
      JsonNode sigs = env.get("signatures");
      if (sigs == null || !sigs.isArray() || sigs.isEmpty() || !sigs.get(0).isObject()) {
        throw fail("dsseEnvelope.signatures is missing or empty");
      }
      byte[] sig = base64(text(sigs.get(0), "sig", "dsseEnvelope.signatures[0].sig"), "dsseEnvelope.signatures[0].sig");

      // 4. The signature over the DSSE v1 PAE.
      if (!ecdsaVerifies(curve.signatureAlgorithm(), pinned, Dsse.pae(payloadType, payload), sig)) {
        if (ecdsaVerifies("SHA256withECDSA", pinned, Dsse.legacyPae(payload), sig)) {
          throw fail(legacyMessage("its signature verifies only over the pre-1.0 DSSE encoding"
              + " (\"DSSEV1\" with the Python repr of the payload, SHA-256)"));
        }
        throw fail("dsseEnvelope.signatures[0].sig does not verify against the pinned key "
            + ModelSigner.abbreviate(pinnedHint) + " (ECDSA " + curve.displayName() + " with "
            + curve.digestName() + " over the DSSE v1 PAE of the payload)");
      }

      // 5. The signed statement.
      return statement(payload);
    }

    private String legacyMessage(String why) {
      return "a model_signing v0.2 signature (predicate " + Dsse.LEGACY_PREDICATE_TYPE + "): " + why
          + "; this format is not accepted, re-sign the model with model_signing >= 1.0 or bin/sampler sign";
    }

    private void checkKeyMaterial(JsonNode material, PublicKey pinned, EcCurve curve, String pinnedHint)
        throws SignatureVerificationException {
      JsonNode pk = material.get("publicKey");
      JsonNode chain = material.get("x509CertificateChain");
      JsonNode cert = material.get("certificate");
      int kinds = (pk != null ? 1 : 0) + (chain != null ? 1 : 0) + (cert != null ? 1 : 0);
      if (kinds != 1) {
        throw fail("verificationMaterial must hold exactly one of publicKey, x509CertificateChain, certificate;"
            + " it holds " + kinds);
      }
      if (pk != null) {
        if (!pk.isObject()) {
          throw fail("verificationMaterial.publicKey is not an object");
        }
        JsonNode hint = pk.get("hint");
        if (hint != null && !hint.isNull() && !(hint.isTextual() && hint.asText().isEmpty())) {
          String h = hint.isTextual() ? hint.asText() : null;
          if (h == null) {
            throw fail("verificationMaterial.publicKey.hint is not a string");
          }
          if (!h.equals(pinnedHint)) {
            throw fail("verificationMaterial.publicKey.hint " + (h.matches("[0-9a-f]{64}")
                ? ModelSigner.abbreviate(h) : quote(h)) + " does not match the pinned key "
                + ModelSigner.abbreviate(pinnedHint) + " (SHA-256 of its SPKI PEM)");
          }
          return;
        }
        JsonNode raw = pk.get("rawBytes");
        if (raw != null && !raw.isNull()) {
          byte[] pem = base64(raw.isTextual() ? raw.asText() : null, "verificationMaterial.publicKey.rawBytes");
          PublicKey k;
          try {
            k = SigningKeys.parsePublicKey(new String(pem, StandardCharsets.UTF_8), "rawBytes");
          } catch (IntegrityException e) {
            throw fail("verificationMaterial.publicKey.rawBytes is not a supported PEM public key");
          }
          if (!SigningKeys.sameKey(k, pinned)) {
            throw fail("verificationMaterial.publicKey.rawBytes holds the key " + ModelSigner.abbreviate(SigningKeys.hint(k))
                + ", not the pinned key " + ModelSigner.abbreviate(pinnedHint));
          }
          JsonNode details = pk.get("keyDetails");
          if (details != null && !details.isNull() && !curve.keyDetails().equals(details.asText())) {
            throw fail("verificationMaterial.publicKey.keyDetails " + quote(details.asText()) + " does not match the pinned "
                + curve.displayName() + " key (" + curve.keyDetails() + ")");
          }
          warnings.add(label + ": legacy verification material (publicKey.rawBytes, model_signing 1.0.1 and earlier)"
              + " instead of publicKey.hint; re-sign with a current signer");
          return;
        }
        warnings.add(label + ": verificationMaterial.publicKey names no key (no hint, no rawBytes);"
            + " only the signature binds the pinned key");
        return;
      }
      JsonNode leafNode;
      String where;
      if (chain != null) {
        JsonNode certs = chain.get("certificates");
        if (certs == null || !certs.isArray() || certs.isEmpty()) {
          throw fail("verificationMaterial.x509CertificateChain.certificates is missing or empty");
        }
        leafNode = certs.get(0);
        where = "verificationMaterial.x509CertificateChain.certificates[0]";
      } else {
        leafNode = cert;
        where = "verificationMaterial.certificate";
      }
      if (leafNode == null || !leafNode.isObject()) {
        throw fail(where + " is not an object");
      }
      byte[] der = base64(text(leafNode, "rawBytes", where + ".rawBytes"), where + ".rawBytes");
      X509Certificate leaf;
      try {
        leaf = SigningKeys.certificate(der, where);
      } catch (IntegrityException e) {
        throw fail(e.getMessage());
      }
      PublicKey leafKey = leaf.getPublicKey();
      if (EcCurve.of(leafKey).isEmpty() || !SigningKeys.sameKey(leafKey, pinned)) {
        throw fail("the leaf certificate's key " + (EcCurve.of(leafKey).isEmpty() ? "(a " + leafKey.getAlgorithm()
            + " key)" : ModelSigner.abbreviate(SigningKeys.hint(leafKey))) + " is not the pinned key "
            + ModelSigner.abbreviate(pinnedHint));
      }
      boolean[] ku = leaf.getKeyUsage();
      boolean digitalSignature = ku != null && ku.length > 0 && ku[0];
      boolean codeSigning = false;
      try {
        List<String> eku = leaf.getExtendedKeyUsage();
        codeSigning = eku != null && eku.contains("1.3.6.1.5.5.7.3.3");
      } catch (CertificateParsingException e) {
        throw fail("the leaf certificate's ExtendedKeyUsage cannot be parsed");
      }
      if (!digitalSignature && !codeSigning) {
        throw fail("the leaf certificate may not sign (neither KeyUsage digitalSignature nor ExtendedKeyUsage"
            + " codeSigning)");
      }
    }

    private VerifiedManifest statement(byte[] payload) throws SignatureVerificationException {
      JsonNode st = parse(payload, "the signed statement");
      if (!st.isObject()) {
        throw fail("the signed statement is not a JSON object");
      }
      String type = text(st, "_type", "statement _type");
      if (!Dsse.STATEMENT_TYPE.equals(type)) {
        throw fail("statement _type " + quote(type) + " is not " + Dsse.STATEMENT_TYPE);
      }
      String predicateType = text(st, "predicateType", "statement predicateType");
      if (Dsse.LEGACY_PREDICATE_TYPE.equals(predicateType)) {
        throw fail(legacyMessage("per-file subjects without a root digest"));
      }
      if (!Dsse.PREDICATE_TYPE.equals(predicateType)) {
        throw fail("statement predicateType " + quote(predicateType) + " is not " + Dsse.PREDICATE_TYPE);
      }
      JsonNode subjects = st.get("subject");
      if (subjects == null || !subjects.isArray()) {
        throw fail("statement subject is missing or not a list");
      }
      if (subjects.size() != 1) {
        throw fail("statement has " + subjects.size() + " subjects; exactly one is expected");
      }
      JsonNode subject = subjects.get(0);
      String name = text(subject, "name", "subject.name");
      JsonNode subjectDigest = object(subject, "digest", "subject.digest");
      String root = text(subjectDigest, "sha256", "subject.digest.sha256");
      if (!root.matches("[0-9a-fA-F]{64}")) {
        throw fail("subject.digest.sha256 " + quote(root) + " is not 64 hex digits");
      }

      // Resources, and the root digest over their raw digests in listed order.
      JsonNode predicate = object(st, "predicate", "statement predicate");
      JsonNode resources = predicate.get("resources");
      if (resources == null || !resources.isArray()) {
        throw fail("predicate.resources is missing or not a list");
      }
      Map<String, ResourceDigest> byName = new LinkedHashMap<>();
      var rootHash = Sha256.newDigest();
      HexFormat hex = HexFormat.of();
      for (int i = 0; i < resources.size(); i++) {
        JsonNode r = resources.get(i);
        String where = "predicate.resources[" + i + "]";
        if (!r.isObject()) {
          throw fail(where + " is not an object");
        }
        String rName = text(r, "name", where + ".name");
        String algorithm = text(r, "algorithm", where + ".algorithm");
        String digest = text(r, "digest", where + ".digest");
        byte[] raw;
        try {
          if (digest.length() % 2 != 0) {
            throw new IllegalArgumentException();
          }
          raw = hex.parseHex(digest);
        } catch (IllegalArgumentException e) {
          throw fail(where + " (" + quote(rName) + "): digest " + quote(digest) + " is not hex");
        }
        rootHash.update(raw);
        if (byName.put(rName, new ResourceDigest(algorithm, hex.formatHex(raw))) != null) {
          throw fail("resource " + quote(rName) + " is listed twice");
        }
      }
      String computed = hex.formatHex(rootHash.digest());
      if (!computed.equalsIgnoreCase(root)) {
        throw fail("subject.digest.sha256 " + ModelSigner.abbreviate(root.toLowerCase())
            + " does not match the SHA-256 over the resource digests " + ModelSigner.abbreviate(computed)
            + " (the manifest is inconsistent)");
      }

      Serialization ser = serialization(object(predicate, "serialization", "predicate.serialization"));
      return VerifiedManifest.create(label, name, computed, ser, byName, warnings, this::fail);
    }

    private Serialization serialization(JsonNode s) throws SignatureVerificationException {
      String method = text(s, "method", "serialization.method");
      String hashType = text(s, "hash_type", "serialization.hash_type");
      JsonNode allow = s.get("allow_symlinks");
      if (allow == null || !allow.isBoolean()) {
        throw fail("serialization.allow_symlinks is missing or not a boolean");
      }
      Serialization.Method m;
      long shardSize = 0;
      switch (method) {
        case "files" -> m = Serialization.Method.FILES;
        case "shards" -> {
          m = Serialization.Method.SHARDS;
          JsonNode size = s.get("shard_size");
          if (size == null || !size.isNumber()) {
            throw fail("serialization.shard_size is missing or not a number (method shards)");
          }
          double d = size.asDouble();
          if (!(d >= 1 && d <= SignOptions.MAX_SHARD_SIZE && d == Math.rint(d))) {
            throw fail("serialization.shard_size " + size.asText() + " is not a whole number of bytes between 1 and 2^53");
          }
          shardSize = (long) d;
        }
        default -> throw fail("serialization.method " + quote(method) + " is not files or shards");
      }
      if (!"sha256".equals(hashType)) {
        throw fail("serialization.hash_type " + quote(hashType) + " is not supported (only sha256)");
      }
      List<String> ignore = new ArrayList<>();
      JsonNode paths = s.get("ignore_paths");
      if (paths != null && !paths.isNull()) {
        if (!paths.isArray()) {
          throw fail("serialization.ignore_paths is not a list");
        }
        for (JsonNode p : paths) {
          if (!p.isTextual()) {
            throw fail("serialization.ignore_paths holds a value that is not a string");
          }
          try {
            ignore.add(ModelTree.normalizeRelative(p.asText()));
          } catch (IllegalArgumentException e) {
            throw fail("serialization." + e.getMessage().replace("ignore path", "ignore_paths entry"));
          }
        }
      }
      return new Serialization(m, shardSize, allow.asBoolean(), ignore);
    }

    private JsonNode parse(byte[] bytes, String what) throws SignatureVerificationException {
      try {
        return JSON.readTree(bytes);
      } catch (JsonProcessingException e) {
        JsonLocation at = e.getLocation();
        throw fail(what + " is not valid JSON" + (at == null ? "" : " (line " + at.getLineNr() + ", column "
            + at.getColumnNr() + ")"));
      } catch (IOException e) {
        throw fail(what + " cannot be read: " + e.getClass().getSimpleName());
      }
    }

    private String text(JsonNode parent, String field, String where) throws SignatureVerificationException {
      JsonNode v = parent.get(field);
      if (v == null || v.isNull()) {
        throw fail(where + " is missing");
      }
      if (!v.isTextual()) {
        throw fail(where + " is not a string");
      }
      return v.asText();
    }

    private JsonNode object(JsonNode parent, String field, String where) throws SignatureVerificationException {
      JsonNode v = parent.get(field);
      if (v == null || !v.isObject()) {
        throw fail(where + " is missing or not an object");
      }
      return v;
    }

    private byte[] base64(String s, String where) throws SignatureVerificationException {
      if (s == null) {
        throw fail(where + " is not a string");
      }
      try {
        return Base64.getDecoder().decode(s);
      } catch (IllegalArgumentException e) {
        try {
          // protobuf JSON accepts the URL-safe alphabet too
          return Base64.getUrlDecoder().decode(s);
        } catch (IllegalArgumentException e2) {
          throw fail(where + " is not base64");
        }
      }
    }
  }

  private static boolean ecdsaVerifies(String algorithm, PublicKey key, byte[] message, byte[] sig) {
    try {
      Signature v = Signature.getInstance(algorithm);
      v.initVerify(key);
      v.update(message);
      return v.verify(sig);
    } catch (SignatureException e) {
      return false; // not a DER ECDSA signature at all
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK cannot verify " + algorithm, e);
    }
  }
}
