package dev.sampler.engine.schedule;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.engine.ModelException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Parity with diffusers' own schedulers: runs every case of every
 * {@code src/test/resources/vectors/schedulers/<ClassName>.json.gz} (written by
 * {@code tools/make_scheduler_vectors.py} from the real diffusers classes in float64; the format
 * and the facts behind it are in that directory's README.md) through {@link Schedulers#create}.
 *
 * <p>Per case: the timesteps, sigmas and {@code initNoiseSigma} must match diffusers' (exactly
 * where diffusers' value is an integer, else to a relative error of 1e-15); then the sampling loop
 * runs with the analytic stand-in model re-evaluated here on the Java scheduler's own scaled input
 * and a {@link NoiseSource} that hands out diffusers' recorded draws in order (a case fails if the
 * Java scheduler asks for more, fewer or differently sized draws), and every step's prevSample
 * (and predOriginalSample where diffusers has one) must match to a relative L2 error of 1e-12. A
 * case whose diffusers run raised must be rejected: ModelException from {@code create}, or
 * IllegalArgumentException from {@code setTimesteps} or {@code step}.
 *
 * <p>The vectors come from diffusers run with correctly rounded float32 {@code torch.log/exp/expm1}
 * and correctly rounded numpy {@code log/exp/power} (what the Java schedulers compute, the lead's
 * decision; the diffusers code itself unchanged). Where diffusers as installed (torch's SLEEF and
 * numpy's SIMD kernels) gives different values, the case also carries {@code "installed"}: Java's
 * timesteps must then also be within a relative error of {@value #INSTALLED_TIMESTEP_TOLERANCE}
 * of the installed ones, its sigmas and initNoiseSigma within {@value #INSTALLED_SCHEDULE_TOLERANCE}
 * (two float32 ulps), and its final sample within a relative L2 error of
 * {@value #INSTALLED_SAMPLE_TOLERANCE}; the bounds and the measured differences between the two
 * diffusers runs that justify them are at the constants.
 *
 * <p>diffusers' step() keyword arguments ({@code step_kwargs}, e.g. DDIM's {@code eta}) are given
 * to the Java scheduler as config keys of the same name (the Java step has no such parameters).
 *
 * <p>One dynamic test per class file, so a failing class shows by name; all failures of a class
 * are collected before it fails. {@code -Dscheduler.vectors.classes=DDIMScheduler,...} restricts
 * the classes and {@code -Dscheduler.vectors.filter=<substring>} the case ids (development only).
 */
class SchedulerParityTest {
  static final Path DIR = Path.of("src/test/resources/vectors/schedulers");
  /** Class files are {@code <ClassName>.json.gz}, every diffusers scheduler class name ends so. */
  static final String SUFFIX = "Scheduler.json.gz";
  /** diffusers' betas / alphas_cumprod for every training schedule the cases use. */
  static final Path TRAIN_SCHEDULES = DIR.resolve("train_schedules.json.gz");
  /** Timesteps, sigmas, init_noise_sigma: float32-valued or integer schedule numbers. */
  static final double SCHEDULE_TOLERANCE = 1e-15;
  /** Relative L2 error of prevSample / predOriginalSample per step. */
  static final double SAMPLE_TOLERANCE = 1e-12;
  /**
   * Relative error of sigmas and initNoiseSigma against a case's {@code "installed"} run: two
   * float32 ulps (2 * 2^-23 = 2.38e-7); the installed values are at most one float32 ulp from the
   * correctly rounded ones (measured worst 1.04e-7, an Euler log_linear sigma; initNoiseSigma never
   * differs).
   */
  static final double INSTALLED_SCHEDULE_TOLERANCE = 2.5e-7;
  /**
   * Relative error of the timesteps against a case's {@code "installed"} run. Looser than the
   * sigmas': the float timesteps that diffusers' {@code _sigma_to_t} interpolates between float32
   * log-sigmas (Euler, Heun, LMS with Karras sigmas) move by several float32 ulps when numpy's
   * float32 log is one or two ulps off, because the interpolation weight divides by a difference of
   * nearby logs (measured worst 4.25e-7, 6 float32 ulps of t = 6.73, in Euler, Heun and LMS Karras
   * cases; the integer timesteps of the other classes never differ).
   */
  static final double INSTALLED_TIMESTEP_TOLERANCE = 1e-6;
  /**
   * Relative L2 error of the final sample against a case's {@code "installed"} run (measured worst
   * difference between diffusers' two runs 2.85e-7, DPM-Solver++ 2M SDE; then UniPC 9.8e-8, Euler
   * log_linear 8.2e-8, DDPM fixed_small_log 7.7e-8, Heun and LMS Karras below 1e-8: so Java, within
   * 1e-12 of the correctly rounded run, is within about 3e-7 of the installed one; 1e-5 leaves a
   * wide margin for other CPUs' kernels).
   */
  static final double INSTALLED_SAMPLE_TOLERANCE = 1e-5;
  /** Failures printed in a failing class's message (all are counted). */
  static final int MAX_LISTED = 40;

  static final JsonMapper MAPPER = JsonMapper.builder()
      .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS) // Python's json writes NaN / Infinity
      .build();

  /** The analytic stand-in model of the vectors (the same formula as the files' "model" key). */
  static double[] model(double[] x, double t) {
    double[] out = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      out[i] = 0.8 * x[i] / Math.sqrt(1.0 + x[i] * x[i]) + 0.25 * StrictMath.sin(0.013 * t + 0.37 * i);
    }
    return out;
  }

  static List<Path> vectorFiles() throws IOException {
    if (!Files.isDirectory(DIR)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(DIR)) {
      return s.filter(p -> p.getFileName().toString().endsWith(SUFFIX)).sorted().toList();
    }
  }

  static Set<String> selectedClasses() {
    String p = System.getProperty("scheduler.vectors.classes", "").trim();
    if (p.isEmpty()) {
      return null;
    }
    Set<String> s = new LinkedHashSet<>();
    for (String c : p.split(",")) {
      if (!c.isBlank()) {
        s.add(c.trim());
      }
    }
    return s;
  }

  static String className(Path file) {
    String n = file.getFileName().toString();
    return n.substring(0, n.length() - ".json.gz".length());
  }

  @Test
  void vectorsDirectory_always_holdsAFilePerImplementedClass() throws IOException {
    List<Path> files = vectorFiles();
    assertFalse(files.isEmpty(), DIR + " holds no *" + SUFFIX + " files (run tools/make_scheduler_vectors.py)");
    List<String> have = files.stream().map(SchedulerParityTest::className).toList();
    List<String> missing = new ArrayList<>(Schedulers.classNames());
    missing.removeAll(have);
    assertTrue(missing.isEmpty(), "no vectors for " + missing + " in " + DIR);
  }

  /**
   * {@link BetaSchedule} (the shared training schedule) against diffusers' float32 alphas_cumprod,
   * exactly, for every training schedule of the vectors without rescale_betas_zero_snr (which
   * BetaSchedule does not implement).
   */
  @Test
  void betaSchedule_everyTrainSchedule_equalsDiffusersAlphasCumprod(@TempDir Path tmp) throws Exception {
    JsonNode doc = readGz(TRAIN_SCHEDULES);
    List<String> failures = new ArrayList<>();
    int checked = 0;
    for (JsonNode e : doc.get("schedules")) {
      ObjectNode cfg = (ObjectNode) e.get("config");
      if (cfg.path("rescale_betas_zero_snr").asBoolean(false)) {
        continue;
      }
      Path f = tmp.resolve("scheduler_config_" + checked + ".json");
      Files.write(f, MAPPER.writeValueAsBytes(cfg));
      float[] got = BetaSchedule.read(f).alphasCumprod();
      double[] want = doubles(e.get("alphas_cumprod"));
      checked++;
      if (got.length != want.length) {
        failures.add(cfg + ": " + got.length + " alphas_cumprod, diffusers " + want.length);
        continue;
      }
      int differ = 0;
      int first = -1;
      double worst = 0;
      for (int i = 0; i < want.length; i++) {
        if (got[i] != want[i]) {
          differ++;
          first = first < 0 ? i : first;
          worst = Math.max(worst, relErr(got[i], want[i]));
        }
      }
      if (differ > 0) {
        failures.add(String.format(Locale.ROOT, "%s: alphas_cumprod differs from diffusers in %d of %d entries "
            + "(first [%d] = %s, diffusers %s; worst relative error %.3e)", cfg, differ, want.length, first,
            Float.toString(got[first]), Double.toString(want[first]), worst));
      }
    }
    assertTrue(checked > 0, TRAIN_SCHEDULES + ": no schedule without rescale_betas_zero_snr");
    assertTrue(failures.isEmpty(), "BetaSchedule vs diffusers (" + failures.size() + " of " + checked
        + " schedules differ):\n  " + String.join("\n  ", failures));
  }

  static JsonNode readGz(Path file) throws IOException {
    try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
      return MAPPER.readTree(in);
    }
  }

  @TestFactory
  Stream<DynamicTest> vectors_everyClass_matchesDiffusers() throws IOException {
    List<Path> files = vectorFiles();
    Set<String> only = selectedClasses();
    List<DynamicTest> tests = new ArrayList<>();
    if (files.isEmpty()) {
      tests.add(DynamicTest.dynamicTest("no vector files", () -> fail(DIR + " holds no *" + SUFFIX + " files")));
    }
    if (only != null) {
      Set<String> unknown = new LinkedHashSet<>(only);
      files.forEach(f -> unknown.remove(className(f)));
      if (!unknown.isEmpty()) {
        tests.add(DynamicTest.dynamicTest("unknown classes " + unknown,
            () -> fail("-Dscheduler.vectors.classes names classes without a vector file: " + unknown)));
      }
    }
    for (Path f : files) {
      String cls = className(f);
      if (only == null || only.contains(cls)) {
        tests.add(DynamicTest.dynamicTest(cls, () -> runClass(cls, f)));
      }
    }
    return tests.stream();
  }

  /** Worst errors of one class, for the summary. */
  static final class Summary {
    int cases;
    int withSteps;
    int rejected;
    int passed;
    double worstSchedule;
    String worstScheduleCase = "-";
    double worstPrev;
    String worstPrevCase = "-";
    double worstPred;
    String worstPredCase = "-";
    int installed;
    double worstInstalledSchedule;
    String worstInstalledScheduleCase = "-";
    double worstInstalledFinal;
    String worstInstalledFinalCase = "-";

    void schedule(double e, String id) {
      if (e > worstSchedule || Double.isNaN(e)) {
        worstSchedule = e;
        worstScheduleCase = id;
      }
    }

    void prev(double e, String id) {
      if (e > worstPrev || Double.isNaN(e)) {
        worstPrev = e;
        worstPrevCase = id;
      }
    }

    void pred(double e, String id) {
      if (e > worstPred || Double.isNaN(e)) {
        worstPred = e;
        worstPredCase = id;
      }
    }

    void installedSchedule(double e, String id) {
      if (e > worstInstalledSchedule || Double.isNaN(e)) {
        worstInstalledSchedule = e;
        worstInstalledScheduleCase = id;
      }
    }

    void installedFinal(double e, String id) {
      if (e > worstInstalledFinal || Double.isNaN(e)) {
        worstInstalledFinal = e;
        worstInstalledFinalCase = id;
      }
    }
  }

  static void runClass(String cls, Path file) throws IOException {
    JsonNode doc = readGz(file);
    JsonNode cases = doc.get("cases");
    assertTrue(cases != null && cases.isArray() && !cases.isEmpty(), file + ": no cases");
    String filter = System.getProperty("scheduler.vectors.filter", "");
    List<String> failures = new ArrayList<>();
    Summary sum = new Summary();
    for (JsonNode c : cases) {
      String id = c.get("id").asText();
      if (!id.contains(filter)) {
        continue;
      }
      if (!id.startsWith(cls + "/")) {
        failures.add(id + ": case in the wrong file " + file.getFileName());
        continue;
      }
      sum.cases++;
      int before = failures.size();
      try {
        runCase(cls, c, failures, sum);
      } catch (RuntimeException e) {
        failures.add(id + ": unexpected " + e);
      }
      if (failures.size() == before) {
        sum.passed++;
      }
      if (sum.cases == 1 && failures.size() > before && failures.get(before).contains("unsupported scheduler class")) {
        break; // the class is not implemented: one clear line, not one per case
      }
    }
    System.out.println(String.format(Locale.ROOT,
        "%s: %d cases (%d with steps, %d rejected as diffusers did), %d passed; against correctly rounded: worst "
            + "schedule rel err %.3e (%s), worst prev_sample rel L2 %.3e (%s), worst pred_original_sample rel L2 %.3e "
            + "(%s); against installed (%d cases): worst schedule rel err %.3e (%s), worst final sample rel L2 "
            + "%.3e (%s)",
        cls, sum.cases, sum.withSteps, sum.rejected, sum.passed, sum.worstSchedule, sum.worstScheduleCase,
        sum.worstPrev, sum.worstPrevCase, sum.worstPred, sum.worstPredCase, sum.installed, sum.worstInstalledSchedule,
        sum.worstInstalledScheduleCase, sum.worstInstalledFinal, sum.worstInstalledFinalCase));
    if (sum.cases == 0) {
      failures.add(cls + ": no case matches -Dscheduler.vectors.filter=" + filter);
    }
    if (!failures.isEmpty()) {
      StringBuilder b = new StringBuilder();
      b.append(cls).append(": ").append(failures.size()).append(" failure(s) in ").append(sum.cases)
          .append(" case(s)");
      for (int i = 0; i < Math.min(MAX_LISTED, failures.size()); i++) {
        b.append("\n  ").append(failures.get(i));
      }
      if (failures.size() > MAX_LISTED) {
        b.append("\n  ... ").append(failures.size() - MAX_LISTED).append(" more");
      }
      fail(b.toString());
    }
  }

  /** Hands out one step's recorded draws in order; fails on any mismatch. */
  static final class RecordedNoise implements NoiseSource {
    private final JsonNode draws;
    private int next;

    RecordedNoise(JsonNode draws) {
      this.draws = draws;
    }

    @Override
    public void fill(double[] out) {
      if (next >= draws.size()) {
        throw new NoiseMismatch("asked for draw #" + (next + 1) + " (" + out.length + " values), but diffusers drew "
            + draws.size() + " at this step");
      }
      JsonNode d = draws.get(next);
      if (d.size() != out.length) {
        throw new NoiseMismatch("draw #" + (next + 1) + " asked for " + out.length + " values, diffusers drew "
            + d.size());
      }
      for (int i = 0; i < out.length; i++) {
        out[i] = d.get(i).doubleValue();
      }
      next++;
    }

    int used() {
      return next;
    }
  }

  /** Noise for runs diffusers rejected (no recorded draws): any values do. */
  static final NoiseSource ANY_NOISE = out -> {
    java.util.SplittableRandom r = new java.util.SplittableRandom(out.length);
    for (int i = 0; i < out.length; i++) {
      out[i] = r.nextDouble(-1.0, 1.0);
    }
  };

  /** The Java scheduler's noise requests differ from diffusers' draws. */
  static final class NoiseMismatch extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NoiseMismatch(String message) {
      super(message);
    }
  }

  static void runCase(String cls, JsonNode c, List<String> failures, Summary sum) {
    String id = c.get("id").asText();
    JsonNode err = c.get("error");
    boolean diffusersRaised = err != null && !err.isNull();
    String why = diffusersRaised ? " (diffusers raised at " + text(c, "error_at") + ": " + err.asText() + ")" : "";
    SchedulerConfig config = SchedulerConfig.of((ObjectNode) c.get("config"), id);
    JsonNode kwargs = c.get("step_kwargs");
    if (kwargs != null && !kwargs.isNull() && !kwargs.isEmpty()) {
      Map<String, Object> keys = new LinkedHashMap<>();
      kwargs.properties().forEach(e -> keys.put(e.getKey(), plain(e.getValue())));
      config = config.with(keys);
    }
    int n = c.get("num_inference_steps").asInt();
    NoiseScheduler s;
    try {
      s = Schedulers.create(config);
    } catch (ModelException e) {
      if (diffusersRaised) {
        sum.rejected++;
      } else if (e.getMessage() != null && e.getMessage().contains("unsupported scheduler class")) {
        failures.add(cls + ": " + e.getMessage()); // the message names the case (its config source)
      } else {
        failures.add(id + ": Schedulers.create rejected a config diffusers accepts: " + e.getMessage());
      }
      return;
    }
    try {
      s.setTimesteps(n);
    } catch (IllegalArgumentException e) {
      if (diffusersRaised) {
        sum.rejected++;
      } else {
        failures.add(id + ": setTimesteps(" + n + ") rejected: " + e.getMessage());
      }
      return;
    }
    JsonNode steps = c.get("steps");
    JsonNode installed = c.get("installed");
    if (installed != null && !installed.isNull()) {
      sum.installed++;
    }
    if (!diffusersRaised) {
      int before = failures.size();
      compareSchedule(id, "timesteps", s.timesteps(), c.get("timesteps"), failures, sum);
      compareSchedule(id, "sigmas", s.sigmas(), c.get("sigmas"), failures, sum);
      compareSchedule(id, "initNoiseSigma", new double[] {s.initNoiseSigma()},
          MAPPER.createArrayNode().add(c.get("init_noise_sigma").doubleValue()), failures, sum);
      if (failures.size() > before) {
        return; // a different schedule makes the trajectory meaningless
      }
      if (installed != null && !installed.isNull()) {
        compareInstalled(id, "timesteps", s.timesteps(), installed.get("timesteps"), INSTALLED_TIMESTEP_TOLERANCE,
            failures, sum);
        compareInstalled(id, "sigmas", s.sigmas(), installed.get("sigmas"), INSTALLED_SCHEDULE_TOLERANCE, failures,
            sum);
        JsonNode ins = installed.get("init_noise_sigma");
        compareInstalled(id, "initNoiseSigma", new double[] {s.initNoiseSigma()},
            ins == null ? null : MAPPER.createArrayNode().add(ins.doubleValue()), INSTALLED_SCHEDULE_TOLERANCE,
            failures, sum);
        if (steps == null && installed.has("final_sample")) {
          failures.add(id + ": \"installed\" has a final_sample, but the case has no steps");
        }
      }
    }
    if (steps == null && !diffusersRaised) {
      return; // schedule-only case
    }
    if (!diffusersRaised) {
      sum.withSteps++;
    }
    double[] x = doubles(c.get("initial_sample"));
    double[] ts = s.timesteps();
    for (int k = 0; k < ts.length; k++) {
      double t = ts[k];
      JsonNode st = steps != null && k < steps.size() ? steps.get(k) : null;
      if (!diffusersRaised && st == null) {
        failures.add(id + ": Java has " + ts.length + " timesteps, diffusers recorded " + steps.size() + " steps");
        return;
      }
      // diffusers' draws exist only for runs that completed; a run diffusers rejected gets
      // arbitrary noise (its rejection is what is checked)
      NoiseSource noise = diffusersRaised ? ANY_NOISE : new RecordedNoise(st.get("noise"));
      StepOutput out;
      try {
        double[] xin = s.scaleModelInput(x, t);
        out = s.step(model(xin, t), t, x, noise);
      } catch (IllegalArgumentException e) {
        if (diffusersRaised) {
          sum.rejected++;
        } else {
          failures.add(id + ": step " + k + " (t=" + t + ") rejected: " + e.getMessage());
        }
        return;
      } catch (NoiseMismatch e) {
        failures.add(id + ": step " + k + " (t=" + t + "): noise " + e.getMessage() + why);
        return;
      }
      if (diffusersRaised) {
        x = out.prevSample();
        continue; // diffusers failed somewhere; Java must fail too, checked after the loop
      }
      int used = ((RecordedNoise) noise).used();
      if (used != st.get("noise").size()) {
        failures.add(id + ": step " + k + " (t=" + t + "): used " + used + " noise draws, diffusers drew "
            + st.get("noise").size());
        return;
      }
      double rel = relL2(out.prevSample(), doubles(st.get("prev_sample")));
      sum.prev(rel, id);
      if (!(rel <= SAMPLE_TOLERANCE)) {
        failures.add(String.format(Locale.ROOT, "%s: step %d (t=%s): prev_sample relative L2 %.3e > %.0e", id, k,
            t, rel, SAMPLE_TOLERANCE));
        return;
      }
      JsonNode po = st.get("pred_original_sample");
      if (po != null && !po.isNull()) {
        if (out.predOriginalSample() == null) {
          failures.add(id + ": step " + k + ": predOriginalSample is null, diffusers returns one");
          return;
        }
        double rp = relL2(out.predOriginalSample(), doubles(po));
        sum.pred(rp, id);
        if (!(rp <= SAMPLE_TOLERANCE)) {
          failures.add(String.format(Locale.ROOT, "%s: step %d (t=%s): pred_original_sample relative L2 %.3e > %.0e",
              id, k, t, rp, SAMPLE_TOLERANCE));
          return;
        }
      }
      x = out.prevSample();
    }
    if (diffusersRaised) {
      failures.add(id + ": accepted (create, setTimesteps(" + n + ") and " + ts.length + " steps), but diffusers "
          + "rejected it" + why);
      return;
    }
    if (installed != null && !installed.isNull()) {
      JsonNode fin = installed.get("final_sample");
      if (fin == null || fin.isNull()) {
        failures.add(id + ": \"installed\" of a case with steps has no final_sample");
        return;
      }
      double rel = relL2(x, doubles(fin));
      sum.installedFinal(rel, id);
      if (!(rel <= INSTALLED_SAMPLE_TOLERANCE)) {
        failures.add(String.format(Locale.ROOT, "%s: final sample relative L2 %.3e > %.0e against the installed "
            + "diffusers run", id, rel, INSTALLED_SAMPLE_TOLERANCE));
      }
    }
  }

  /**
   * One schedule array against a case's {@code "installed"} run: relative error per value (no
   * exactness for integers: the exact values are checked against the correctly rounded run).
   */
  static void compareInstalled(String id, String what, double[] got, JsonNode want, double tolerance,
      List<String> failures, Summary sum) {
    if (want == null || want.isNull()) {
      failures.add(id + ": \"installed\" has no " + what);
      return;
    }
    double[] w = doubles(want);
    if (got.length != w.length) {
      failures.add(id + ": " + what + " has " + got.length + " values, the installed diffusers run " + w.length);
      return;
    }
    for (int i = 0; i < w.length; i++) {
      double e = Double.isNaN(got[i]) && Double.isNaN(w[i]) ? 0.0 : relErr(got[i], w[i]);
      sum.installedSchedule(e, id);
      if (!(e <= tolerance)) {
        failures.add(String.format(Locale.ROOT, "%s: %s[%d] = %s, installed diffusers %s (relative error %.3e > %.1e)",
            id, what, i, Double.toString(got[i]), Double.toString(w[i]), e, tolerance));
        return;
      }
    }
  }

  static void compareSchedule(String id, String what, double[] got, JsonNode want, List<String> failures,
      Summary sum) {
    double[] w = doubles(want);
    if (got.length != w.length) {
      failures.add(id + ": " + what + " has " + got.length + " values, diffusers " + w.length + ": Java "
          + preview(got) + ", diffusers " + preview(w));
      return;
    }
    for (int i = 0; i < w.length; i++) {
      boolean integral = w[i] == Math.rint(w[i]) && !Double.isInfinite(w[i]);
      double e = integral ? (got[i] == w[i] ? 0.0 : Double.POSITIVE_INFINITY) : relErr(got[i], w[i]);
      sum.schedule(e, id);
      if (!(e <= SCHEDULE_TOLERANCE) && !(Double.isNaN(got[i]) && Double.isNaN(w[i]))) {
        failures.add(String.format(Locale.ROOT, "%s: %s[%d] = %s, diffusers %s (%s)", id, what, i,
            Double.toString(got[i]), Double.toString(w[i]), integral ? "must be exact" : "relative error "
            + String.format(Locale.ROOT, "%.3e > %.0e", e, SCHEDULE_TOLERANCE)));
        return;
      }
    }
  }

  static double relErr(double got, double want) {
    if (got == want) {
      return 0.0;
    }
    return Math.abs(got - want) / Math.abs(want);
  }

  /** ||got - want|| / ||want|| (the absolute norm where want is all zero); NaN in the same places is equal. */
  static double relL2(double[] got, double[] want) {
    if (got.length != want.length) {
      return Double.POSITIVE_INFINITY;
    }
    double d = 0;
    double n = 0;
    for (int i = 0; i < want.length; i++) {
      if (Double.isNaN(want[i]) || Double.isNaN(got[i])) {
        if (Double.isNaN(want[i]) != Double.isNaN(got[i])) {
          return Double.POSITIVE_INFINITY;
        }
        continue;
      }
      if (got[i] == want[i]) {
        n += want[i] * want[i];
        continue; // equal infinities too
      }
      double e = got[i] - want[i];
      d += e * e;
      n += want[i] * want[i];
    }
    return n == 0 || Double.isInfinite(n) ? Math.sqrt(d) : Math.sqrt(d / n);
  }

  static double[] doubles(JsonNode a) {
    double[] out = new double[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = a.get(i).doubleValue();
    }
    return out;
  }

  static Object plain(JsonNode v) {
    if (v.isBoolean()) {
      return v.booleanValue();
    }
    if (v.isIntegralNumber()) {
      return v.intValue();
    }
    if (v.isNumber()) {
      return v.doubleValue();
    }
    if (v.isNull()) {
      return null;
    }
    return v.asText();
  }

  static String text(JsonNode c, String key) {
    JsonNode v = c.get(key);
    return v == null || v.isNull() ? "?" : v.asText();
  }

  static String preview(double[] a) {
    if (a.length <= 6) {
      return Arrays.toString(a);
    }
    return "[" + a[0] + ", " + a[1] + ", " + a[2] + ", ..., " + a[a.length - 1] + "]";
  }
}
