package dev.sampler.keybroker.session;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * A token bucket per client address: each request takes one token; a bucket holds at most {@code
 * burst} tokens and refills at {@code perMinute} tokens a minute. The number of buckets is
 * bounded: when {@code maxClients} buckets exist, full (idle) ones are dropped, and if none is,
 * a new address is refused, so a flood from many addresses cannot grow the table without bound.
 */
public final class RateLimiter {
  private static final long NANOS_PER_MINUTE = 60_000_000_000L;

  /**
   * The outcome of one request.
   *
   * @param allowed whether it may proceed
   * @param retryAfterSeconds when refused: seconds until a token is back (at least 1)
   * @param firstRefusal when refused: whether the previous request from this address was allowed
   *     (so an audit log records one line per burst of refusals, not one per request)
   */
  public record Decision(boolean allowed, long retryAfterSeconds, boolean firstRefusal) {
    static final Decision ALLOW = new Decision(true, 0, false);
  }

  private static final class Bucket {
    double tokens;
    long lastNanos;
    boolean refusing;

    Bucket(double tokens, long now) {
      this.tokens = tokens;
      this.lastNanos = now;
    }
  }

  private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();
  private final int burst;
  private final double perMinute;
  private final int maxClients;
  private final LongSupplier nanoTime;

  /**
   * A limiter with {@code burst} tokens per bucket refilled at {@code perMinute} a minute.
   *
   * @throws IllegalArgumentException when burst &lt; 1, perMinute &lt;= 0 or maxClients &lt; 1
   */
  public RateLimiter(int burst, double perMinute, int maxClients, LongSupplier nanoTime) {
    if (burst < 1 || !(perMinute > 0) || maxClients < 1) {
      throw new IllegalArgumentException("rate limit needs burst >= 1, a positive rate and max clients >= 1");
    }
    this.burst = burst;
    this.perMinute = perMinute;
    this.maxClients = maxClients;
    this.nanoTime = nanoTime;
  }

  /** Takes a token for {@code client} if one is there. */
  public Decision acquire(String client) {
    long now = nanoTime.getAsLong();
    Bucket b = buckets.get(client);
    if (b == null) {
      if (buckets.size() >= maxClients) {
        evictIdle(now);
        if (buckets.size() >= maxClients) {
          return new Decision(false, secondsFor(1), true);
        }
      }
      b = buckets.computeIfAbsent(client, k -> new Bucket(burst, now));
    }
    synchronized (b) {
      refill(b, now);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        b.refusing = false;
        return Decision.ALLOW;
      }
      boolean first = !b.refusing;
      b.refusing = true;
      return new Decision(false, secondsFor(1 - b.tokens), first);
    }
  }

  /** Buckets held now. */
  public int clients() {
    return buckets.size();
  }

  private void refill(Bucket b, long now) {
    long elapsed = now - b.lastNanos;
    if (elapsed > 0) {
      b.tokens = Math.min(burst, b.tokens + elapsed * perMinute / NANOS_PER_MINUTE);
      b.lastNanos = now;
    }
  }

  private void evictIdle(long now) {
    buckets.entrySet().removeIf(e -> {
      Bucket b = e.getValue();
      synchronized (b) {
        refill(b, now);
        return b.tokens >= burst;
      }
    });
  }

  private long secondsFor(double tokens) {
    return Math.max(1, (long) Math.ceil(tokens * 60.0 / perMinute));
  }
}
