package dev.sampler.attestation;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * A SIMULATION of the kernel side of configfs-tsm over a plain temporary directory; it is not
 * attestation and proves nothing about a TEE. It plays what the ABI document
 * (Documentation/ABI/testing/configfs-tsm) describes:
 *
 * <ul>
 *   <li>mkdir of a report entry populates its attributes ({@code provider}, {@code generation} = 0,
 *       {@code inblob}, {@code privlevel_floor} for sev_guest) — done in {@link #afterMkdir}, as
 *       configfs does synchronously;
 *   <li>{@code outblob} and {@code auxblob} are named pipes, so a read blocks until the "kernel"
 *       thread has produced the report, like the real attribute read blocks on the TSM;
 *   <li>the kernel thread waits for the 64-byte inblob, bumps {@code generation} (by {@code
 *       generationStep}; 1 is a lone writer, more simulates a concurrent writer), then writes the
 *       report ({@code report} applied to the inblob) into outblob and, for sev_guest, the auxblob;
 *   <li>rmdir drops the attributes — done in {@link #beforeRmdir}.
 * </ul>
 *
 * All waits are bounded (10 s).
 */
final class SimulatedTsmKernel implements TsmReportProvider.EntryHooks, AutoCloseable {
  private final String provider;
  private final UnaryOperator<byte[]> report;
  private final byte[] auxblob;
  private final int generationStep;
  // Platform daemon threads: a thread blocked opening a pipe must not pin a virtual-thread carrier.
  private final ExecutorService kernel =
      Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "simulated-tsm-kernel");
        t.setDaemon(true);
        return t;
      });
  private final Object lock = new Object();
  private final Map<Path, Boolean> entries = new ConcurrentHashMap<>();
  private final Map<Path, Path> writing = new ConcurrentHashMap<>(); // entry -> pipe being written
  volatile byte[] lastInblob;

  SimulatedTsmKernel(String provider, UnaryOperator<byte[]> report, byte[] auxblob, int generationStep) {
    this.provider = provider;
    this.report = report;
    this.auxblob = auxblob;
    this.generationStep = generationStep;
  }

  @Override
  public void afterMkdir(Path entry) throws IOException {
    Files.writeString(entry.resolve("provider"), provider + "\n");
    Files.writeString(entry.resolve("generation"), "0\n");
    Files.createFile(entry.resolve("inblob"));
    mkfifo(entry.resolve("outblob"));
    if (provider.equals("sev_guest")) {
      Files.writeString(entry.resolve("privlevel_floor"), "0\n");
      mkfifo(entry.resolve("auxblob"));
    }
    entries.put(entry, true);
    kernel.submit(() -> serve(entry));
  }

  private Void serve(Path entry) throws Exception {
    Path inblob = entry.resolve("inblob");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (Files.size(inblob) < 64) {
      if (System.nanoTime() > deadline || !entries.containsKey(entry)) {
        return null;
      }
      Thread.sleep(1);
    }
    byte[] in = Files.readAllBytes(inblob);
    lastInblob = in;
    Files.writeString(entry.resolve("generation"), generationStep + "\n");
    if (!writePipe(entry, "outblob", report.apply(in))) {
      return null;
    }
    if (provider.equals("sev_guest")) {
      writePipe(entry, "auxblob", auxblob);
    }
    return null;
  }

  // Opening a pipe for writing blocks until a reader opens it, like the real attribute read
  // blocks until the TSM answered.
  private boolean writePipe(Path entry, String name, byte[] data) throws IOException {
    Path pipe = entry.resolve(name);
    synchronized (lock) {
      if (!entries.containsKey(entry)) {
        return false; // removed: nobody will read
      }
      writing.put(entry, pipe);
    }
    OutputStream out;
    try {
      out = Files.newOutputStream(pipe, java.nio.file.StandardOpenOption.WRITE);
    } catch (IOException e) {
      writing.remove(entry);
      throw e;
    }
    try {
      out.write(data);
    } finally {
      // Deregister before closing: the reader sees EOF only at close, so an rmdir that follows
      // it never finds this pipe registered and never waits for a writer that is gone.
      writing.remove(entry);
      out.close();
    }
    return true;
  }

  @Override
  public void beforeRmdir(Path entry) throws IOException {
    Path blocked;
    synchronized (lock) {
      entries.remove(entry);
      blocked = writing.get(entry);
    }
    if (blocked != null) {
      // The kernel thread is (about to be) blocked opening this pipe: a reader releases it.
      try (InputStream in = Files.newInputStream(blocked)) {
        in.readAllBytes();
      }
    }
    try (Stream<Path> files = Files.list(entry)) {
      for (Path f : files.toList()) {
        Files.delete(f);
      }
    }
  }

  static void mkfifo(Path p) throws IOException {
    try {
      Process proc = new ProcessBuilder("mkfifo", p.toString()).redirectErrorStream(true).start();
      if (!proc.waitFor(10, TimeUnit.SECONDS) || proc.exitValue() != 0) {
        throw new IOException("mkfifo failed: " + new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  @Override
  public void close() throws InterruptedException {
    kernel.shutdownNow();
    kernel.awaitTermination(10, TimeUnit.SECONDS);
  }
}
