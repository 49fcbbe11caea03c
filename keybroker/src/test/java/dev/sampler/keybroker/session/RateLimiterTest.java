package dev.sampler.keybroker.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RateLimiterTest {
  private final AtomicLong nanos = new AtomicLong();

  @Test
  void acquire_burstThenEmpty_refusesWithRetryAfterAndRefills() {
    RateLimiter r = new RateLimiter(3, 6, 100, nanos::get); // 6/min = one every 10 s
    for (int i = 0; i < 3; i++) {
      assertTrue(r.acquire("a").allowed());
    }
    RateLimiter.Decision d = r.acquire("a");
    assertFalse(d.allowed());
    assertEquals(10, d.retryAfterSeconds());
    assertTrue(d.firstRefusal());
    assertFalse(r.acquire("a").firstRefusal(), "later refusals of the same run are not first");
    assertTrue(r.acquire("b").allowed(), "buckets are per address");
    nanos.addAndGet(4_000_000_000L);
    assertEquals(6, r.acquire("a").retryAfterSeconds());
    nanos.addAndGet(6_000_000_000L);
    assertTrue(r.acquire("a").allowed());
    nanos.addAndGet(10_000_000_000L);
    assertTrue(r.acquire("a").allowed());
  }

  @Test
  void acquire_manyAddresses_tableBoundedAndIdleBucketsEvicted() {
    RateLimiter r = new RateLimiter(1, 60, 2, nanos::get);
    assertTrue(r.acquire("a").allowed());
    assertTrue(r.acquire("b").allowed());
    assertFalse(r.acquire("c").allowed(), "no idle bucket to evict: a new address waits");
    assertEquals(2, r.clients());
    nanos.addAndGet(1_000_000_000L); // a and b refill to full: idle
    assertTrue(r.acquire("c").allowed());
    assertTrue(r.clients() <= 2);
  }
}
