package dev.sampler.server.startup;

import dev.sampler.attestation.AttestationException;
import dev.sampler.attestation.EvidenceProvider;
import dev.sampler.attestation.SampleEvidenceProvider;
import dev.sampler.attestation.TsmReportProvider;
import dev.sampler.attestation.kbs.KbsClient;
import dev.sampler.attestation.kbs.ResourceId;
import dev.sampler.engine.EngineException;
import dev.sampler.engine.backend.BackendOptions;
import dev.sampler.engine.backend.Backends;
import dev.sampler.engine.backend.TensorBackend;
import dev.sampler.engine.sampling.ClassLabels;
import dev.sampler.engine.sampling.DiffusionPipeline;
import dev.sampler.engine.sampling.ModelSource;
import dev.sampler.engine.unet.UNet2DModel;
import dev.sampler.integrity.IntegrityException;
import dev.sampler.integrity.safetensors.SafetensorsException;
import dev.sampler.integrity.safetensors.SafetensorsFile;
import dev.sampler.integrity.sealed.DataKey;
import dev.sampler.integrity.sealed.DigestPlan;
import dev.sampler.integrity.sealed.UnsealedBytes;
import dev.sampler.integrity.sealed.Unsealer;
import dev.sampler.integrity.signing.ExpectedDigests;
import dev.sampler.integrity.signing.ModelSignature;
import dev.sampler.integrity.signing.SigningKeys;
import dev.sampler.integrity.signing.VerifiedManifest;
import dev.sampler.integrity.signing.VerifyOptions;
import dev.sampler.server.config.ModelSettings;
import dev.sampler.server.config.ModelTrust;
import dev.sampler.server.config.TrustSettings;
import dev.sampler.server.engine.ModelHost;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.LongSupplier;
import java.util.stream.Stream;

/**
 * Start-up steps 3 to 6 for one model, fail-closed:
 * <ol start="3">
 *   <li>integrity: the model's OpenSSF model-signing bundle verifies against the pinned key, every
 *       file of the directory matches it (sealed files are checked in step 5), and the bytes of the
 *       configuration files that will be parsed are checked again in memory (no check-then-use
 *       gap);
 *   <li>attestation: when the weights are sealed, TEE evidence binding the broker's nonce and an
 *       ephemeral key is sent to the key broker (Trustee KBS RCAR), which releases the data key
 *       wrapped to that key;
 *   <li>unseal: every sealed file is decrypted in memory and hashed against the manifest while it
 *       is decrypted; plaintext never reaches a file;
 *   <li>upload: the weights are parsed from memory onto the backend, the host copies are zeroed,
 *       and the digest of the weights as the backend holds them is taken as the golden value for
 *       runtime re-verification.
 * </ol>
 * Each failure is a {@link StartupException} naming the step, the model and what failed; none
 * carries key material.
 */
public final class TrustedModelLoader {
  private static final Logger LOG = System.getLogger("dev.sampler.server.startup");
  private static final String WEIGHTS = UNet2DModel.WEIGHTS_FILE;
  private static final String SEALED = VerifyOptions.SEALED_SUFFIX;

  /** A loaded model and the checks that re-verify it at run time. */
  public record Loaded(ModelHost host, List<Reverifier.Check> checks) {}

  private TrustedModelLoader() {}

  /**
   * Runs steps 3 to 6 for {@code m}, adding each step's time to {@code timings}.
   *
   * @throws StartupException naming the step that failed
   */
  public static Loaded load(ModelSettings m, TrustSettings trust, StartupTimings timings, LongSupplier clock)
      throws StartupException {
    String who = "model " + m.name() + " (" + m.dir() + ")";
    ModelTrust t = m.trust();
    int threads = m.threads() > 0 ? m.threads() : Runtime.getRuntime().availableProcessors();

    // --- 3 integrity ---
    long t0 = clock.getAsLong();
    Map<String, Path> sealed = sealedFiles(m.dir(), who);
    VerifiedManifest manifest = null;
    PublicKey pinned = null;
    // On disk (re-verification): sealed files stand for their plaintext. At start-up the plaintext
    // weights are hashed once, in memory, where they are loaded from, not also on disk.
    VerifyOptions options = VerifyOptions.defaults().withSignatureFile(t.signature()).withIgnorePaths(t.ignorePaths())
        .withVerifiedElsewhere(sealed.keySet()).withThreads(Math.max(1, Math.min(threads, 4)));
    java.util.Set<String> inMemory = new java.util.HashSet<>(sealed.keySet());
    if (!sealed.containsKey(WEIGHTS)) {
      inMemory.add(WEIGHTS);
    }
    VerifyOptions atStart = options.withVerifiedElsewhere(inMemory);
    if (t.insecureSkipSignature()) {
      LOG.log(Level.WARNING, "INSECURE: " + who + " is loaded WITHOUT verifying its signature"
          + " (insecure-skip-signature: true). Development only.");
    } else {
      try {
        pinned = SigningKeys.readPublicKey(t.signerPublicKey().orElseThrow());
        manifest = ModelSignature.verify(t.signature(), pinned);
        manifest.verifyDirectory(m.dir(), atStart);
        manifest.warnings().forEach(w -> LOG.log(Level.WARNING, who + ": " + w));
      } catch (IntegrityException | IOException e) {
        throw new StartupException(StartupStep.INTEGRITY, who + ": " + e.getMessage(), e);
      }
    }
    byte[] config = readVerified(m.dir(), UNet2DModel.CONFIG_FILE, manifest, who);
    byte[] schedulerConfig = readVerified(m.dir(), DiffusionPipeline.SCHEDULER_CONFIG, manifest, who);
    byte[] classes = Files.exists(m.dir().resolve(ClassLabels.FILE))
        ? readVerified(m.dir(), ClassLabels.FILE, manifest, who) : null;
    boolean weightsSealed = sealed.containsKey(WEIGHTS);
    if (t.sealedKey().isPresent() != !sealed.isEmpty()) {
      throw new StartupException(StartupStep.INTEGRITY, who + ": " + (t.sealedKey().isPresent()
          ? "sealed-key is set but the directory holds no sealed file (" + WEIGHTS + SEALED + ")"
          : "the directory holds sealed files (" + String.join(", ", new TreeSet<>(sealed.keySet())) + " + "
              + SEALED + ") but the model has no sealed-key naming their data key"));
    }
    if (!sealed.isEmpty() && !weightsSealed) {
      throw new StartupException(StartupStep.INTEGRITY, who + ": sealed files are present but " + WEIGHTS + SEALED
          + " is not one of them");
    }
    Arena plainArena = null;
    MemorySegment plainWeights = null;
    if (!weightsSealed) {
      plainArena = Arena.ofShared();
      plainWeights = readIntoMemory(m.dir().resolve(WEIGHTS), plainArena, who);
      if (manifest != null) {
        try {
          manifest.verifyContent(WEIGHTS, plainWeights);
        } catch (IntegrityException e) {
          plainArena.close();
          throw new StartupException(StartupStep.INTEGRITY, who + ": " + e.getMessage(), e);
        }
      }
      LOG.log(Level.WARNING, who + ": the weights are not sealed (plaintext " + WEIGHTS + "); verified against the"
          + " signature only");
    }
    timings.add(StartupStep.INTEGRITY, clock.getAsLong() - t0);

    UnsealedBytes unsealed = null;
    try {
      if (weightsSealed) {
        // --- 4 attestation ---
        t0 = clock.getAsLong();
        DataKey key = fetchKey(t.sealedKey().orElseThrow(), trust.attestation(), who);
        timings.add(StartupStep.ATTESTATION, clock.getAsLong() - t0);
        // --- 5 unseal ---
        t0 = clock.getAsLong();
        try {
          for (Map.Entry<String, Path> e : sealed.entrySet()) {
            DigestPlan plan = manifest == null ? DigestPlan.none() : plan(manifest, e.getKey(), who);
            UnsealedBytes u = Unsealer.unseal(e.getValue(), key, e.getKey(), threads, plan);
            if (e.getKey().equals(WEIGHTS)) {
              unsealed = u;
            } else {
              u.close(); // verified; only the weights are needed (zeroed on close)
            }
          }
        } catch (IntegrityException | IOException e) {
          throw new StartupException(StartupStep.UNSEAL, who + ": " + e.getMessage(), e);
        } finally {
          key.destroy();
        }
        timings.add(StartupStep.UNSEAL, clock.getAsLong() - t0);
      }

      // --- 6 upload ---
      t0 = clock.getAsLong();
      MemorySegment weights = unsealed != null ? unsealed.segment() : plainWeights;
      String weightsSha256 = wholeFileDigest(manifest, weights);
      BackendOptions bo = new BackendOptions(threads, m.properties());
      TensorBackend backend;
      try {
        backend = Backends.create(m.backend(), bo);
      } catch (EngineException e) {
        throw new StartupException(StartupStep.UPLOAD, who + ": backend " + m.backend() + ": " + e.getMessage(), e);
      }
      DiffusionPipeline pipeline;
      try {
        SafetensorsFile file = SafetensorsFile.parse(weights, WEIGHTS);
        pipeline = DiffusionPipeline.load(new ModelSource(m.name(), m.dir(), config, schedulerConfig, classes, file,
            weightsSha256), backend);
      } catch (EngineException | SafetensorsException | RuntimeException e) {
        backend.close();
        throw new StartupException(StartupStep.UPLOAD, who + ": " + e.getMessage(), e);
      }
      ModelHost host;
      try {
        host = new ModelHost(m.name(), pipeline, backend);
      } catch (EngineException e) {
        pipeline.close();
        backend.close();
        throw new StartupException(StartupStep.UPLOAD, who + ": " + e.getMessage(), e);
      }
      byte[] golden = pipeline.model().loadedWeightsDigest();
      timings.add(StartupStep.UPLOAD, clock.getAsLong() - t0);
      return new Loaded(host, checks(m, who, pipeline, golden, pinned, options));
    } finally {
      // host copies of the plaintext weights: zeroed and freed whatever happened
      if (unsealed != null) {
        unsealed.close();
      }
      if (plainArena != null) {
        plainWeights.fill((byte) 0);
        plainArena.close();
      }
    }
  }

  /** What runtime re-verification checks for this model. */
  private static List<Reverifier.Check> checks(ModelSettings m, String who, DiffusionPipeline pipeline, byte[] golden,
      PublicKey pinned, VerifyOptions options) {
    List<Reverifier.Check> out = new ArrayList<>();
    out.add(check("model " + m.name() + ": weights as loaded", () -> {
      byte[] now = pipeline.model().loadedWeightsDigest();
      return Arrays.equals(now, golden) ? null : "the backend's weights hash to " + shortHex(now)
          + ", not to " + shortHex(golden) + " as verified at load";
    }));
    if (pinned != null) {
      out.add(check("model " + m.name() + ": signed files on disk", () -> {
        VerifiedManifest again = ModelSignature.verify(m.trust().signature(), pinned);
        again.verifyDirectory(m.dir(), options);
        return null;
      }));
    }
    return out;
  }

  private interface Verify {
    String run() throws Exception;
  }

  private static Reverifier.Check check(String name, Verify v) {
    return new Reverifier.Check() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public String verify() throws Exception {
        try {
          return v.run();
        } catch (IntegrityException e) {
          return e.getMessage();
        }
      }
    };
  }

  private static DataKey fetchKey(String resource, TrustSettings.Attestation a, String who) throws StartupException {
    EvidenceProvider provider;
    try {
      if (a.evidence().equals("insecure-sample")) {
        LOG.log(Level.WARNING, "INSECURE: attestation.evidence is insecure-sample: the key broker is shown SAMPLE"
            + " evidence that proves nothing about this machine. Development only.");
        provider = new SampleEvidenceProvider(true);
      } else {
        provider = new TsmReportProvider(a.tsmDir());
      }
      KbsClient client = new KbsClient(a.kbsUrl().orElseThrow(), provider, a.timeout());
      byte[] raw = client.fetchResource(ResourceId.parse(resource));
      try {
        return DataKey.fromBytes(raw);
      } catch (IllegalArgumentException e) {
        throw new StartupException(StartupStep.ATTESTATION, who + ": the key broker released " + resource
            + " but it is not a " + 32 + "-byte data key (" + raw.length + " bytes)");
      } finally {
        Arrays.fill(raw, (byte) 0);
      }
    } catch (AttestationException e) {
      throw new StartupException(StartupStep.ATTESTATION, who + ": key " + resource + ": " + e.getMessage(), e);
    }
  }

  private static DigestPlan plan(VerifiedManifest manifest, String name, String who) throws StartupException {
    try {
      return switch (manifest.expectedDigests(name)) {
        case ExpectedDigests.WholeFile w -> DigestPlan.wholeFile(w.sha256());
        case ExpectedDigests.Sharded s -> DigestPlan.shards(s.shards().stream()
            .map(x -> new DigestPlan.Shard(x.start(), x.end(), x.sha256())).toList());
      };
    } catch (IntegrityException e) {
      throw new StartupException(StartupStep.INTEGRITY, who + ": " + e.getMessage(), e);
    }
  }

  /** {@code <name>.sealed} files under {@code dir}, by plaintext name (relative POSIX path). */
  private static Map<String, Path> sealedFiles(Path dir, String who) throws StartupException {
    Map<String, Path> out = new LinkedHashMap<>();
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) s.sorted()::iterator) {
        String rel = dir.relativize(p).toString().replace('\\', '/');
        if (Files.isRegularFile(p) && rel.endsWith(SEALED)) {
          out.put(rel.substring(0, rel.length() - SEALED.length()), p);
        }
      }
    } catch (IOException e) {
      throw new StartupException(StartupStep.INTEGRITY, who + ": cannot list the directory: " + e.getMessage(), e);
    }
    return out;
  }

  /** Reads a small file once and checks exactly those bytes against the manifest. */
  private static byte[] readVerified(Path dir, String name, VerifiedManifest manifest, String who)
      throws StartupException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(dir.resolve(name));
    } catch (IOException e) {
      throw new StartupException(StartupStep.INTEGRITY, who + ": cannot read " + name + ": " + e.getMessage(), e);
    }
    if (manifest != null) {
      try {
        manifest.verifyContent(name, MemorySegment.ofArray(bytes));
      } catch (IntegrityException e) {
        throw new StartupException(StartupStep.INTEGRITY, who + ": " + e.getMessage(), e);
      }
    }
    return bytes;
  }

  private static MemorySegment readIntoMemory(Path file, Arena arena, String who) throws StartupException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      MemorySegment seg = arena.allocate(Math.max(1, ch.size()), 64).asSlice(0, ch.size());
      var buf = seg.asByteBuffer();
      while (buf.hasRemaining()) {
        if (ch.read(buf) < 0) {
          throw new IOException("the file shrank while it was read");
        }
      }
      return seg;
    } catch (IOException e) {
      arena.close();
      throw new StartupException(StartupStep.INTEGRITY, who + ": cannot read " + file.getFileName() + ": "
          + e.getMessage(), e);
    }
  }

  /** The weights' whole-file SHA-256: from the verified manifest when it has one, else computed. */
  private static String wholeFileDigest(VerifiedManifest manifest, MemorySegment weights) {
    if (manifest != null) {
      try {
        if (manifest.expectedDigests(WEIGHTS) instanceof ExpectedDigests.WholeFile w) {
          return w.sha256();
        }
      } catch (IntegrityException e) {
        // not reached: the weights were verified against the manifest above
      }
    }
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(weights.asByteBuffer());
      return HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  private static String shortHex(byte[] d) {
    return "sha256:" + HexFormat.of().formatHex(d, 0, 6) + "..";
  }

}
