package dev.sampler.server.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.engine.quality.ColourShapeChecker;
import dev.sampler.engine.sampling.DiffusionPipeline;
import dev.sampler.engine.sampling.Images;
import dev.sampler.engine.sampling.SamplingListener;
import dev.sampler.engine.sampling.SamplingRequest;
import dev.sampler.engine.sampling.SamplingResult;
import dev.sampler.engine.sampling.StreamNoise;
import dev.sampler.engine.schedule.Schedulers;
import dev.sampler.rng.NoiseStream;
import dev.sampler.rng.SecretSeed;
import dev.sampler.server.engine.CommitmentKey;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/** One local generation request, shared by {@code generate}, {@code demo} and {@code fidelity}. */
final class Generation {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What came out: the result, its PNGs, the checker's verdicts and the metadata lines. */
  record Output(SamplingResult result, List<byte[]> pngs, int[] checked, List<ObjectNode> metadata, long wallNanos) {
    int correct(int[] labels) {
      int ok = 0;
      for (int k = 0; k < labels.length; k++) {
        if (checked[k] == labels[k]) {
          ok++;
        }
      }
      return ok;
    }
  }

  private Generation() {}

  /**
   * Runs {@code request}; the noise stream is opened here (replay from {@code seed} when given)
   * and closed before returning. Nothing secret is put in the metadata: the seed only as its
   * keyed commitment.
   */
  static Output run(DiffusionPipeline pipeline, SamplingRequest request, String scheduler, NoiseOptions noise,
      SecretSeed seed, CommitmentKey key, PrintWriter progress) throws Exception {
    String requestId = noise.requestId();
    long t0 = System.nanoTime();
    SamplingResult result;
    boolean tty = System.console() != null && progress != null;
    SamplingListener listener = !tty ? SamplingListener.NONE : p -> {
      int width = 30;
      int filled = p.step() * width / p.total();
      progress.printf("\r[%s%s] step %d/%d", "#".repeat(filled), ".".repeat(width - filled), p.step(), p.total());
      if (p.step() == p.total()) {
        progress.println();
      }
      progress.flush();
    };
    try (NoiseStream stream = noise.open(seed, requestId)) {
      result = pipeline.generate(request, scheduler, new StreamNoise(stream), listener, () -> false);
    }
    long wall = System.nanoTime() - t0;
    String commitment = seed == null ? null : seed.commit(key.key()).hex();
    int[] labels = request.classLabels();
    List<byte[]> pngs = new ArrayList<>();
    List<ObjectNode> meta = new ArrayList<>();
    int[] checked = new int[labels.length];
    boolean checkable = result.channels() == 3 && pipeline.classes().labels().equals(ColourShapeChecker.CLASS_NAMES);
    String schedulerClass = Schedulers.named(scheduler, pipeline.schedulerConfig()).className();
    for (int k = 0; k < labels.length; k++) {
      byte[] png = Images.png(result, k);
      pngs.add(png);
      checked[k] = checkable ? ColourShapeChecker.classify(result.images(), k, result.height(), result.width()) : -2;
      ObjectNode m = JSON.createObjectNode();
      m.put("index", k);
      m.put("class", labels[k]);
      if (labels[k] >= 0 && labels[k] < pipeline.classes().labels().size()) {
        m.put("label", pipeline.classes().labels().get(labels[k]));
      }
      m.put("scheduler", scheduler);
      m.put("scheduler_class", schedulerClass);
      m.put("steps", request.steps());
      m.put("guidance", request.guidanceScale());
      if (request.guidanceRescale() > 0) {
        m.put("guidance_rescale", request.guidanceRescale());
      }
      m.put("model_sha256", pipeline.weightsSha256());
      m.put("model_config_sha256", pipeline.configSha256());
      m.put("scheduler_config_sha256", pipeline.schedulerConfigSha256());
      m.put("tenant", noise.tenant);
      m.put("request_id", requestId);
      m.put("noise", seed == null ? "os-entropy" : "replay");
      if (commitment != null) {
        m.put("seed_commitment", commitment);
        m.put("commitment_key", key.id());
      }
      m.put("png_sha256", sha256(png));
      if (checkable) {
        m.put("checker", ColourShapeChecker.name(checked[k]));
      }
      meta.add(m);
    }
    return new Output(result, pngs, checked, meta, wall);
  }

  /** Writes the PNGs as OUT/PREFIX-NNN-label.png and returns their paths. */
  static List<Path> writeImages(Output out, DiffusionPipeline pipeline, int[] labels, Path dir, String prefix)
      throws IOException {
    Files.createDirectories(dir);
    List<Path> paths = new ArrayList<>();
    for (int k = 0; k < out.pngs().size(); k++) {
      String label = labels[k] >= 0 && labels[k] < pipeline.classes().labels().size()
          ? pipeline.classes().labels().get(labels[k]) : null;
      Path p = dir.resolve(fileName(prefix, k, label));
      Files.write(p, out.pngs().get(k));
      paths.add(p);
      out.metadata().get(k).put("file", p.toString());
    }
    return paths;
  }

  /** Pixel scale of the images on a contact sheet (the demo model's 32x32 images become 128x128). */
  static final int SHEET_SCALE = 4;

  /**
   * PREFIX-NNN-label.png, the label reduced to lower-case letters, digits and dashes (so a
   * server-sent label cannot name a path); no label part when {@code label} is null.
   */
  static String fileName(String prefix, int index, String label) {
    String l = label == null ? "" : "-" + label.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-");
    l = l.substring(0, Math.min(l.length(), 41)); // a label from a server is not trusted to be short
    return String.format(Locale.ROOT, "%s-%03d%s.png", prefix, index, l);
  }

  /** A contact sheet of all images with their labels and the checker's verdict. */
  static BufferedImage sheet(Output out, DiffusionPipeline pipeline, int[] labels, String title, int columns) {
    List<ContactSheet.Tile> tiles = new ArrayList<>();
    SamplingResult r = out.result();
    for (int k = 0; k < labels.length; k++) {
      BufferedImage img = Images.toBufferedImage(r.rgb8(k), r.channels(), r.height(), r.width());
      String caption = labels[k] >= 0 && labels[k] < pipeline.classes().labels().size()
          ? pipeline.classes().labels().get(labels[k]) : "unconditional";
      String detail = null;
      boolean flagged = false;
      if (out.checked()[k] != -2) {
        flagged = out.checked()[k] != labels[k];
        detail = flagged ? "seen: " + ColourShapeChecker.name(out.checked()[k]) : "checker ok";
      }
      tiles.add(new ContactSheet.Tile(img, caption, detail, flagged));
    }
    return ContactSheet.render(title, tiles, columns, SHEET_SCALE);
  }

  /** One line with where the time went. */
  static String timing(Output out) {
    SamplingResult r = out.result();
    double fwd = r.forwardNanos() / 1e6;
    double sch = r.schedulerNanos() / 1e6;
    double noise = r.noiseNanos() / 1e6;
    double perStep = (fwd + sch + noise) / Math.max(1, r.modelEvaluations());
    return String.format(Locale.ROOT,
        "%d images, %d model evaluations in %.0f ms: UNet %.0f ms, scheduler+guidance %.1f ms, noise %.2f ms"
            + " (%.3f%% of a step's %.1f ms; in a fresh JVM this includes the noise code's JIT warm-up,"
            + " steady state: benchmarks/ NoiseBenchmark)",
        r.count(), r.modelEvaluations(), out.wallNanos() / 1e6, fwd, sch, noise,
        100 * noise / Math.max(1e-9, fwd + sch + noise), perStep);
  }

  static String json(ObjectNode node) {
    try {
      return JSON.writeValueAsString(node);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String sha256(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Parses "--class": a label, a comma list, or "all" (every label of the model). */
  static int[] parseClasses(String spec, DiffusionPipeline pipeline, int countPerClass) {
    List<Integer> base = baseClasses(spec, pipeline.classes().labels().size());
    if (countPerClass < 1) {
      throw new IllegalArgumentException("--count must be at least 1, got " + countPerClass);
    }
    long total = (long) base.size() * countPerClass;
    if (total > SamplingRequest.MAX_IMAGES) {
      throw new IllegalArgumentException("at most " + SamplingRequest.MAX_IMAGES + " images per request, asked for " + total);
    }
    return repeat(base, countPerClass);
  }

  /**
   * The classes "--class" names, each once: "all" is every label of a model with {@code
   * classLabels} labels (-1 for an unconditional model), else a comma list of class numbers.
   *
   * @throws IllegalArgumentException naming the part that is not a number
   */
  static List<Integer> baseClasses(String spec, int classLabels) {
    List<Integer> base = new ArrayList<>();
    if (spec == null || spec.equals("all")) {
      if (classLabels == 0) {
        base.add(-1);
      }
      for (int i = 0; i < classLabels; i++) {
        base.add(i);
      }
      return base;
    }
    for (String part : spec.split(",")) {
      try {
        base.add(Integer.parseInt(part.strip()));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--class: \"" + part.strip() + "\" is not a class number (or use 'all')");
      }
    }
    return base;
  }

  /** Each class {@code count} times, in order (the order images come back in). */
  static int[] repeat(List<Integer> base, int count) {
    int[] labels = new int[base.size() * count];
    int i = 0;
    for (int c : base) {
      for (int j = 0; j < count; j++) {
        labels[i++] = c;
      }
    }
    return labels;
  }
}
