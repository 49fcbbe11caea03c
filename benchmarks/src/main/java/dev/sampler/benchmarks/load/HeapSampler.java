package dev.sampler.benchmarks.load;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Samples the server process's live heap: every {@link #PERIOD_S} seconds it asks the JVM for a full
 * GC and then for the heap's used size ({@code jcmd PID GC.run}, {@code jcmd PID GC.heap_info}), so
 * the series shows retained memory, not garbage. A bounded heap is a flat series. The forced GCs
 * are short on this heap (tens of ms) and are counted in the latencies the driver reports.
 */
final class HeapSampler {
  static final int PERIOD_S = 20;
  private static final Pattern USED = Pattern.compile("heap\\s+total.*?used (\\d+)K");

  private final long pid;
  private final List<Long> samples = new CopyOnWriteArrayList<>();
  private volatile boolean running = true;
  private Thread thread;

  HeapSampler(long pid) {
    this.pid = pid;
  }

  void start() {
    thread = Thread.ofPlatform().daemon().name("heap-sampler").start(() -> {
      while (running) {
        sample();
        try {
          Thread.sleep(PERIOD_S * 1000L);
        } catch (InterruptedException e) {
          return;
        }
      }
    });
  }

  void stop() throws InterruptedException {
    running = false;
    thread.interrupt();
    thread.join(30_000);
    sample();
  }

  List<Long> samplesMiB() {
    return samples.stream().map(k -> k / 1024).toList();
  }

  private void sample() {
    try {
      String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
      exec(jcmd, Long.toString(pid), "GC.run");
      Matcher m = USED.matcher(exec(jcmd, Long.toString(pid), "GC.heap_info"));
      if (m.find()) {
        samples.add(Long.parseLong(m.group(1)));
      }
    } catch (IOException | InterruptedException e) {
      // the server may be exiting; the series simply ends
    }
  }

  private static String exec(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    p.waitFor();
    return new String(out, StandardCharsets.UTF_8);
  }
}
