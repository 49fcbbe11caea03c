package dev.sampler.scheduler.admission;

import dev.sampler.scheduler.AdmissionEvent;
import dev.sampler.scheduler.AdmissionEventSink;
import dev.sampler.scheduler.Code;
import dev.sampler.scheduler.GenerationSpec;
import dev.sampler.scheduler.Job;
import dev.sampler.scheduler.JobSource;
import dev.sampler.scheduler.ModelLimits;
import dev.sampler.scheduler.RejectedException;
import dev.sampler.scheduler.Tenant;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Admits jobs per tenant (token bucket, concurrency and queued limits, a bounded global queue, an
 * adaptive throttle) into one weighted-fair queue per model, and hands them to batchers through
 * {@link #source(String)}. Every decision is reported to the {@link AdmissionEventSink}.
 *
 * <p><b>Fair order.</b> Each model queue is start-time fair queueing (SFQ, Goyal et al. 1996): a job
 * of cost {@code rows x steps / weight} gets the start tag {@code max(v, F)}, where {@code v} is the
 * queue's virtual time (the start tag of the job most recently taken from the head) and {@code F} the
 * finish tag (start + cost) of the tenant's previous job; jobs leave in start-tag order, ties in
 * admission order. Within a tenant this is FIFO; a tenant that arrives at a backlogged queue gets
 * {@code v} and so waits for at most about one job of each other waiting tenant. When a queue
 * empties its tenants' finish tags are forgotten.
 *
 * <p><b>Bounded bypass.</b> When the fair head does not fit in the batcher's free rows (and the
 * batcher is not idle), the next job in fair order that fits may be handed out instead, at most
 * {@link #MAX_HEAD_BYPASS} times per head; after that the source hands out nothing until the head
 * fits (the batcher's rows free up as its jobs finish) or the batcher is idle.
 *
 * <p><b>Retry hints.</b> Rate: the time until the bucket holds one token. Tenant concurrency: the
 * mean time between the tenant's job endings, from an exponentially decayed rate (time constant
 * 10 s). Tenant queued limit: likewise from the tenant's jobs leaving the queue. Global queue full:
 * the time to drain half the queue at the controller's decayed dequeue rate, {@code queued / (2 x
 * rate)}. Estimates are clamped to 100 ms..30 s; with no rate observed yet the hint is 1 s.
 *
 * <p><b>Threads.</b> One lock guards all state; events are recorded under it (the sink must be
 * quick), so a sink sees each job's Admitted before its Started before its end. Listener calls
 * ({@link Job#queued}, {@link Job#started}, {@link Job#fail}) are made outside the lock, serialized per
 * job. A rejected job is left untouched: not ended, its listener not called; the caller owns it.
 *
 * <p>Messages name the caller's own limits only, never another tenant or its requests.
 */
public final class AdmissionController implements AutoCloseable {
  /** How many times a fair head that does not fit may be bypassed by smaller jobs behind it. */
  public static final int MAX_HEAD_BYPASS = 4;

  static final String SHUTTING_DOWN = "server is shutting down";
  private static final long MIN_RETRY_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
  private static final long MAX_RETRY_NANOS = TimeUnit.SECONDS.toNanos(30);
  private static final long DEFAULT_RETRY_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final double RATE_TAU_NANOS = TimeUnit.SECONDS.toNanos(10);
  private static final int MIN_PRUNE_AT = 256;

  private final AdmissionPolicy policy;
  private final AdmissionEventSink events;
  private final LongSupplier clock;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition idle = lock.newCondition();
  private final Map<String, ModelQueue> queues = new HashMap<>();
  private final Map<Tenant, TenantState> tenants = new HashMap<>();
  private final Map<Job, Entry> entries = new IdentityHashMap<>();
  private final Map<String, ModelLimits> limits = new HashMap<>();
  private final DecayingRate drain = new DecayingRate();
  private int queuedCount;
  private int runningCount;
  // removed from a queue by this controller and about to be failed; counted until their hook runs
  private int leavingCount;
  private long seq;
  private boolean shutdown;
  private boolean closed;
  private int pruneAt = MIN_PRUNE_AT;

  private long admitted;
  private final AtomicLong started = new AtomicLong();
  private long completed;
  private final Map<Code, Long> rejected = new EnumMap<>(Code.class);
  private final Map<Code, Long> dropped = new EnumMap<>(Code.class);
  private final Map<Code, Long> failed = new EnumMap<>(Code.class);

  /**
   * @param policy limits and throttle
   * @param events receives every decision
   * @param nanoClock the time for every decision, on the {@link System#nanoTime()} scale of {@link
   *     Job#deadlineNanos()} ({@code System::nanoTime} in production; tests pass a fake). Waiting in
   *     {@link JobSource#poll} and {@link #awaitIdle} uses real time.
   */
  public AdmissionController(AdmissionPolicy policy, AdmissionEventSink events, LongSupplier nanoClock) {
    this.policy = Objects.requireNonNull(policy, "policy");
    this.events = Objects.requireNonNull(events, "events");
    this.clock = Objects.requireNonNull(nanoClock, "nanoClock");
  }

  /**
   * Tells the throttle what "at the limit" means for {@code model} (its maximum steps and image
   * count). Without it a request counts as at the limit when its steps reach {@link
   * ModelLimits#DEFAULT_MAX_STEPS} or its guidance is 30; the image count is not checked.
   */
  public void registerModel(String model, ModelLimits modelLimits) {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(modelLimits, "modelLimits");
    locked(() -> limits.put(model, modelLimits));
  }

  /**
   * Admits {@code job} into its model's queue, or throws. Checks, in order: shut down (UNAVAILABLE
   * "server is shutting down"), deadline already passed (DEADLINE_EXCEEDED), already cancelled
   * (CANCELLED), the tenant's token bucket, its concurrency limit, its queued limit, the global
   * queue capacity (each RESOURCE_EXHAUSTED with a retry hint). Only an admitted request takes a
   * token. On success calls {@code job.queued(position)} before returning, and again whenever its
   * position decreases; registers a finish hook on the job that frees its slots however it ends.
   *
   * @throws RejectedException with the code and a message safe for the client; the job is untouched
   * @throws IllegalStateException if the job has already ended or was already submitted
   */
  public void submit(Job job) throws RejectedException {
    Objects.requireNonNull(job, "job");
    Outside out = new Outside();
    Entry entry = null;
    RejectedException rejection = null;
    lock.lock();
    try {
      if (entries.containsKey(job)) {
        throw new IllegalStateException("job " + job.requestId() + " was already submitted");
      }
      if (job.ended()) {
        throw new IllegalStateException("job " + job.requestId() + " has already ended");
      }
      long now = clock.getAsLong();
      TenantState ts = tenant(job.tenant(), now);
      if (shutdown) {
        throw reject(job, Code.UNAVAILABLE, SHUTTING_DOWN, null, now);
      }
      if (job.expired(now)) {
        throw reject(job, Code.DEADLINE_EXCEEDED, "deadline passed before the request was admitted", null, now);
      }
      if (job.cancelled()) {
        throw reject(job, Code.CANCELLED, "request was cancelled before it was admitted", null, now);
      }
      if (atLimits(job.spec())) {
        ts.signal(Signal.PROBE, now);
      }
      if (ts.tokens < 1) {
        long wait = ts.nanosToToken();
        String why = ts.factor < 1
            ? "tenant rate reduced to " + percent(ts.factor) + " " + ts.throttleReason
            : "tenant rate limit: " + number(ts.policy.ratePerSecond()) + " requests/s with burst "
                + ts.policy.burst() + " exceeded";
        throw rejectTenant(ts, job, why, wait, now);
      }
      if (ts.queued + ts.running >= ts.policy.maxConcurrent()) {
        purgeTenant(ts, now, out);
      }
      if (ts.queued + ts.running >= ts.policy.maxConcurrent()) {
        throw rejectTenant(ts, job, "tenant concurrency limit: at most " + requests(ts.policy.maxConcurrent())
            + " in flight (queued or running)", retry(ts.endRate.perNano(now)), now);
      }
      if (ts.queued >= ts.policy.maxQueued()) {
        purgeTenant(ts, now, out);
      }
      if (ts.queued >= ts.policy.maxQueued()) {
        throw rejectTenant(ts, job, "tenant queue limit: at most " + requests(ts.policy.maxQueued()) + " queued",
            retry(ts.leaveRate.perNano(now)), now);
      }
      if (queuedCount >= policy.queueCapacity()) {
        for (ModelQueue q : queues.values()) {
          purge(q, now, out);
        }
      }
      if (queuedCount >= policy.queueCapacity()) {
        double rate = drain.perNano(now);
        long wait = rate > 0 ? clampRetry(queuedCount / (2 * rate)) : DEFAULT_RETRY_NANOS;
        throw reject(job, Code.RESOURCE_EXHAUSTED, "server queue is full; retry in " + millis(wait),
            Duration.ofNanos(wait), now);
      }
      entry = admit(ts, job, now);
      out.report(entry, entry.planned);
    } catch (RejectedException e) {
      rejection = e;
    } finally {
      lock.unlock();
    }
    out.run();
    if (rejection != null) {
      throw rejection;
    }
    Entry admittedEntry = entry;
    // registered outside the lock: if the job has already ended (a batcher was quick, or the edge
    // failed it), the hook runs right here and takes the lock itself
    job.onFinish(() -> ended(admittedEntry));
  }

  /** The source a batcher for {@code model} polls; the same object for the same model. */
  public JobSource source(String model) {
    Objects.requireNonNull(model, "model");
    return locked(() -> queue(model).source);
  }

  /**
   * Removes a queued job at once and fails it with CANCELLED, freeing its slots (so a storm of
   * cancels empties the queue without waiting for a batcher to poll). A running job is only marked
   * {@linkplain Job#cancel() cancelled}: its batcher stops it before the next step.
   *
   * @return true if the job was queued and has been removed
   */
  public boolean cancel(Job job) {
    Objects.requireNonNull(job, "job");
    job.cancel();
    Outside out = new Outside();
    boolean removed = false;
    lock.lock();
    try {
      Entry e = entries.get(job);
      if (e != null && e.state == State.QUEUED) {
        remove(e, Code.CANCELLED, "request cancelled while queued", out);
        removed = true;
      }
    } finally {
      lock.unlock();
    }
    out.run();
    return removed;
  }

  /**
   * Risk signal from the edge: {@code tenant} sent a request that failed validation. Records a
   * Rejected event (INVALID_ARGUMENT, {@code reason}) and counts towards the adaptive throttle.
   *
   * @param reason the validation message (already safe: it never echoes client strings)
   */
  public void recordInvalid(Tenant tenant, String reason) {
    recordInvalid(tenant, null, reason);
  }

  /** As {@link #recordInvalid(Tenant, String)}, with the request id if the edge has a valid one. */
  public void recordInvalid(Tenant tenant, String requestId, String reason) {
    Objects.requireNonNull(tenant, "tenant");
    lock.lock();
    try {
      long now = clock.getAsLong();
      TenantState ts = tenant(tenant, now);
      rejected.merge(Code.INVALID_ARGUMENT, 1L, Long::sum);
      emit(new AdmissionEvent.Rejected(tenant, requestId, Code.INVALID_ARGUMENT, reason, null, now));
      ts.signal(Signal.INVALID, now);
    } finally {
      lock.unlock();
    }
  }

  /** Refuses new work from now on (UNAVAILABLE "server is shutting down"); queued and running jobs continue. */
  public void shutdown() {
    locked(() -> shutdown = true);
  }

  /**
   * Waits until no job is queued or running.
   *
   * @return false if {@code timeout} passed first
   */
  public boolean awaitIdle(Duration timeout) throws InterruptedException {
    long nanos = timeout.toNanos();
    lock.lockInterruptibly();
    try {
      while (queuedCount + runningCount + leavingCount > 0) {
        if (nanos <= 0) {
          return false;
        }
        nanos = idle.awaitNanos(nanos);
      }
      return true;
    } finally {
      lock.unlock();
    }
  }

  /** Jobs waiting in all queues. */
  public int queued() {
    return locked(() -> queuedCount);
  }

  /** Jobs handed to a batcher and not yet ended. */
  public int running() {
    return locked(() -> runningCount);
  }

  /** A snapshot for metrics (brings every tenant's bucket and throttle up to now first). */
  public AdmissionStats stats() {
    lock.lock();
    try {
      long now = clock.getAsLong();
      Map<Tenant, AdmissionStats.TenantStats> perTenant = new HashMap<>();
      for (TenantState ts : tenants.values()) {
        ts.refresh(now);
        perTenant.put(ts.tenant, new AdmissionStats.TenantStats(ts.queued, ts.running, ts.factor, ts.tokens));
      }
      return new AdmissionStats(queuedCount, runningCount, admitted, started.get(), completed, rejected, dropped,
          failed, perTenant);
    } finally {
      lock.unlock();
    }
  }

  /** {@link #shutdown()}, then fails every still-queued job with UNAVAILABLE "server is shutting down". */
  @Override
  public void close() {
    Outside out = new Outside();
    lock.lock();
    try {
      shutdown = true;
      closed = true;
      for (ModelQueue q : queues.values()) {
        for (Entry e : new ArrayList<>(q.entries)) {
          remove(e, Code.UNAVAILABLE, SHUTTING_DOWN, out);
        }
        q.changed.signalAll();
      }
    } finally {
      lock.unlock();
    }
    out.run();
  }

  // ---- admission, under the lock ----

  private Entry admit(TenantState ts, Job job, long now) {
    ModelQueue q = queue(job.spec().model());
    double cost = (double) job.rows() * job.spec().steps() / ts.policy.weight();
    Double last = q.lastFinish.get(ts.tenant);
    double start = last == null ? q.virtualTime : Math.max(q.virtualTime, last);
    Entry e = new Entry(job, ts, q, seq++, start, start + cost, now);
    q.lastFinish.put(ts.tenant, e.finishTag);
    q.entries.add(e);
    entries.put(job, e);
    ts.tokens -= 1;
    ts.queued++;
    queuedCount++;
    admitted++;
    e.planned = q.entries.headSet(e).size();
    emit(new AdmissionEvent.Admitted(ts.tenant, job.requestId(), job.rows(), job.spec().steps(), e.planned,
        q.entries.size(), now));
    q.changed.signalAll();
    return e;
  }

  private boolean atLimits(GenerationSpec spec) {
    ModelLimits l = limits.get(spec.model());
    int maxSteps = l == null ? ModelLimits.DEFAULT_MAX_STEPS : l.maxSteps();
    double g = spec.request().guidanceScale();
    return spec.steps() >= maxSteps || (l != null && spec.count() >= l.maxImages()) || g >= 30;
  }

  private RejectedException rejectTenant(TenantState ts, Job job, String why, long waitNanos, long now) {
    RejectedException e = reject(job, Code.RESOURCE_EXHAUSTED, why + "; retry in " + millis(waitNanos),
        Duration.ofNanos(waitNanos), now);
    ts.signal(Signal.REJECT, now);
    return e;
  }

  private RejectedException reject(Job job, Code code, String message, Duration retryAfter, long now) {
    rejected.merge(code, 1L, Long::sum);
    emit(new AdmissionEvent.Rejected(job.tenant(), job.requestId(), code, message, retryAfter, now));
    return new RejectedException(code, message, retryAfter);
  }

  private TenantState tenant(Tenant tenant, long now) {
    TenantState ts = tenants.get(tenant);
    if (ts == null) {
      if (tenants.size() >= pruneAt) {
        prune(now);
      }
      ts = new TenantState(tenant, policy.forTenant(tenant), now);
      tenants.put(tenant, ts);
    }
    ts.refresh(now);
    return ts;
  }

  // Forgets tenants whose state equals a fresh one, so memory follows active tenants, not all ever seen.
  private void prune(long now) {
    tenants.values().removeIf(ts -> ts.forgettable(now));
    for (ModelQueue q : queues.values()) {
      q.lastFinish.values().removeIf(f -> f <= q.virtualTime);
    }
    pruneAt = Math.max(MIN_PRUNE_AT, 2 * tenants.size());
  }

  private ModelQueue queue(String model) {
    return queues.computeIfAbsent(model, ModelQueue::new);
  }

  private void purgeTenant(TenantState ts, long now, Outside out) {
    for (ModelQueue q : queues.values()) {
      for (Entry e : new ArrayList<>(q.entries)) {
        if (e.tenant == ts) {
          purgeIfDead(e, now, out);
        }
      }
    }
  }

  private void purge(ModelQueue q, long now, Outside out) {
    for (Entry e : new ArrayList<>(q.entries)) {
      purgeIfDead(e, now, out);
    }
  }

  private void purgeIfDead(Entry e, long now, Outside out) {
    if (e.job.cancelled()) {
      remove(e, Code.CANCELLED, "request cancelled while queued", out);
    } else if (e.job.expired(now)) {
      remove(e, Code.DEADLINE_EXCEEDED,
          "deadline passed while queued (waited " + TimeUnit.NANOSECONDS.toMillis(now - e.admittedAt) + " ms)", out);
    }
  }

  // Takes a queued entry out to be failed outside the lock; its slots are free from here on.
  private void remove(Entry e, Code code, String message, Outside out) {
    unlink(e);
    e.state = State.LEAVING;
    leavingCount++;
    e.tenant.leaveRate.record(clock.getAsLong());
    // the tenant is not charged for work it never got
    if (Objects.equals(e.queue.lastFinish.get(e.tenant.tenant), e.finishTag)) {
      e.queue.lastFinish.put(e.tenant.tenant, e.startTag);
    }
    out.fail(e, code, message);
    out.positions(e.queue);
  }

  private void unlink(Entry e) {
    e.queue.entries.remove(e);
    e.tenant.queued--;
    queuedCount--;
    drain.record(clock.getAsLong());
    if (e.queue.entries.isEmpty()) {
      e.queue.lastFinish.clear();
    }
    e.queue.changed.signalAll();
  }

  // ---- the job ended (finish hook, any thread) ----

  private void ended(Entry e) {
    boolean handedOut;
    synchronized (e) {
      handedOut = e.handedOut;
    }
    Outside out = new Outside();
    lock.lock();
    try {
      long now = clock.getAsLong();
      switch (e.state) {
        case QUEUED -> {
          // ended by someone else while waiting (the edge failed it directly)
          unlink(e);
          e.tenant.leaveRate.record(now);
          out.positions(e.queue);
        }
        case RUNNING -> {
          runningCount--;
          e.tenant.running--;
        }
        case LEAVING -> leavingCount--;
        case ENDED -> {
          return; // Job runs each hook once; nothing to undo twice
        }
      }
      e.state = State.ENDED;
      entries.remove(e.job);
      e.tenant.endRate.record(now);
      Job job = e.job;
      Code code = job.endCode();
      if (code == null) {
        completed++;
        emit(new AdmissionEvent.Completed(job.tenant(), job.requestId(), e.startedAt == 0 ? 0 : now - e.startedAt,
            now));
      } else if (!handedOut || code == Code.CANCELLED || code == Code.DEADLINE_EXCEEDED
          || code == Code.UNAVAILABLE) {
        dropped.merge(code, 1L, Long::sum);
        emit(new AdmissionEvent.Dropped(job.tenant(), job.requestId(), code, job.endMessage(), handedOut, now));
      } else {
        failed.merge(code, 1L, Long::sum);
        emit(new AdmissionEvent.Failed(job.tenant(), job.requestId(), code, now));
      }
      if (queuedCount + runningCount + leavingCount == 0) {
        idle.signalAll();
      }
    } finally {
      lock.unlock();
    }
    out.run();
  }

  // ---- dequeue ----

  private Job poll(ModelQueue q, int freeRows, boolean idleBatcher, long timeout, TimeUnit unit)
      throws InterruptedException {
    long remaining = unit.toNanos(timeout);
    while (true) {
      Outside out = new Outside();
      Entry taken = null;
      lock.lockInterruptibly();
      try {
        long now = clock.getAsLong();
        purge(q, now, out);
        taken = choose(q, freeRows, idleBatcher);
        if (taken != null) {
          Entry head = q.entries.first();
          q.virtualTime = Math.max(q.virtualTime, head.startTag);
          unlink(taken);
          taken.state = State.RUNNING;
          taken.startedAt = now;
          taken.tenant.running++;
          taken.tenant.leaveRate.record(now);
          runningCount++;
          out.positions(q);
        } else if (out.isEmpty()) {
          if (remaining <= 0 || closed) {
            return null;
          }
          remaining = q.changed.awaitNanos(remaining);
          continue;
        }
      } finally {
        lock.unlock();
      }
      out.run();
      if (taken != null && handOut(taken)) {
        return taken.job;
      }
      // only dead jobs were removed, or the job taken ended meanwhile: look again without waiting
      // longer than the caller allowed
    }
  }

  private Entry choose(ModelQueue q, int freeRows, boolean idleBatcher) {
    if (q.entries.isEmpty()) {
      return null;
    }
    Entry head = q.entries.first();
    if (idleBatcher || head.job.rows() <= freeRows) {
      return head;
    }
    if (head.bypassed >= MAX_HEAD_BYPASS) {
      return null;
    }
    for (Entry e : q.entries) {
      if (e.job.rows() <= freeRows) {
        head.bypassed++;
        return e;
      }
    }
    return null;
  }

  /**
   * Marks the job started unless it ended between the lock and here (then its hook reports it as
   * dropped, not started). Started is recorded inside the entry's monitor, which the finish hook also
   * takes before recording the end, so a sink sees Started before the job's end event.
   */
  private boolean handOut(Entry e) {
    synchronized (e) {
      if (e.job.ended()) {
        return false;
      }
      e.handedOut = true;
      e.job.started();
      started.incrementAndGet();
      emit(new AdmissionEvent.Started(e.tenant.tenant, e.job.requestId(), e.startedAt - e.admittedAt, e.startedAt));
      return true;
    }
  }

  private <T> T locked(Supplier<T> body) {
    lock.lock();
    try {
      return body.get();
    } finally {
      lock.unlock();
    }
  }

  private void emit(AdmissionEvent event) {
    try {
      events.record(event);
    } catch (RuntimeException e) {
      // a sink must not throw; if one does, admission state must stay consistent regardless
    }
  }

  // ---- formatting and estimates ----

  private static long clampRetry(double nanos) {
    // the allowance keeps float noise (1.0000000000000002e10 ns) from rounding up a whole millisecond
    return (long) Math.min(MAX_RETRY_NANOS, Math.max(MIN_RETRY_NANOS, Math.ceil(nanos - 1e-3)));
  }

  private static long retry(double ratePerNano) {
    return ratePerNano > 0 ? clampRetry(1 / ratePerNano) : DEFAULT_RETRY_NANOS;
  }

  static String millis(long nanos) {
    long ms = (nanos + 999_999) / 1_000_000;
    return ms < 10_000 ? ms + " ms" : (ms + 999) / 1000 + " s";
  }

  static String number(double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return Long.toString((long) v);
    }
    String s = String.format(java.util.Locale.ROOT, "%.3f", v);
    return s.replaceAll("0+$", "").replaceAll("\\.$", "");
  }

  private static String requests(int n) {
    return n == 1 ? "1 request" : n + " requests";
  }

  static String percent(double factor) {
    return number(factor * 100) + "%";
  }

  // ---- state ----

  private enum State { QUEUED, RUNNING, LEAVING, ENDED }

  private enum Signal { INVALID, PROBE, REJECT }

  /** An admitted job. Fields are guarded by the lock, except handedOut and reported (the entry's monitor). */
  private static final class Entry {
    final Job job;
    final TenantState tenant;
    final ModelQueue queue;
    final long seq;
    final double startTag;
    final double finishTag;
    final long admittedAt;
    long startedAt;
    State state = State.QUEUED;
    int bypassed;
    // lowest position computed for it so far (reports only go out when it drops below this)
    int planned;
    // guarded by the entry's monitor
    boolean handedOut;
    int reported = Integer.MAX_VALUE;

    Entry(Job job, TenantState tenant, ModelQueue queue, long seq, double startTag, double finishTag, long admittedAt) {
      this.job = job;
      this.tenant = tenant;
      this.queue = queue;
      this.seq = seq;
      this.startTag = startTag;
      this.finishTag = finishTag;
      this.admittedAt = admittedAt;
    }
  }

  private static final Comparator<Entry> FAIR_ORDER =
      Comparator.<Entry>comparingDouble(e -> e.startTag).thenComparingLong(e -> e.seq);

  /** One model's weighted-fair queue. */
  private final class ModelQueue {
    final String model;
    final TreeSet<Entry> entries = new TreeSet<>(FAIR_ORDER);
    final Map<Tenant, Double> lastFinish = new HashMap<>();
    final Condition changed = lock.newCondition();
    final JobSource source = this::poll;
    double virtualTime;

    ModelQueue(String model) {
      this.model = model;
    }

    private Job poll(int freeRows, boolean idleBatcher, long timeout, TimeUnit unit) throws InterruptedException {
      return AdmissionController.this.poll(this, freeRows, idleBatcher, timeout, unit);
    }
  }

  /** A tenant's bucket, throttle and counts; guarded by the lock. */
  private final class TenantState {
    final Tenant tenant;
    final TenantPolicy policy;
    final ThrottlePolicy throttle = AdmissionController.this.policy.throttle();
    double tokens;
    long refilledAt;
    double factor = 1;
    String throttleReason;
    long recoverAt;
    final ArrayDeque<Long> invalid = new ArrayDeque<>();
    final ArrayDeque<Long> probes = new ArrayDeque<>();
    final ArrayDeque<Long> rejects = new ArrayDeque<>();
    int queued;
    int running;
    final DecayingRate endRate = new DecayingRate();
    final DecayingRate leaveRate = new DecayingRate();

    TenantState(Tenant tenant, TenantPolicy policy, long now) {
      this.tenant = tenant;
      this.policy = policy;
      this.tokens = policy.burst();
      this.refilledAt = now;
    }

    double capacity() {
      return Math.max(1, policy.burst() * factor);
    }

    void refill(long at) {
      if (at - refilledAt > 0) {
        tokens = Math.min(capacity(), tokens + (at - refilledAt) * policy.ratePerSecond() * factor / 1e9);
        refilledAt = at;
      }
    }

    long nanosToToken() {
      // the small allowance keeps float noise (340000000.00000006 ns) from adding a millisecond
      return (long) Math.ceil((1 - tokens) * 1e9 / (policy.ratePerSecond() * factor) - 1e-3);
    }

    /** Applies the recovery steps due by {@code now} (each at its own time), then refills. */
    void refresh(long now) {
      while (factor < 1 && now - recoverAt >= 0) {
        refill(recoverAt);
        factor = Math.min(1, factor * 2);
        emit(new AdmissionEvent.Throttled(tenant, factor, "no risk signal for "
            + seconds(throttle.quietPeriod()) + "; rate raised to " + percent(factor), recoverAt));
        if (factor >= 1) {
          throttleReason = null;
        }
        recoverAt += throttle.recoveryStep().toNanos();
      }
      refill(now);
    }

    void signal(Signal kind, long now) {
      int threshold = switch (kind) {
        case INVALID -> throttle.invalidThreshold();
        case PROBE -> throttle.probeThreshold();
        case REJECT -> throttle.rejectThreshold();
      };
      if (threshold == 0) {
        return;
      }
      ArrayDeque<Long> q = switch (kind) {
        case INVALID -> invalid;
        case PROBE -> probes;
        case REJECT -> rejects;
      };
      q.addLast(now);
      long horizon = now - throttle.window().toNanos();
      for (ArrayDeque<Long> d : List.of(invalid, probes, rejects)) {
        while (!d.isEmpty() && d.peekFirst() - horizon <= 0) {
          d.pollFirst();
        }
      }
      if (factor < 1) {
        recoverAt = now + throttle.quietPeriod().toNanos();
      }
      double score = share(invalid, throttle.invalidThreshold()) + share(probes, throttle.probeThreshold())
          + share(rejects, throttle.rejectThreshold());
      if (score < 1) {
        return;
      }
      List<String> parts = new ArrayList<>();
      if (!invalid.isEmpty()) {
        parts.add(invalid.size() + " invalid");
      }
      if (!probes.isEmpty()) {
        parts.add(probes.size() + " at-limit");
      }
      if (!rejects.isEmpty()) {
        parts.add(rejects.size() + " rejected");
      }
      String counts = parts.size() == 1 ? parts.get(0)
          : String.join(", ", parts.subList(0, parts.size() - 1)) + " and " + parts.get(parts.size() - 1);
      String reason = "after " + counts + " requests in " + seconds(throttle.window());
      invalid.clear();
      probes.clear();
      rejects.clear();
      recoverAt = now + throttle.quietPeriod().toNanos();
      double next = Math.max(throttle.minFactor(), factor * throttle.factor());
      if (next != factor) {
        refill(now);
        factor = next;
        throttleReason = reason;
        tokens = Math.min(tokens, capacity());
        emit(new AdmissionEvent.Throttled(tenant, factor, "rate reduced to " + percent(factor) + " " + reason, now));
      }
    }

    boolean forgettable(long now) {
      refresh(now);
      long horizon = now - throttle.window().toNanos();
      boolean signalsOld = (invalid.isEmpty() || invalid.peekLast() - horizon <= 0)
          && (probes.isEmpty() || probes.peekLast() - horizon <= 0)
          && (rejects.isEmpty() || rejects.peekLast() - horizon <= 0);
      return queued == 0 && running == 0 && factor == 1 && tokens >= capacity() && signalsOld;
    }
  }

  private static double share(ArrayDeque<Long> d, int threshold) {
    return threshold == 0 ? 0 : (double) d.size() / threshold;
  }

  private static String seconds(Duration d) {
    return number(d.toNanos() / 1e9) + " s";
  }

  /** Events per nanosecond, exponentially decayed with time constant 10 s (steady rate r converges to r). */
  private static final class DecayingRate {
    private double value;
    private long at;
    private boolean any;

    void record(long now) {
      value = perNano(now) + 1 / RATE_TAU_NANOS;
      at = now;
      any = true;
    }

    double perNano(long now) {
      if (!any) {
        return 0;
      }
      return value * Math.exp(-Math.max(0, now - at) / RATE_TAU_NANOS);
    }
  }

  /**
   * Work collected under the lock and done after it is released: listener calls (failing removed
   * jobs, position reports). Calls for one job are serialized by its entry's monitor, and positions
   * only ever go down.
   */
  private final class Outside {
    private final List<Object[]> fails = new ArrayList<>();
    private final List<Entry> reports = new ArrayList<>();
    private final List<Integer> positions = new ArrayList<>();

    void fail(Entry e, Code code, String message) {
      fails.add(new Object[] {e, code, message});
    }

    void report(Entry e, int position) {
      reports.add(e);
      positions.add(position);
    }

    // every entry of q whose position dropped below the lowest reported so far
    void positions(ModelQueue q) {
      int i = 0;
      for (Entry e : q.entries) {
        if (i < e.planned) {
          e.planned = i;
          report(e, i);
        }
        i++;
      }
    }

    boolean isEmpty() {
      return fails.isEmpty() && reports.isEmpty();
    }

    void run() {
      for (Object[] f : fails) {
        Entry e = (Entry) f[0];
        synchronized (e) {
          e.job.fail((Code) f[1], (String) f[2]);
        }
      }
      for (int k = 0; k < reports.size(); k++) {
        Entry e = reports.get(k);
        int position = positions.get(k);
        synchronized (e) {
          if (!e.handedOut && position < e.reported) {
            e.reported = position;
            e.job.queued(position);
          }
        }
      }
      fails.clear();
      reports.clear();
      positions.clear();
    }
  }
}
