package dev.sampler.benchmarks;

import dev.sampler.integrity.IntegrityException;
import dev.sampler.integrity.crypto.AesGcm;
import dev.sampler.integrity.crypto.Crypto;
import dev.sampler.integrity.crypto.CryptoProvider;
import dev.sampler.integrity.crypto.Sha256;
import dev.sampler.integrity.sealed.DataKey;
import dev.sampler.integrity.sealed.DigestPlan;
import dev.sampler.integrity.sealed.SealedFormat;
import dev.sampler.integrity.sealed.Sealer;
import dev.sampler.integrity.sealed.UnsealedBytes;
import dev.sampler.integrity.sealed.Unsealer;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Unseal throughput against the JDK's AES-GCM, in one run: builds {@code --mib} MiB of random
 * plaintext in memory, seals it to a temporary file (OpenSSL), and measures, each as the median
 * of {@code --reps} runs after {@code --warmup} runs:
 *
 * <ul>
 *   <li>the baseline: {@code javax.crypto} AES-256-GCM decrypting 1 MiB segments in memory, one
 *       stream ({@code --baseline-mib} MiB), warmed for at least 5 s so that C2 has compiled its
 *       intrinsic path; and the same on its first pass in the JVM (cold), which is what a one-shot
 *       unseal at start-up would meet;
 *   <li>SHA-256 alone, one thread: the JDK's {@code MessageDigest} and OpenSSL's;
 *   <li>OpenSSL AES-256-GCM decrypt alone, 1 MiB segments in memory, one thread;
 *   <li>{@link Unsealer} from the file: decrypt only, with a whole-file SHA-256, and with
 *       {@code --shard-mib} MiB shards, at 1 thread and at {@code --threads} (taking turns run by
 *       run, so that changing load on a shared machine affects both alike);
 *   <li>{@link Unsealer} with the JDK fallback ({@code --baseline-mib} MiB file), at {@code --threads}.
 * </ul>
 *
 * <p>MB/s is 10^6 plaintext bytes per second; the ratio is against the baseline of the same run.
 * Unseal times include reading the sealed file (from the page cache after the warm-up) and
 * allocating the output, not closing it.
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar
 * dev.sampler.benchmarks.UnsealBench [--mib 1024] [--baseline-mib 128] [--shard-mib 64]
 * [--threads <cores>] [--reps 5] [--warmup 1] [--dir <tmp>]}
 */
public final class UnsealBench {
  private UnsealBench() {}

  private static final String NAME = "diffusion_pytorch_model.safetensors";
  private static final int SEGMENT = SealedFormat.PLAINTEXT_SEGMENT_BYTES;
  /** C2 needs a few hundred MiB through the JDK's GCM before it runs the intrinsic path. */
  private static final double JDK_WARMUP_SECONDS = 5;

  /** Keeps digests "used" so that no run can be optimized away. */
  private static volatile long BLACKHOLE;

  /** A measurement: median wall seconds and median process CPU seconds of the timed runs. */
  private record Row(String what, int threads, long bytes, double seconds, double cpuSeconds) {}

  private static final com.sun.management.OperatingSystemMXBean OS =
      (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();

  /** One timed run; returns the seconds that count (unseal excludes closing its output). */
  @FunctionalInterface
  private interface Body {
    double run() throws Exception;
  }

  /** Times all of {@code r}. */
  private static Body timed(Action r) {
    return () -> {
      long t0 = System.nanoTime();
      r.run();
      return (System.nanoTime() - t0) / 1e9;
    };
  }

  @FunctionalInterface
  private interface Action {
    void run() throws Exception;
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> o = BenchOptions.parse(args);
    long mib = Long.parseLong(o.getOrDefault("mib", "1024"));
    long baselineMib = Long.parseLong(o.getOrDefault("baseline-mib", "128"));
    long shardMib = Long.parseLong(o.getOrDefault("shard-mib", "64"));
    int threads = Integer.parseInt(o.getOrDefault("threads", Integer.toString(Runtime.getRuntime().availableProcessors())));
    int reps = Integer.parseInt(o.getOrDefault("reps", "5"));
    int warmup = Integer.parseInt(o.getOrDefault("warmup", "1"));
    Path dir = Files.createTempDirectory(Path.of(o.getOrDefault("dir", System.getProperty("java.io.tmpdir"))), "unseal-bench");

    CryptoProvider ssl = Crypto.openssl();
    System.out.println("# UnsealBench " + ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
    System.out.println("cpu: " + cpuModel() + ", " + Runtime.getRuntime().availableProcessors() + " cores visible");
    System.out.println("java: " + Runtime.version() + "; " + Crypto.selection());
    System.out.printf("plaintext %d MiB, baseline %d MiB, shards %d MiB, threads 1 and %d, %d reps (median) after %d warm-up%n",
        mib, baselineMib, shardMib, threads, reps, warmup);
    System.out.println("load average at start: " + loadAverage());
    long[] stat0 = cpuJiffies();
    long cpu0 = OS.getProcessCpuTime();
    long wall0 = System.nanoTime();

    long size = mib << 20;
    long baselineSize = Math.min(size, baselineMib << 20);
    List<Row> rows = new ArrayList<>();
    try (Arena arena = Arena.ofShared(); DataKey key = DataKey.generate()) {
      MemorySegment plain = arena.allocate(size, 64);
      fillRandom(plain);
      Path sealed = dir.resolve("bench.sealed");
      long t0 = System.nanoTime();
      Sealer.seal(plain, sealed, key, NAME, ssl);
      double sealSeconds = (System.nanoTime() - t0) / 1e9;
      Path sealedJdk = dir.resolve("bench-jdk.sealed");
      Sealer.seal(plain.asSlice(0, baselineSize), sealedJdk, key, NAME, ssl);
      System.out.printf("sealed %d MiB in %.2f s (%.0f MB/s, OpenSSL, 1 thread, written to %s)%n",
          mib, sealSeconds, size / 1e6 / sealSeconds, dir);

      String whole;
      List<DigestPlan.Shard> shards = new ArrayList<>();
      try (Sha256 sha = ssl.sha256()) {
        sha.update(plain);
        whole = HexFormat.of().formatHex(sha.digest());
        long shard = shardMib << 20;
        for (long s = 0; s < size; s += shard) {
          long e = Math.min(size, s + shard);
          sha.update(plain.asSlice(s, e - s));
          shards.add(new DigestPlan.Shard(s, e, HexFormat.of().formatHex(sha.digest())));
        }
      }
      DigestPlan wholePlan = DigestPlan.wholeFile(whole);
      DigestPlan shardPlan = DigestPlan.shards(shards);

      byte[] gcmKey = new byte[32];
      new SecureRandom().nextBytes(gcmKey);
      MemorySegment baselineCt = encryptSegments(ssl, gcmKey, plain.asSlice(0, baselineSize), arena);
      MemorySegment out = arena.allocate(baselineSize, 64);

      // First the JDK's GCM as a one-shot loader meets it: cold, in the interpreter until C2 has
      // compiled the intrinsic path (what an unseal at start-up would run through).
      Body jdkGcm = timed(() -> jdkDecrypt(gcmKey, baselineCt, out));
      Row cold = measure("JDK javax.crypto AES-256-GCM decrypt, 1 MiB segments, cold (first pass in this JVM)", 1,
          baselineSize, 0, 0, 1, jdkGcm);
      Row baseline = measure("baseline: JDK javax.crypto AES-256-GCM decrypt, 1 MiB segments, warmed", 1, baselineSize,
          warmup, JDK_WARMUP_SECONDS, reps, jdkGcm);
      rows.add(baseline);
      rows.add(cold);
      rows.add(measure("JDK MessageDigest SHA-256 (in memory)", 1, size, warmup, reps, timed(() -> jdkSha(plain))));
      rows.add(measure("OpenSSL SHA-256 (in memory)", 1, size, warmup, reps, timed(() -> sslSha(ssl, plain))));
      try (Arena phase = Arena.ofConfined()) {
        MemorySegment out2 = phase.allocate(size, 64);
        MemorySegment fullCt = encryptSegments(ssl, gcmKey, plain, phase);
        rows.add(measure("OpenSSL AES-256-GCM decrypt, 1 MiB segments (in memory)", 1, size, warmup, reps,
            timed(() -> sslDecrypt(ssl, gcmKey, fullCt, out2))));
      }
      // Any loader pays for fresh memory: page faults and zeroing (Arena.allocate zero-fills in one
      // thread; Unsealer maps anonymous memory that faults in inside its workers instead).
      rows.add(measure("for scale: fresh off-heap memory, Arena.allocate (zero-filled, first touch)", 1, size,
          warmup, reps, timed(() -> {
            try (Arena a = Arena.ofShared()) {
              BLACKHOLE += a.allocate(size, 64).get(ValueLayout.JAVA_BYTE, size - 1);
            }
          })));
      // 1 thread and all threads alternate run by run, so that a change in the machine's load
      // (other jobs on the shared cores) hits both alike.
      rows.addAll(measureByThreads("unseal, decrypt only", threads, size, warmup, reps,
          t -> () -> unseal(sealed, key, t, DigestPlan.none(), ssl, size)));
      rows.addAll(measureByThreads("unseal + whole-file SHA-256 verify", threads, size, warmup, reps,
          t -> () -> unseal(sealed, key, t, wholePlan, ssl, size)));
      rows.addAll(measureByThreads("unseal + " + shardMib + " MiB shard SHA-256 verify", threads, size, warmup, reps,
          t -> () -> unseal(sealed, key, t, shardPlan, ssl, size)));
      rows.add(measure("unseal with the JDK fallback, decrypt only", threads, baselineSize, warmup, reps,
          () -> unseal(sealedJdk, key, threads, DigestPlan.none(), Crypto.jdk(), baselineSize)));
    } finally {
      try (var s = Files.list(dir)) {
        for (Path p : s.toList()) {
          Files.deleteIfExists(p);
        }
      }
      Files.deleteIfExists(dir);
    }
    System.out.println("load average at end: " + loadAverage());
    long[] stat1 = cpuJiffies();
    if (stat0 != null && stat1 != null) {
      // /proc/stat counts every process on the machine (other containers too, which ps cannot see).
      double wall = (System.nanoTime() - wall0) / 1e9;
      double busy = (stat1[0] - stat0[0]) / 100.0;
      double steal = (stat1[1] - stat0[1]) / 100.0;
      double ours = (OS.getProcessCpuTime() - cpu0) / 1e9;
      int cores = Runtime.getRuntime().availableProcessors();
      System.out.printf(Locale.ROOT, "CPU time during the run: %.0f s wall x %d cores = %.0f core-s; this benchmark %.0f,"
          + " other processes %.0f, hypervisor steal %.0f%n", wall, cores, wall * cores, ours, Math.max(0, busy - ours), steal);
    }
    double base = rows.getFirst().bytes() / 1e6 / rows.getFirst().seconds();
    System.out.println();
    System.out.println("| operation | threads | MiB | median s | MB/s | vs baseline | CPU s | MB per CPU-s |");
    System.out.println("|---|---|---|---|---|---|---|---|");
    for (Row r : rows) {
      double mbs = r.bytes() / 1e6 / r.seconds();
      // The process CPU clock ticks in 10 ms steps: too short a run has no meaningful CPU rate.
      String perCpu = r.cpuSeconds() < 0.05 ? "n/a" : String.format(Locale.ROOT, "%,.0f", r.bytes() / 1e6 / r.cpuSeconds());
      System.out.printf(Locale.ROOT, "| %s | %d | %d | %.3f | %,.0f | %.1fx | %.3f | %s |%n",
          r.what(), r.threads(), r.bytes() >> 20, r.seconds(), mbs, mbs / base, r.cpuSeconds(), perCpu);
    }
  }

  private static int[] threadCounts(int threads) {
    return threads == 1 ? new int[] {1} : new int[] {1, threads};
  }

  /** One row per thread count; the thread counts take turns, run by run. */
  private static List<Row> measureByThreads(String what, int threads, long bytes, int warmup, int reps,
      java.util.function.IntFunction<Body> bodies) throws Exception {
    int[] counts = threadCounts(threads);
    for (int t : counts) {
      for (int i = 0; i < warmup; i++) {
        bodies.apply(t).run();
      }
    }
    double[][] s = new double[counts.length][reps];
    double[][] cpu = new double[counts.length][reps];
    for (int i = 0; i < reps; i++) {
      for (int k = 0; k < counts.length; k++) {
        long c0 = OS.getProcessCpuTime();
        s[k][i] = bodies.apply(counts[k]).run();
        cpu[k][i] = (OS.getProcessCpuTime() - c0) / 1e9;
      }
    }
    List<Row> rows = new ArrayList<>();
    for (int k = 0; k < counts.length; k++) {
      rows.add(row(what, counts[k], bytes, s[k], cpu[k]));
    }
    return rows;
  }

  private static Row row(String what, int threads, long bytes, double[] s, double[] cpu) {
    Arrays.sort(s);
    Arrays.sort(cpu);
    int reps = s.length;
    Row r = new Row(what, threads, bytes, s[reps / 2], cpu[reps / 2]);
    System.out.printf(Locale.ROOT, "%-80s %2d threads: %6.0f MB/s (median %.3f s, min %.3f, max %.3f; CPU %.3f s)%n",
        what, threads, bytes / 1e6 / r.seconds(), r.seconds(), s[0], s[reps - 1], r.cpuSeconds());
    return r;
  }

  private static Row measure(String what, int threads, long bytes, int warmup, int reps, Body body) throws Exception {
    return measure(what, threads, bytes, warmup, 0, reps, body);
  }

  /** Warm-up: at least {@code warmup} runs and at least {@code warmupSeconds} of them. */
  private static Row measure(String what, int threads, long bytes, int warmup, double warmupSeconds, int reps, Body body)
      throws Exception {
    long until = System.nanoTime() + (long) (warmupSeconds * 1e9);
    for (int i = 0; i < warmup || System.nanoTime() < until; i++) {
      body.run();
    }
    double[] s = new double[reps];
    double[] cpu = new double[reps];
    for (int i = 0; i < reps; i++) {
      long c0 = OS.getProcessCpuTime();
      s[i] = body.run();
      cpu[i] = (OS.getProcessCpuTime() - c0) / 1e9;
    }
    return row(what, threads, bytes, s, cpu);
  }

  /** Seconds to unseal; closing (zero-fill and free) the output is not counted. */
  private static double unseal(Path sealed, DataKey key, int threads, DigestPlan plan, CryptoProvider crypto, long size)
      throws IOException, IntegrityException {
    long t0 = System.nanoTime();
    try (UnsealedBytes u = Unsealer.unseal(sealed, key, NAME, threads, plan, crypto)) {
      double seconds = (System.nanoTime() - t0) / 1e9;
      if (u.byteSize() != size) {
        throw new IllegalStateException("unsealed " + u.byteSize() + " bytes, expected " + size);
      }
      return seconds;
    }
  }

  /** 1 MiB - 16 byte plaintext segments encrypted as ciphertext || tag, each under its own nonce. */
  private static MemorySegment encryptSegments(CryptoProvider p, byte[] key, MemorySegment plain, Arena arena) {
    long n = (plain.byteSize() + SEGMENT - 1) / SEGMENT;
    MemorySegment ct = arena.allocate(plain.byteSize() + n * 16, 64);
    try (AesGcm gcm = p.aesGcm(key)) {
      for (long i = 0; i < n; i++) {
        long from = i * SEGMENT;
        long len = Math.min(SEGMENT, plain.byteSize() - from);
        gcm.encrypt(nonce(i), MemorySegment.NULL, plain.asSlice(from, len), ct.asSlice(from + i * 16, len + 16));
      }
    }
    return ct;
  }

  private static byte[] nonce(long i) {
    return ByteBuffer.allocate(12).putLong(4, i).array();
  }

  private static void jdkDecrypt(byte[] key, MemorySegment ct, MemorySegment out) throws Exception {
    Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
    SecretKeySpec k = new SecretKeySpec(key, "AES");
    long n = (out.byteSize() + SEGMENT - 1) / SEGMENT;
    for (long i = 0; i < n; i++) {
      long from = i * SEGMENT;
      long len = Math.min(SEGMENT, out.byteSize() - from);
      c.init(Cipher.DECRYPT_MODE, k, new GCMParameterSpec(128, nonce(i)));
      c.doFinal(ct.asSlice(from + i * 16, len + 16).asByteBuffer(), out.asSlice(from, len).asByteBuffer());
    }
  }

  private static void sslDecrypt(CryptoProvider p, byte[] key, MemorySegment ct, MemorySegment out) {
    long n = (out.byteSize() + SEGMENT - 1) / SEGMENT;
    try (AesGcm gcm = p.aesGcm(key)) {
      for (long i = 0; i < n; i++) {
        long from = i * SEGMENT;
        long len = Math.min(SEGMENT, out.byteSize() - from);
        if (!gcm.decrypt(nonce(i), MemorySegment.NULL, ct.asSlice(from + i * 16, len + 16), out.asSlice(from, len))) {
          throw new IllegalStateException("segment " + i + " did not authenticate");
        }
      }
    }
  }

  private static void jdkSha(MemorySegment data) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    for (long off = 0; off < data.byteSize(); off += 1 << 24) {
      md.update(data.asSlice(off, Math.min(1 << 24, data.byteSize() - off)).asByteBuffer());
    }
    BLACKHOLE += md.digest()[0];
  }

  private static void sslSha(CryptoProvider p, MemorySegment data) {
    try (Sha256 sha = p.sha256()) {
      sha.update(data);
      BLACKHOLE += sha.digest()[0];
    }
  }

  private static void fillRandom(MemorySegment s) {
    SplittableRandom r = new SplittableRandom(20261128);
    long words = s.byteSize() / 8;
    for (long i = 0; i < words; i++) {
      s.setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i, r.nextLong());
    }
  }

  private static String cpuModel() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          String flags = Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
              .filter(l -> l.startsWith("flags")).findFirst().orElse("");
          List<String> have = new ArrayList<>();
          for (String f : List.of("aes", "pclmulqdq", "avx2", "avx512f", "vaes", "vpclmulqdq", "sha_ni")) {
            if ((" " + flags + " ").contains(" " + f + " ")) {
              have.add(f);
            }
          }
          return line.substring(line.indexOf(':') + 1).strip() + " [" + String.join(" ", have) + "]";
        }
      }
    } catch (IOException e) {
      // not Linux: fall through
    }
    return System.getProperty("os.arch");
  }

  /** {busy, steal} jiffies (1/100 s) of all CPUs from /proc/stat, or null off Linux. */
  private static long[] cpuJiffies() {
    try {
      String[] f = Files.readAllLines(Path.of("/proc/stat")).getFirst().trim().split("\\s+");
      // cpu user nice system idle iowait irq softirq steal
      long busy = Long.parseLong(f[1]) + Long.parseLong(f[2]) + Long.parseLong(f[3]) + Long.parseLong(f[6])
          + Long.parseLong(f[7]);
      return new long[] {busy, Long.parseLong(f[8])};
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).strip();
    } catch (IOException e) {
      return "n/a";
    }
  }
}
