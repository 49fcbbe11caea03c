package dev.sampler.benchmarks;

import dev.sampler.engine.backend.BackendOptions;
import dev.sampler.engine.backend.Backends;
import dev.sampler.engine.backend.TensorBackend;
import dev.sampler.engine.sampling.DiffusionPipeline;
import dev.sampler.engine.sampling.SamplingRequest;
import dev.sampler.engine.sampling.SamplingResult;
import dev.sampler.engine.sampling.StepProgress;
import dev.sampler.engine.sampling.StreamNoise;
import dev.sampler.engine.schedule.NoiseScheduler;
import dev.sampler.engine.schedule.Schedulers;
import dev.sampler.engine.unet.UNet2DModel;
import dev.sampler.rng.NoiseStream;
import dev.sampler.rng.RngException;
import dev.sampler.scheduler.Code;
import dev.sampler.scheduler.GenerationSpec;
import dev.sampler.scheduler.Job;
import dev.sampler.scheduler.JobListener;
import dev.sampler.scheduler.Tenant;
import dev.sampler.scheduler.batch.BatcherStats;
import dev.sampler.scheduler.batch.BatchingPolicy;
import dev.sampler.scheduler.batch.FifoJobSource;
import dev.sampler.scheduler.batch.StepBatcher;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Images per second of the step batcher with batching on and off, at several numbers of
 * concurrent clients, in one run; then the UNet's cost per row at several batch sizes (what
 * batching can gain on this machine).
 *
 * <p>Each client is a closed loop: it submits one 1-image guided request (2 model rows), waits for
 * its result, and submits the next. A configuration runs its clients for a warm-up, then counts
 * the images completed in a measured window. Configurations run interleaved (for each client
 * count: off, on; the next round in the opposite order) and every round is printed, so drift of
 * a shared machine shows instead of hiding in one number. A main() rather than JMH: the quantity
 * is a steady-state rate of a multi-threaded closed system with its own warm-up, which JMH's
 * per-invocation model does not fit, and a JMH fork per configuration would repeat the C2
 * warm-up of the Vector API kernels (several seconds each) sixteen times.
 *
 * <p>Usage: {@code java <jvm flags> -cp benchmarks.jar dev.sampler.benchmarks.BatchingBench
 * [--clients 1,4,8,16] [--steps 20] [--scheduler dpmpp-2m-karras] [--guidance 3] [--max-rows 32]
 * [--threads 2] [--warmup 4] [--measure 12] [--rounds 2] [--rows 2,4,8,16,32] [--model DIR]}
 */
public final class BatchingBench {
  private BatchingBench() {}

  /** One configuration's measured window. */
  record Result(int clients, boolean batching, int round, double imagesPerSecond, double completedPerSecond,
      double p50Ms, double p99Ms, double meanRows, double msPerForward, long workspaceAllocations, int failures) {}

  private record Done(long endNanos, long latencyNanos, boolean ok) {}

  public static void main(String[] args) throws Exception {
    Map<String, String> o = BenchOptions.parse(args);
    int[] clientCounts = ints(o.getOrDefault("clients", "1,4,8,16"));
    int steps = Integer.parseInt(o.getOrDefault("steps", "20"));
    String scheduler = o.getOrDefault("scheduler", "dpmpp-2m-karras");
    double guidance = Double.parseDouble(o.getOrDefault("guidance", "3"));
    int maxRows = Integer.parseInt(o.getOrDefault("max-rows", "32"));
    int threads = Integer.parseInt(o.getOrDefault("threads", "2"));
    double warmup = Double.parseDouble(o.getOrDefault("warmup", "4"));
    double measure = Double.parseDouble(o.getOrDefault("measure", "12"));
    int rounds = Integer.parseInt(o.getOrDefault("rounds", "2"));
    int[] rowSizes = ints(o.getOrDefault("rows", "2,4,8,16,32"));

    try (TensorBackend backend = Backends.create("cpu", BackendOptions.threads(threads));
        DiffusionPipeline pipeline = DiffusionPipeline.load(BenchModels.resolve(o.get("model")), backend)) {
      System.out.println("CPU: " + cpuModel());
      System.out.printf("BatchingBench: %s, %s; 1-image requests, %d steps of %s, guidance %s (2 rows each); "
          + "max rows %d; warm-up %.0f s + measured %.0f s per configuration, %d rounds; %d cores visible%n",
          pipeline.directory(), backend.description(), steps, scheduler, guidance, maxRows, warmup, measure, rounds,
          Runtime.getRuntime().availableProcessors());
      // JIT warm-up: C2 compiles the Vector API kernels for every shape the runs will use.
      System.out.println("JIT warm-up ...");
      run(pipeline, Math.max(8, maxRows / 2), true, maxRows, steps, scheduler, guidance, 8, 0, 0);
      run(pipeline, 1, false, maxRows, steps, scheduler, guidance, 4, 0, 0);

      List<Result> results = new ArrayList<>();
      System.out.printf("%n%-5s %-7s %-8s %9s %9s %8s %8s %8s %8s %8s %6s%n", "round", "clients", "batching",
          "images/s", "done/s", "p50 ms", "p99 ms", "rows/fwd", "ms/fwd", "ws alloc", "failed");
      for (int round = 1; round <= rounds; round++) {
        for (int clients : clientCounts) {
          boolean[] order = round % 2 == 1 ? new boolean[] {false, true} : new boolean[] {true, false};
          for (boolean batching : order) {
            Result r = run(pipeline, clients, batching, maxRows, steps, scheduler, guidance, warmup, measure, round);
            results.add(r);
            System.out.printf("%-5d %-7d %-8s %9.2f %9.2f %8.0f %8.0f %8.2f %8.1f %8d %6d%n", round, clients,
                batching ? "on" : "off", r.imagesPerSecond, r.completedPerSecond, r.p50Ms, r.p99Ms, r.meanRows,
                r.msPerForward, r.workspaceAllocations, r.failures);
          }
        }
      }
      System.out.printf("%nSummary (mean over rounds; speedup = on / off):%n");
      System.out.printf("| clients | off images/s | on images/s | speedup | on rows/forward | off ms/forward "
          + "| on ms/forward | off p50 ms | on p50 ms |%n");
      System.out.printf("|---|---|---|---|---|---|---|---|---|%n");
      for (int clients : clientCounts) {
        double off = mean(results, clients, false, Result::imagesPerSecond);
        double on = mean(results, clients, true, Result::imagesPerSecond);
        System.out.printf("| %d | %.2f | %.2f | %.2fx | %.1f | %.1f | %.1f | %.0f | %.0f |%n", clients, off, on,
            on / off, mean(results, clients, true, Result::meanRows), mean(results, clients, false, Result::msPerForward),
            mean(results, clients, true, Result::msPerForward), mean(results, clients, false, Result::p50Ms),
            mean(results, clients, true, Result::p50Ms));
      }
      rowCost(pipeline.model(), rowSizes);
    }
  }

  /** Runs {@code clients} closed-loop clients; measures the window after the warm-up. */
  static Result run(DiffusionPipeline pipeline, int clients, boolean batching, int maxRows, int stepCount,
      String scheduler, double guidance, double warmupSeconds, double measureSeconds, int round) throws Exception {
    FifoJobSource source = new FifoJobSource();
    BatchingPolicy policy = new BatchingPolicy(batching, maxRows);
    ConcurrentLinkedQueue<Done> done = new ConcurrentLinkedQueue<>();
    AtomicLong stepsDone = new AtomicLong();
    Tenant tenant = new Tenant("bench");
    UNet2DModel model = pipeline.model();
    long t0 = System.nanoTime();
    long measureFrom = t0 + (long) (warmupSeconds * 1e9);
    long measureTo = measureFrom + (long) (measureSeconds * 1e9);
    List<Thread> threads = new ArrayList<>();
    BatcherStats before;
    BatcherStats after;
    long wsBefore;
    long wsAfter;
    long steps;
    try (StepBatcher batcher = new StepBatcher("bench", pipeline, source, policy)) {
      batcher.start();
      for (int c = 0; c < clients; c++) {
        int id = c;
        Thread t = Thread.ofPlatform().name("bench-client-" + c).daemon(true).start(() -> {
          for (int n = 0; System.nanoTime() < measureTo; n++) {
            String requestId = "c" + id + "-" + n;
            NoiseStream stream;
            try {
              stream = NoiseStream.fromOsEntropy(new NoiseStream.Personalization("bench", requestId));
            } catch (RngException e) {
              throw new IllegalStateException("no OS entropy for the noise stream", e);
            }
            SamplingRequest request = new SamplingRequest(new int[] {id % 9}, stepCount, guidance, 0);
            GenerationSpec spec = new GenerationSpec("demo", requestId, request, scheduler, 0, 32);
            CompletableFuture<Boolean> end = new CompletableFuture<>();
            JobListener listener = new JobListener() {
              @Override
              public void onStep(StepProgress progress) {
                stepsDone.incrementAndGet();
              }

              @Override
              public void onCompleted(SamplingResult result) {
                end.complete(true);
              }

              @Override
              public void onFailed(Code code, String message) {
                end.complete(false);
              }
            };
            long s = System.nanoTime();
            source.submit(new Job(tenant, spec, new StreamNoise(stream), Long.MAX_VALUE, listener, stream));
            boolean ok = end.join();
            long e = System.nanoTime();
            done.add(new Done(e, e - s, ok));
            if (!ok) {
              return; // the batcher closed
            }
          }
        });
        threads.add(t);
      }
      sleepUntil(measureFrom);
      before = batcher.stats();
      wsBefore = model.workspaceAllocations();
      long stepsBefore = stepsDone.get();
      sleepUntil(measureTo);
      after = batcher.stats();
      wsAfter = model.workspaceAllocations();
      steps = stepsDone.get() - stepsBefore;
    } finally {
      source.close(); // fails what still waits, so every client returns
    }
    for (Thread t : threads) {
      t.join();
    }
    List<Long> latencies = new ArrayList<>();
    int failures = 0;
    for (Done d : done) {
      if (d.endNanos >= measureFrom && d.endNanos < measureTo) {
        if (d.ok) {
          latencies.add(d.latencyNanos);
        } else {
          failures++;
        }
      }
    }
    long[] sorted = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
    long forwards = after.forwards() - before.forwards();
    double meanRows = forwards == 0 ? 0 : (double) (after.rows() - before.rows()) / forwards;
    double msPerForward = forwards == 0 ? 0 : (after.busyNanos() - before.busyNanos()) / 1e6 / forwards;
    double seconds = Math.max(measureSeconds, 1e-9);
    // Images/s from denoising steps: clients in lockstep finish their images together, so counting
    // completed images alone would jump by whole batches; steps are counted as they happen.
    return new Result(clients, batching, round, steps / (double) stepEvaluations(pipeline, scheduler, stepCount) / seconds,
        sorted.length / seconds, percentile(sorted, 0.5), percentile(sorted, 0.99), meanRows, msPerForward,
        wsAfter - wsBefore, failures);
  }

  /** Model evaluations per image (Heun: two per timestep but the last). */
  private static int stepEvaluations(DiffusionPipeline pipeline, String scheduler, int steps) throws Exception {
    NoiseScheduler s = Schedulers.named(scheduler, pipeline.schedulerConfig());
    s.setTimesteps(steps);
    return s.timesteps().length;
  }

  /**
   * Forward time per row at each batch size, interleaved over 3 rounds so drift hits every size
   * alike: the mean over all rounds (what a busy batcher sees on a shared machine) and the best
   * round (closest to the machine's quiet speed).
   */
  static void rowCost(UNet2DModel model, int[] sizes) {
    int per = model.config().inChannels() * model.sampleHeight() * model.sampleWidth();
    int rounds = 3;
    double[] best = new double[sizes.length];
    double[] total = new double[sizes.length];
    int[] count = new int[sizes.length];
    Arrays.fill(best, Double.MAX_VALUE);
    for (int round = 0; round < rounds; round++) {
      for (int i = 0; i < sizes.length; i++) {
        int b = sizes[i];
        float[] x = BenchModels.sample(b * per, 7);
        float[] t = BenchModels.timesteps(b);
        long[] labels = BenchModels.labels(b, model.config().numClassEmbeds());
        model.forward(x, b, t, labels); // this shape's workspace
        int n = Math.max(4, 64 / b);
        long s = System.nanoTime();
        for (int k = 0; k < n; k++) {
          model.forward(x, b, t, labels);
        }
        double ms = (System.nanoTime() - s) / 1e6;
        best[i] = Math.min(best[i], ms / n);
        total[i] += ms;
        count[i] += n;
      }
    }
    System.out.printf("%nUNet forward cost by batch size (%d interleaved rounds; mean over all, and the best round):%n",
        rounds);
    System.out.printf("| rows | mean ms/forward | mean ms/row | row cost vs %d rows | best ms/row | best row cost vs %d "
        + "rows |%n", sizes[0], sizes[0]);
    System.out.printf("|---|---|---|---|---|---|%n");
    double mean0 = total[0] / count[0] / sizes[0];
    double best0 = best[0] / sizes[0];
    for (int i = 0; i < sizes.length; i++) {
      double mean = total[i] / count[i];
      System.out.printf("| %d | %.2f | %.2f | %.2f | %.2f | %.2f |%n", sizes[i], mean, mean / sizes[i],
          mean / sizes[i] / mean0, best[i] / sizes[i], best[i] / sizes[i] / best0);
    }
  }

  private static String cpuModel() {
    try (var lines = java.nio.file.Files.lines(java.nio.file.Path.of("/proc/cpuinfo"))) {
      return lines.filter(l -> l.startsWith("model name")).findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim())
          .orElse("unknown");
    } catch (java.io.IOException | RuntimeException e) {
      return "unknown";
    }
  }

  private static double mean(List<Result> rs, int clients, boolean batching,
      java.util.function.ToDoubleFunction<Result> f) {
    return rs.stream().filter(r -> r.clients == clients && r.batching == batching).mapToDouble(f).average()
        .orElse(Double.NaN);
  }

  private static double percentile(long[] sorted, double q) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int i = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))] / 1e6;
  }

  private static void sleepUntil(long nanos) throws InterruptedException {
    for (long left; (left = nanos - System.nanoTime()) > 0; ) {
      TimeUnit.NANOSECONDS.sleep(left);
    }
  }

  private static int[] ints(String csv) {
    return Arrays.stream(csv.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
  }
}
