package dev.sampler.integrity.signing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Cuts model files into manifest items (whole files, or shards at multiples of the shard size as
 * upstream {@code _serialization/file_shard.py} does) and hashes them in parallel.
 */
final class Hashing {
  /** Default worker threads: hashing is I/O- and CPU-bound; a few threads saturate either. */
  static final int DEFAULT_THREADS = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));

  /**
   * One manifest item: bytes {@code [start, end)} of the file named {@code path}, read from {@code
   * file}; {@code shardSize} 0 for a whole-file item.
   */
  record Item(String path, long start, long end, long shardSize, Path file) {
    /** The resource name: the path, or {@code path:start:end} for a shard. */
    String name() {
      return shardSize == 0 ? path : path + ":" + start + ":" + end;
    }

    /** The resource algorithm: {@code sha256} or {@code sha256-sharded-<S>}. */
    String algorithm() {
      return algorithmFor(shardSize);
    }
  }

  /** Upstream's order: path components (code point order), then start, then end. */
  static final Comparator<Item> ORDER = (a, b) -> {
    int c = comparePaths(a.path(), b.path());
    if (c != 0) {
      return c;
    }
    c = Long.compare(a.start(), b.start());
    return c != 0 ? c : Long.compare(a.end(), b.end());
  };

  private Hashing() {}

  static String algorithmFor(long shardSize) {
    return shardSize == 0 ? "sha256" : "sha256-sharded-" + shardSize;
  }

  /**
   * Compares POSIX paths as Python compares {@code PurePosixPath}s: component lists, each
   * component by code points (not UTF-16 units), a proper prefix first.
   */
  static int comparePaths(String a, String b) {
    String[] x = a.split("/", -1);
    String[] y = b.split("/", -1);
    for (int i = 0; i < Math.min(x.length, y.length); i++) {
      int c = compareCodePoints(x[i], y[i]);
      if (c != 0) {
        return c;
      }
    }
    return Integer.compare(x.length, y.length);
  }

  static int compareCodePoints(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      int ca = a.codePointAt(i);
      int cb = b.codePointAt(j);
      if (ca != cb) {
        return Integer.compare(ca, cb);
      }
      i += Character.charCount(ca);
      j += Character.charCount(cb);
    }
    return Integer.compare(a.length() - i, b.length() - j);
  }

  /** The items of {@code files}: one per file, or one per shard (none for an empty file). */
  static List<Item> items(List<ModelTree.FileEntry> files, long shardSize) {
    List<Item> out = new ArrayList<>();
    for (ModelTree.FileEntry f : files) {
      if (shardSize == 0) {
        out.add(new Item(f.name(), 0, f.size(), 0, f.path()));
      } else {
        for (long start = 0; start < f.size(); start += shardSize) {
          out.add(new Item(f.name(), start, Math.min(f.size(), start + shardSize), shardSize, f.path()));
        }
      }
    }
    return out;
  }

  /**
   * The SHA-256 of every item, in the order of {@code items}, computed on up to {@code threads}
   * threads.
   *
   * @throws IOException if a file cannot be read (or shrank below an item's end)
   */
  static List<byte[]> hashAll(List<Item> items, int threads) throws IOException {
    if (items.size() <= 1 || threads <= 1) {
      List<byte[]> out = new ArrayList<>(items.size());
      for (Item it : items) {
        out.add(hash(it));
      }
      return out;
    }
    try (ExecutorService pool = Executors.newFixedThreadPool(Math.min(threads, items.size()), daemons("model-hash"))) {
      List<Future<byte[]>> futures = new ArrayList<>(items.size());
      for (Item it : items) {
        futures.add(pool.submit(() -> {
          try {
            return hash(it);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }));
      }
      List<byte[]> out = new ArrayList<>(items.size());
      try {
        for (Future<byte[]> f : futures) {
          out.add(get(f));
        }
      } catch (IOException | RuntimeException e) {
        pool.shutdownNow(); // the other items no longer matter
        throw e;
      }
      return out;
    }
  }

  private static byte[] hash(Item it) throws IOException {
    try {
      return Sha256.ofFile(it.file(), it.start(), it.end());
    } catch (IOException e) {
      throw new IOException("cannot hash " + dev.sampler.integrity.Untrusted.quote(it.name()) + ": " + e.getMessage(), e);
    }
  }

  static <T> T get(Future<T> f) throws IOException {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while hashing the model", e);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof UncheckedIOException u) {
        throw u.getCause();
      }
      if (c instanceof RuntimeException r) {
        throw r;
      }
      if (c instanceof Error err) {
        throw err;
      }
      throw new IllegalStateException(c);
    }
  }

  /** Named daemon threads, so a pool left behind by a failure never keeps the JVM alive. */
  static ThreadFactory daemons(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
