package dev.sampler.server.grpc;

import dev.sampler.api.v1.Accepted;
import dev.sampler.api.v1.Completed;
import dev.sampler.api.v1.Failed;
import dev.sampler.api.v1.GenerateEvent;
import dev.sampler.api.v1.GenerationMetadata;
import dev.sampler.api.v1.NoiseSource;
import dev.sampler.api.v1.Progress;
import dev.sampler.api.v1.Timings;
import dev.sampler.engine.sampling.SamplingResult;
import dev.sampler.engine.sampling.StepProgress;
import dev.sampler.scheduler.Code;
import dev.sampler.scheduler.GenerationSpec;
import dev.sampler.scheduler.Job;
import dev.sampler.scheduler.JobListener;
import dev.sampler.scheduler.RejectedException;
import dev.sampler.server.engine.Engine;
import dev.sampler.server.engine.ModelHost;
import dev.sampler.server.engine.Renderer;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One Generate stream: receives the job's life as a {@link JobListener} (on the batcher's thread,
 * which must never wait for the network) and writes events from its own virtual thread.
 *
 * <p>Why a sender thread: Helidon's gRPC transport blocks the writing thread while the client's
 * HTTP/2 flow-control window is exhausted (and its {@code isReady()} is always true), so writing
 * from the batcher would let one slow reader stall every tenant. The listener only queues; Progress
 * events without previews are skipped while an earlier event is still waiting or being written
 * (the client is behind), so the queue holds at most the few events that are never skipped.
 * Previews are copied as floats and encoded by the sender; they are dropped only when more than
 * {@value #MAX_PENDING_PREVIEW_BYTES} bytes of earlier previews still wait.
 */
final class GenerateCall implements JobListener {
  /** Largest preview payload (as float samples, in bytes) that may wait unsent. */
  static final long MAX_PENDING_PREVIEW_BYTES = 8L << 20;

  private sealed interface Item {}

  private record AcceptedItem(int position) implements Item {}

  private record ProgressItem(int step, int total, double timestep, float[] preview) implements Item {}

  private record Done(SamplingResult result) implements Item {}

  private record Fail(Code code, String message, RejectedException rejection) implements Item {}

  private record Stop() implements Item {}

  private final ServerCallStreamObserver<GenerateEvent> call;
  private final Engine engine;
  private final ModelHost host;
  private final GenerationSpec spec;
  private final ActiveCalls active;
  private final LinkedBlockingQueue<Item> queue = new LinkedBlockingQueue<>();
  private final CountDownLatch submitted = new CountDownLatch(1);
  private final AtomicBoolean ended = new AtomicBoolean();
  private final AtomicLong pendingPreviewBytes = new AtomicLong();
  private volatile boolean sending;
  private volatile Engine.Submission submission;
  private volatile boolean cancelRequested;
  private int lastPosition = -1;

  GenerateCall(ServerCallStreamObserver<GenerateEvent> call, Engine engine, ModelHost host, GenerationSpec spec,
      ActiveCalls active) {
    this.engine = engine;
    this.call = call;
    this.host = host;
    this.spec = spec;
    this.active = active;
  }

  /** Starts the sender thread. */
  void start() {
    active.begin();
    Thread.ofVirtual().name("generate-" + spec.requestId()).start(this::send);
  }

  /** The job was admitted; the sender may now write. */
  void submitted(Engine.Submission s) {
    this.submission = s;
    if (cancelRequested) {
      engine.clientGone(s.job());
    }
    submitted.countDown();
  }

  /**
   * Admission refused the job: end the call with that status (and its retry hint) and no events,
   * whatever the job's listener heard meanwhile (nothing has been sent before {@link #submitted}).
   */
  void rejected(RejectedException e) {
    ended.set(true);
    queue.clear();
    queue.add(new Fail(e.code(), e.getMessage(), e));
    submitted.countDown();
  }

  /** The client cancelled (or its deadline passed): stop the job and the sender. */
  void cancelledByClient() {
    cancelRequested = true;
    Engine.Submission s = submission;
    if (s != null) {
      engine.clientGone(s.job());
    }
    queue.add(new Stop());
    submitted.countDown();
  }

  @Override
  public synchronized void onQueued(int position) {
    accepted(position + 1);
  }

  @Override
  public synchronized void onStarted() {
    accepted(0);
  }

  private void accepted(int position) {
    if (position != lastPosition && (lastPosition < 0 || position < lastPosition)) {
      lastPosition = position;
      queue.add(new AcceptedItem(position));
    }
  }

  @Override
  public synchronized void onStep(StepProgress p) {
    if (lastPosition != 0) {
      accepted(0);
    }
    int every = spec.previewEvery();
    boolean previewDue = every > 0 && p.step() % every == 0 && p.step() < p.total();
    if (previewDue) {
      double[] values = p.predOriginalSample() != null ? p.predOriginalSample() : p.sample();
      long bytes = 4L * values.length;
      if (pendingPreviewBytes.get() + bytes <= MAX_PENDING_PREVIEW_BYTES) {
        float[] copy = new float[values.length];
        for (int i = 0; i < copy.length; i++) {
          copy[i] = (float) values[i];
        }
        pendingPreviewBytes.addAndGet(bytes);
        queue.add(new ProgressItem(p.step(), p.total(), p.timestep(), copy));
        return;
      }
    }
    if (queue.isEmpty() && !sending && call.isReady()) {
      queue.add(new ProgressItem(p.step(), p.total(), p.timestep(), null));
    }
  }

  @Override
  public void onCompleted(SamplingResult result) {
    enqueueTerminal(new Done(result));
  }

  @Override
  public void onFailed(Code code, String message) {
    enqueueTerminal(new Fail(code, message, null));
  }

  private void enqueueTerminal(Item item) {
    if (ended.compareAndSet(false, true)) {
      queue.add(item);
    }
  }

  private void send() {
    try {
      submitted.await();
      while (true) {
        Item item = queue.take();
        if (cancelRequested || call.isCancelled()) {
          // Nothing more for a stream the client reset: every frame written to it draws another
          // RST_STREAM, and Helidon counts each one towards the connection's rapid-reset limit.
          return;
        }
        sending = true;
        try {
          switch (item) {
            case AcceptedItem a -> call.onNext(GenerateEvent.newBuilder().setAccepted(Accepted.newBuilder()
                .setRequestId(spec.requestId()).setQueuePosition(a.position()).setImageCount(spec.count())).build());
            case ProgressItem p -> call.onNext(GenerateEvent.newBuilder().setProgress(progress(p)).build());
            case Done d -> {
              ensureAccepted();
              call.onNext(GenerateEvent.newBuilder().setCompleted(completed(d.result())).build());
              call.onCompleted();
              return;
            }
            case Fail f -> {
              if (f.rejection() != null) {
                call.onError(Statuses.exception(f.rejection()));
              } else {
                ensureAccepted();
                call.onNext(GenerateEvent.newBuilder().setFailed(Failed.newBuilder()
                    .setCode(f.code().grpcNumber()).setMessage(f.message())).build());
                call.onError(Statuses.exception(f.code(), f.message()));
              }
              return;
            }
            case Stop s -> {
              return;
            }
          }
        } finally {
          sending = false;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      // Writing failed (the transport gave up on a client that stopped reading): stop the job.
      Engine.Submission s = submission;
      if (s != null) {
        engine.clientGone(s.job());
      }
      try {
        call.onError(Statuses.internal(e, "sending Generate events", spec.requestId()));
      } catch (RuntimeException ignored) {
        // the stream is gone
      }
    } finally {
      active.end();
    }
  }

  /** The stream's first event is Accepted even when the job finished before any was queued. */
  private void ensureAccepted() {
    boolean needed;
    synchronized (this) {
      needed = lastPosition < 0;
      lastPosition = Math.max(lastPosition, 0);
    }
    if (needed) {
      call.onNext(GenerateEvent.newBuilder().setAccepted(Accepted.newBuilder().setRequestId(spec.requestId())
          .setQueuePosition(0).setImageCount(spec.count())).build());
    }
  }

  private static com.google.protobuf.Duration duration(long nanos) {
    return com.google.protobuf.Duration.newBuilder().setSeconds(nanos / 1_000_000_000L)
        .setNanos((int) (nanos % 1_000_000_000L)).build();
  }

  private Progress progress(ProgressItem p) {
    Progress.Builder b = Progress.newBuilder().setStep(p.step()).setTotalSteps(p.total()).setTimestep(p.timestep());
    if (p.preview() != null) {
      pendingPreviewBytes.addAndGet(-4L * p.preview().length);
      b.addAllPreviews(Renderer.previews(p.preview(), spec.count(), host.channels(), host.sampleSize(),
          host.sampleSize(), spec.previewMaxSide()));
    }
    return b.build();
  }

  private Completed completed(SamplingResult r) {
    Engine.Submission s = submission;
    Job job = s.job();
    long now = System.nanoTime();
    long started = job.startedNanos() == 0 ? now : job.startedNanos();
    Timings timings = Timings.newBuilder()
        .setQueue(duration(Math.max(0, started - job.createdNanos())))
        .setForward(duration(r.forwardNanos()))
        .setScheduler(duration(r.schedulerNanos()))
        .setNoise(duration(r.noiseNanos()))
        .setTotal(duration(Math.max(0, now - job.createdNanos())))
        .build();
    var pipeline = host.pipeline();
    GenerationMetadata.Builder meta = GenerationMetadata.newBuilder()
        .setRequestId(spec.requestId())
        .setModel(host.name())
        .setModelSha256(pipeline.weightsSha256())
        .setModelConfigSha256(pipeline.configSha256())
        .setSchedulerConfigSha256(pipeline.schedulerConfigSha256())
        .setScheduler(spec.scheduler())
        .setSchedulerClass(host.schedulerClass(spec.scheduler()))
        .setSteps(spec.steps())
        .setGuidanceScale(spec.request().guidanceScale())
        .setGuidanceRescale(spec.request().guidanceRescale())
        .setNoiseSource(s.replay() ? NoiseSource.REPLAY : NoiseSource.OS_ENTROPY)
        .setSeedCommitment(s.seedCommitment())
        .setCommitmentKeyId(s.commitmentKeyId())
        .setModelEvaluations(r.modelEvaluations())
        .setTimings(timings);
    return Completed.newBuilder()
        .addAllImages(Renderer.images(host, r, spec.request().classLabels()))
        .setMetadata(meta)
        .build();
  }
}
