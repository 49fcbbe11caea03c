package dev.sampler.scheduler.admission;

import dev.sampler.engine.sampling.SamplingRequest;
import dev.sampler.engine.sampling.SamplingResult;
import dev.sampler.engine.schedule.NoiseSource;
import dev.sampler.scheduler.AdmissionEvent;
import dev.sampler.scheduler.AdmissionEventSink;
import dev.sampler.scheduler.Code;
import dev.sampler.scheduler.GenerationSpec;
import dev.sampler.scheduler.Job;
import dev.sampler.scheduler.JobListener;
import dev.sampler.scheduler.Tenant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/** Small fakes for admission tests: a settable clock, a recording sink and listener, job builders. */
final class Fixtures {
  static final String MODEL = "demo";
  static final SamplingResult RESULT = new SamplingResult(new float[0], 1, 3, 0, 0, 1, 0, 0, 0);

  private Fixtures() {}

  /** A clock the test moves by hand; starts far from 0 so that 0 is never a valid reading. */
  static final class FakeClock implements LongSupplier {
    private final AtomicLong now = new AtomicLong(1_000_000_000_000L);

    @Override
    public long getAsLong() {
      return now.get();
    }

    void advanceMillis(long ms) {
      now.addAndGet(TimeUnit.MILLISECONDS.toNanos(ms));
    }

    long plusMillis(long ms) {
      return now.get() + TimeUnit.MILLISECONDS.toNanos(ms);
    }
  }

  /** Keeps every event, thread-safe. */
  static final class Events implements AdmissionEventSink {
    final List<AdmissionEvent> all = new ArrayList<>();

    @Override
    public synchronized void record(AdmissionEvent event) {
      all.add(event);
    }

    synchronized <T extends AdmissionEvent> List<T> of(Class<T> type) {
      return all.stream().filter(type::isInstance).map(type::cast).toList();
    }
  }

  /** Records what happened to one job; counts ends so a test can see "exactly once". */
  static final class Recorder implements JobListener {
    final List<Integer> positions = new ArrayList<>();
    final AtomicInteger starts = new AtomicInteger();
    final AtomicInteger ends = new AtomicInteger();
    final CountDownLatch done = new CountDownLatch(1);
    volatile Code code;
    volatile String message;
    volatile boolean completed;

    @Override
    public synchronized void onQueued(int position) {
      positions.add(position);
    }

    @Override
    public void onStarted() {
      starts.incrementAndGet();
    }

    @Override
    public void onCompleted(SamplingResult result) {
      completed = true;
      ends.incrementAndGet();
      done.countDown();
    }

    @Override
    public void onFailed(Code code, String message) {
      this.code = code;
      this.message = message;
      ends.incrementAndGet();
      done.countDown();
    }

    synchronized List<Integer> positions() {
      return List.copyOf(positions);
    }
  }

  /** A job and the recorder that is its listener. */
  record Tracked(Job job, Recorder rec) {}

  static Tracked job(String tenant, String id) {
    return job(tenant, id, 1, 10, 1.0, Long.MAX_VALUE);
  }

  static Tracked job(String tenant, String id, int count, int steps, double guidance, long deadlineNanos) {
    return job(MODEL, tenant, id, count, steps, guidance, deadlineNanos);
  }

  static Tracked job(String model, String tenant, String id, int count, int steps, double guidance,
      long deadlineNanos) {
    int[] labels = new int[count];
    Arrays.fill(labels, 1);
    GenerationSpec spec = new GenerationSpec(model, id, new SamplingRequest(labels, steps, guidance, 0), "ddim", 0,
        32);
    Recorder rec = new Recorder();
    return new Tracked(new Job(new Tenant(tenant), spec, NoiseSource.NONE, deadlineNanos, rec, null), rec);
  }

  static TenantPolicy tenant(double rate, int burst, int maxConcurrent, int maxQueued) {
    return new TenantPolicy(1, rate, burst, maxConcurrent, maxQueued);
  }
}
