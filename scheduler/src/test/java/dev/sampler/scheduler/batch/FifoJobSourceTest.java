package dev.sampler.scheduler.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sampler.engine.sampling.SamplingRequest;
import dev.sampler.engine.sampling.SamplingResult;
import dev.sampler.scheduler.Code;
import dev.sampler.scheduler.GenerationSpec;
import dev.sampler.scheduler.Job;
import dev.sampler.scheduler.JobListener;
import dev.sampler.scheduler.Tenant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The FIFO source's order, fit rule, sweeping of dead jobs, and close. */
class FifoJobSourceTest {
  /** Records the listener calls of one job. */
  static final class Events implements JobListener {
    final List<String> seen = new ArrayList<>();

    @Override
    public void onStarted() {
      seen.add("started");
    }

    @Override
    public void onCompleted(SamplingResult result) {
      seen.add("completed");
    }

    @Override
    public void onFailed(Code code, String message) {
      seen.add(code + ": " + message);
    }
  }

  static Job job(String id, int images, long deadlineNanos, Events events) {
    int[] labels = new int[images];
    GenerationSpec spec = new GenerationSpec("demo", id, new SamplingRequest(labels, 2, 3.0, 0), "ddim", 0, 32);
    return new Job(new Tenant("t"), spec, out -> {}, deadlineNanos, events, null);
  }

  @Test
  void poll_busyBatcher_skipsJobsThatDoNotFitAndKeepsOrder() throws Exception {
    FifoJobSource source = new FifoJobSource();
    Events e = new Events();
    Job big = job("big", 4, Long.MAX_VALUE, e); // 8 rows
    Job small1 = job("small-1", 1, Long.MAX_VALUE, e);
    Job small2 = job("small-2", 1, Long.MAX_VALUE, e);
    source.submit(big);
    source.submit(small1);
    source.submit(small2);
    assertSame(small1, source.poll(4, false, 0, TimeUnit.NANOSECONDS));
    assertSame(small2, source.poll(4, false, 0, TimeUnit.NANOSECONDS));
    assertNull(source.poll(4, false, 0, TimeUnit.NANOSECONDS));
    assertSame(big, source.poll(4, true, 0, TimeUnit.NANOSECONDS), "an idle batcher takes a job of any size");
    assertTrue(small1.startedNanos() != 0);
  }

  @Test
  void poll_cancelledAndExpiredJobs_endsThemAndHandsOutTheNext() throws Exception {
    FifoJobSource source = new FifoJobSource();
    Events cancelled = new Events(), expired = new Events(), live = new Events();
    Job c = job("c", 1, Long.MAX_VALUE, cancelled);
    Job x = job("x", 1, System.nanoTime() - 1, expired);
    Job l = job("l", 1, Long.MAX_VALUE, live);
    source.submit(c);
    source.submit(x);
    source.submit(l);
    c.cancel();
    assertSame(l, source.poll(32, true, 0, TimeUnit.NANOSECONDS));
    assertEquals(List.of("CANCELLED: cancelled while queued"), cancelled.seen);
    assertEquals(List.of("DEADLINE_EXCEEDED: deadline passed while queued"), expired.seen);
    assertEquals(List.of("started"), live.seen);
    assertEquals(0, source.size());
  }

  @Test
  void close_queuedAndLaterJobs_failUnavailable() throws Exception {
    FifoJobSource source = new FifoJobSource();
    Events queued = new Events(), late = new Events();
    source.submit(job("q", 1, Long.MAX_VALUE, queued));
    source.close();
    source.submit(job("late", 1, Long.MAX_VALUE, late));
    assertEquals(List.of("UNAVAILABLE: server is shutting down"), queued.seen);
    assertEquals(List.of("UNAVAILABLE: server is shutting down"), late.seen);
    assertNull(source.poll(32, true, 0, TimeUnit.NANOSECONDS));
  }
}
