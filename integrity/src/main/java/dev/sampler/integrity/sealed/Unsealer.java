package dev.sampler.integrity.sealed;

import dev.sampler.integrity.IntegrityException;
import dev.sampler.integrity.crypto.AesGcm;
import dev.sampler.integrity.crypto.Crypto;
import dev.sampler.integrity.crypto.CryptoProvider;
import dev.sampler.integrity.crypto.Sha256;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Decrypts a sealed file ({@link SealedFormat}) into off-heap memory, in parallel: worker threads
 * take segments in file order, read each into a private buffer (so a file changed underneath
 * cannot make the bytes authenticated differ from the bytes decrypted) and decrypt it straight to
 * its place in the output. Nothing is written to disk.
 *
 * <p>With a {@link DigestPlan}, the plaintext is hashed while it is decrypted: each digest range
 * is hashed in order by whichever worker finds its next bytes ready, so a whole-file digest runs
 * sequentially alongside the decryption of later segments, and shards are hashed in parallel.
 *
 * <p>Failures are {@link IntegrityException}s that name the file and the segment or digest range,
 * never key material: any segment that fails authentication (tampering, truncation or extension,
 * reordering, a wrong key or file name), a malformed header or size, or a digest mismatch. On any
 * failure the output is zero-filled and freed before the exception is thrown. When several
 * segments fail, the lowest index is reported (segments are handed out in order, so every lower
 * segment has been checked).
 */
public final class Unsealer {
  private Unsealer() {}

  /**
   * Unseals with {@link Crypto#auto()} and no digest check.
   *
   * @param fileName the plaintext file name it was sealed under (the associated data)
   * @param threads decryption threads, at least 1 (the caller is one of them)
   * @throws IntegrityException if the file is malformed or any segment does not authenticate
   * @throws IOException if the file cannot be read ({@link InterruptedIOException} if the caller is
   *     interrupted while the workers finish; the output is wiped then too)
   * @throws IllegalArgumentException if {@code threads < 1} or {@code fileName} is empty
   */
  public static UnsealedBytes unseal(Path sealedFile, DataKey key, String fileName, int threads)
      throws IOException, IntegrityException {
    return unseal(sealedFile, key, fileName, threads, DigestPlan.none(), Crypto.auto());
  }

  /**
   * Unseals with {@link Crypto#auto()}, checking {@code plan}'s digests as it decrypts.
   *
   * @throws IntegrityException also if a digest does not match, or a sharded plan covers another
   *     size than the plaintext's
   * @see #unseal(Path, DataKey, String, int)
   */
  public static UnsealedBytes unseal(Path sealedFile, DataKey key, String fileName, int threads, DigestPlan plan)
      throws IOException, IntegrityException {
    return unseal(sealedFile, key, fileName, threads, plan, Crypto.auto());
  }

  /** As {@link #unseal(Path, DataKey, String, int, DigestPlan)} with the given crypto implementation. */
  public static UnsealedBytes unseal(
      Path sealedFile, DataKey key, String fileName, int threads, DigestPlan plan, CryptoProvider crypto)
      throws IOException, IntegrityException {
    return unseal(sealedFile, key, fileName, threads, plan, crypto, OutputMemory.DEFAULT);
  }

  /** The output memory comes from {@code output} (tests observe it after it is freed). */
  static UnsealedBytes unseal(
      Path sealedFile, DataKey key, String fileName, int threads, DigestPlan plan, CryptoProvider crypto,
      OutputMemory.Allocator output) throws IOException, IntegrityException {
    Objects.requireNonNull(sealedFile, "sealedFile");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(plan, "plan");
    Objects.requireNonNull(crypto, "crypto");
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be >= 1, got " + threads);
    }
    byte[] aad = AssociatedData.of(fileName);
    String name = sealedFile.toString();
    try (FileChannel ch = FileChannel.open(sealedFile, StandardOpenOption.READ)) {
      long sealedSize = ch.size();
      Layout layout = Layout.of(name, sealedSize);
      ByteBuffer header = ByteBuffer.allocate(SealedFormat.HEADER_BYTES);
      readFully(ch, header, 0, name, 0);
      header.flip();
      int lengthByte = header.get() & 0xff;
      if (lengthByte != SealedFormat.HEADER_BYTES) {
        throw new IntegrityException(name + ": header length byte is " + lengthByte + ", expected "
            + SealedFormat.HEADER_BYTES + " (not a sealed " + SealedFormat.TINK_PARAMETERS + " file)");
      }
      byte[] salt = new byte[SealedFormat.SALT_BYTES];
      byte[] prefix = new byte[SealedFormat.NONCE_PREFIX_BYTES];
      header.get(salt).get(prefix);
      List<Range> ranges = ranges(name, plan, layout.plaintextBytes());

      OutputMemory.Allocation alloc = output.allocate(layout.plaintextBytes());
      Arena out = alloc.arena();
      MemorySegment plain = alloc.segment();
      boolean ok = false;
      try {
        Job job = new Job(name, ch, layout, prefix, plain, ranges, crypto, Math.min(threads, layout.segments()));
        job.run(Hkdf.deriveSegmentKey(key, salt, aad));
        ok = true;
        return new UnsealedBytes(fileName, plain, out);
      } finally {
        if (!ok) {
          plain.fill((byte) 0);
          out.close();
        }
      }
    }
  }

  /** The shape of a sealed file, derived from its size alone (as Tink's seekable reader does). */
  record Layout(long sealedBytes, int segments, long plaintextBytes) {
    static Layout of(String name, long size) throws IntegrityException {
      if (size < SealedFormat.MIN_SEALED_BYTES) {
        throw new IntegrityException(name + ": " + size + " bytes is shorter than the smallest sealed file ("
            + SealedFormat.MIN_SEALED_BYTES + " bytes: header and one tag)");
      }
      long full = size / SealedFormat.CIPHERTEXT_SEGMENT_BYTES;
      long rest = size % SealedFormat.CIPHERTEXT_SEGMENT_BYTES;
      long count = rest > 0 ? full + 1 : full;
      if (rest > 0 && full > 0 && rest < SealedFormat.TAG_BYTES) {
        throw new IntegrityException(name + ": last segment " + (count - 1) + " holds " + rest
            + " bytes, less than its " + SealedFormat.TAG_BYTES + "-byte tag (truncated or extended)");
      }
      if (count > Integer.MAX_VALUE) {
        throw new IntegrityException(name + ": " + count + " segments are more than this reader supports (2^31 - 1)");
      }
      long plaintext = size - SealedFormat.HEADER_BYTES - count * SealedFormat.TAG_BYTES;
      return new Layout(size, (int) count, plaintext);
    }

    long segmentPlaintextBytes(int i) {
      long from = SealedFormat.plaintextOffset(i);
      return Math.min(plaintextBytes - from,
          i == 0 ? SealedFormat.FIRST_PLAINTEXT_SEGMENT_BYTES : SealedFormat.PLAINTEXT_SEGMENT_BYTES);
    }
  }

  /** One digest to check: bytes {@code [start, end)}; {@code index} is -1 for a whole-file digest. */
  private record Range(int index, int count, long start, long end, byte[] expected) {}

  private static List<Range> ranges(String name, DigestPlan plan, long plaintextBytes) throws IntegrityException {
    return switch (plan) {
      case DigestPlan.None n -> List.of();
      case DigestPlan.WholeFile w -> List.of(new Range(-1, 1, 0, plaintextBytes, w.digest()));
      case DigestPlan.Sharded s -> {
        if (s.total() != plaintextBytes) {
          throw new IntegrityException(name + ": the digest plan covers " + s.total()
              + " bytes but the sealed file holds " + plaintextBytes + " bytes of plaintext");
        }
        List<Range> r = new ArrayList<>(s.shards().size());
        for (DigestPlan.Shard sh : s.shards()) {
          r.add(new Range(r.size(), s.shards().size(), sh.start(), sh.end(), sh.digest()));
        }
        yield r;
      }
    };
  }

  private static void readFully(FileChannel ch, ByteBuffer b, long position, String name, int segment)
      throws IOException, IntegrityException {
    long pos = position;
    while (b.hasRemaining()) {
      int n = ch.read(b, pos);
      if (n < 0) {
        throw new IntegrityException(name + ": the file shrank while segment " + segment + " was read");
      }
      pos += n;
    }
  }

  /** A failure found by a worker; the one reported is the least by (kind, index). */
  private record Failure(int kind, long index, String message) {
    static final int SHRANK = 0;
    static final int AUTHENTICATION = 1;
    static final int DIGEST = 2;
  }

  /** One unseal: the shared state of its workers. */
  private static final class Job {
    private final String name;
    private final FileChannel channel;
    private final Layout layout;
    private final byte[] prefix;
    private final MemorySegment plain;
    private final CryptoProvider crypto;
    private final int workers;
    private final RangeState[] ranges;
    /** For segment i, the ranges overlapping it are rangesBySegment[from[i] .. from[i + 1]). */
    private final int[] from;
    private final int[] rangesBySegment;
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicIntegerArray done;
    private final ConcurrentLinkedQueue<Failure> failures = new ConcurrentLinkedQueue<>();
    private final AtomicReference<Throwable> unexpected = new AtomicReference<>();
    private volatile boolean abort;

    Job(String name, FileChannel channel, Layout layout, byte[] prefix, MemorySegment plain, List<Range> ranges,
        CryptoProvider crypto, int workers) {
      this.name = name;
      this.channel = channel;
      this.layout = layout;
      this.prefix = prefix;
      this.plain = plain;
      this.crypto = crypto;
      this.workers = workers;
      int n = layout.segments();
      this.done = new AtomicIntegerArray(n);
      this.ranges = new RangeState[ranges.size()];
      int[] count = new int[n + 1];
      for (int r = 0; r < ranges.size(); r++) {
        this.ranges[r] = new RangeState(ranges.get(r));
        for (int s = this.ranges[r].firstSegment; s <= this.ranges[r].lastSegment; s++) {
          count[s + 1]++;
        }
      }
      for (int s = 0; s < n; s++) {
        count[s + 1] += count[s];
      }
      this.from = count.clone();
      this.rangesBySegment = new int[count[n]];
      for (int r = 0; r < this.ranges.length; r++) {
        for (int s = this.ranges[r].firstSegment; s <= this.ranges[r].lastSegment; s++) {
          rangesBySegment[count[s]++] = r;
        }
      }
    }

    /** Runs the workers (the calling thread is worker 0) and throws the first failure. */
    void run(byte[] segmentKey) throws IOException, IntegrityException {
      AesGcm[] gcm = new AesGcm[workers];
      try (Arena scratch = Arena.ofShared()) {
        try {
          for (int w = 0; w < workers; w++) {
            gcm[w] = crypto.aesGcm(segmentKey);
          }
        } finally {
          Arrays.fill(segmentKey, (byte) 0);
        }
        MemorySegment[] buffers = new MemorySegment[workers];
        for (int w = 0; w < workers; w++) {
          buffers[w] = scratch.allocate(SealedFormat.CIPHERTEXT_SEGMENT_BYTES, 64);
        }
        Thread[] threads = new Thread[workers];
        boolean started = false;
        try {
          for (int w = 1; w < workers; w++) {
            int id = w;
            threads[w] = Thread.ofPlatform().name("unseal-" + w).daemon(true).start(() -> work(gcm[id], buffers[id]));
          }
          started = true;
          work(gcm[0], buffers[0]);
        } finally {
          if (!started) {
            abort = true; // a thread could not be started: stop the ones that were
          }
          // Always wait for every started worker: they use the contexts and buffers freed below.
          joinAll(threads);
        }
        rethrowFailures();
        // Every range was drained by the worker that completed its last bytes; this pass only
        // proves it (and would catch a scheduling bug instead of returning unchecked bytes).
        for (RangeState r : ranges) {
          r.drain();
          if (!r.finished) {
            throw new IllegalStateException(name + ": digest range [" + r.range.start() + ", " + r.range.end()
                + ") was not fully hashed");
          }
        }
        rethrowFailures();
      } finally {
        for (AesGcm g : gcm) {
          if (g != null) {
            g.close();
          }
        }
        for (RangeState r : ranges) {
          r.closeQuietly();
        }
      }
    }

    private void joinAll(Thread[] threads) throws InterruptedIOException {
      boolean interrupted = false;
      for (int w = 1; w < threads.length; w++) {
        while (threads[w] != null) {
          try {
            threads[w].join();
            break;
          } catch (InterruptedException e) {
            interrupted = true;
            abort = true;
          }
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException(name + ": unsealing was interrupted");
      }
    }

    private void rethrowFailures() throws IOException, IntegrityException {
      Throwable t = unexpected.get();
      if (t != null) {
        switch (t) {
          case IOException e -> throw e;
          case RuntimeException e -> throw e;
          case Error e -> throw e;
          default -> throw new IllegalStateException(name + ": unsealing failed", t);
        }
      }
      Failure f = failures.stream()
          .min(Comparator.comparingInt(Failure::kind).thenComparingLong(Failure::index))
          .orElse(null);
      if (f != null) {
        throw new IntegrityException(f.message());
      }
    }

    private void work(AesGcm gcm, MemorySegment buffer) {
      int n = layout.segments();
      try {
        while (!abort) {
          int i = next.getAndIncrement();
          if (i >= n) {
            break;
          }
          long ctFrom = SealedFormat.ciphertextOffset(i);
          long ctTo = i == n - 1 ? layout.sealedBytes() : (long) (i + 1) * SealedFormat.CIPHERTEXT_SEGMENT_BYTES;
          MemorySegment ct = buffer.asSlice(0, ctTo - ctFrom);
          try {
            readFully(channel, ct.asByteBuffer(), ctFrom, name, i);
          } catch (IntegrityException e) {
            failures.add(new Failure(Failure.SHRANK, i, e.getMessage()));
            abort = true;
            break;
          }
          MemorySegment pt = plain.asSlice(SealedFormat.plaintextOffset(i), layout.segmentPlaintextBytes(i));
          boolean last = i == n - 1;
          if (!gcm.decrypt(SealedFormat.nonce(prefix, i, last), MemorySegment.NULL, ct, pt)) {
            failures.add(new Failure(Failure.AUTHENTICATION, i, name + ": segment " + i + " of " + n
                + (last ? " (the last)" : "") + " does not authenticate (tampered, truncated, extended or"
                + " reordered; or sealed with another key or file name)"));
            abort = true;
            break;
          }
          done.set(i, 1);
          for (int k = from[i]; k < from[i + 1]; k++) {
            ranges[rangesBySegment[k]].drain();
          }
        }
      } catch (IOException e) {
        unexpected.compareAndSet(null, e);
        abort = true;
      } catch (RuntimeException | Error e) {
        unexpected.compareAndSet(null, e);
        abort = true;
      }
    }

    /** Incremental hashing of one digest range, by whichever worker holds its lock. */
    private final class RangeState {
      final Range range;
      final int firstSegment;
      final int lastSegment;
      final ReentrantLock lock = new ReentrantLock();
      /** Bytes before this are hashed; written under the lock, read outside it. */
      volatile long cursor;
      volatile boolean finished;
      private Sha256 sha;

      RangeState(Range range) {
        this.range = range;
        int n = layout.segments();
        this.firstSegment = SealedFormat.segmentOf(range.start(), n);
        this.lastSegment = SealedFormat.segmentOf(Math.max(range.start(), range.end() - 1), n);
        this.cursor = range.start();
      }

      void drain() {
        while (!finished && !abort) {
          if (!lock.tryLock()) {
            return; // the holder hashes what is ready, and looks again after unlocking
          }
          try {
            hashReady();
          } finally {
            lock.unlock();
          }
          // A worker may have completed the segment at the cursor while this thread held the
          // lock, and given up on its tryLock: look again before leaving.
          if (finished || abort || done.get(SealedFormat.segmentOf(cursor, layout.segments())) == 0) {
            return;
          }
        }
      }

      private void hashReady() {
        while (!finished && !abort) {
          long c = cursor;
          if (c == range.end()) {
            finish();
            return;
          }
          int seg = SealedFormat.segmentOf(c, layout.segments());
          if (done.get(seg) == 0) {
            return;
          }
          long upTo = Math.min(range.end(), SealedFormat.plaintextOffset(seg) + layout.segmentPlaintextBytes(seg));
          sha().update(plain.asSlice(c, upTo - c));
          cursor = upTo;
        }
      }

      private Sha256 sha() {
        if (sha == null) {
          sha = crypto.sha256();
        }
        return sha;
      }

      private void finish() {
        boolean match = MessageDigest.isEqual(sha().digest(), range.expected());
        finished = true;
        if (!match) {
          String what = range.index() < 0
              ? "plaintext does not match the expected SHA-256 of the whole file (bytes [0, " + range.end() + "))"
              : "plaintext bytes [" + range.start() + ", " + range.end() + ") (shard " + range.index() + " of "
                  + range.count() + ") do not match the expected SHA-256";
          failures.add(new Failure(Failure.DIGEST, range.index(), name + ": " + what));
          abort = true;
        }
      }

      void closeQuietly() {
        lock.lock();
        try {
          if (sha != null) {
            sha.close();
            sha = null;
          }
        } finally {
          lock.unlock();
        }
      }
    }
  }
}
