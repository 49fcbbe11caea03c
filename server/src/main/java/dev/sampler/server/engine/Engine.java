package dev.sampler.server.engine;

import dev.sampler.engine.sampling.StreamNoise;
import dev.sampler.rng.InsecureSeedAccess;
import dev.sampler.rng.NoiseStream;
import dev.sampler.rng.RngException;
import dev.sampler.rng.SecretSeed;
import dev.sampler.scheduler.Code;
import dev.sampler.scheduler.GenerationSpec;
import dev.sampler.scheduler.Job;
import dev.sampler.scheduler.JobListener;
import dev.sampler.scheduler.RejectedException;
import dev.sampler.scheduler.Tenant;
import dev.sampler.scheduler.admission.AdmissionController;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * What the gRPC services share: the served models, the admission controller, the commitment key
 * and the server's state. It turns a validated request into a {@link Job} with its own noise
 * stream (replayed from the client's seed, or from OS entropy) and submits it.
 */
public final class Engine {
  /** The server's life, as the services and health checks see it. */
  public enum State {
    /** Listening; models loading or warming up. */
    STARTING,
    /** Serving. */
    READY,
    /** Refusing new work, finishing what is in flight. */
    DRAINING,
    /** Stopped. */
    STOPPED,
    /** Start-up failed. */
    FAILED,
    /** Runtime re-verification found drift: refusing all work until restart. */
    DRIFTED
  }

  /** A submitted job and what its metadata reports about its noise. */
  public record Submission(Job job, boolean replay, String seedCommitment, String commitmentKeyId) {}

  /** How close to its deadline a client's reset counts as the deadline passing: 100 ms. */
  public static final long DEADLINE_SLACK_NANOS = 100_000_000L;

  private final Map<String, ModelHost> models = new ConcurrentHashMap<>();
  private final AdmissionController admission;
  private final CommitmentKey commitmentKey;
  private final Supplier<State> state;
  private final LongSupplier nanoClock;

  /**
   * @param state the server's current state (requests are refused unless it is READY, except
   *     warm-up requests submitted through {@link #submit} directly)
   * @param nanoClock the clock of job deadlines ({@link System#nanoTime()} scale)
   */
  public Engine(AdmissionController admission, CommitmentKey commitmentKey, Supplier<State> state,
      LongSupplier nanoClock) {
    this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
    this.admission = Objects.requireNonNull(admission, "admission");
    this.commitmentKey = Objects.requireNonNull(commitmentKey, "commitmentKey");
    this.state = Objects.requireNonNull(state, "state");
  }

  /** Adds a loaded model (during start-up) and tells admission its limits. */
  public void add(ModelHost host) {
    if (models.putIfAbsent(host.name(), host) != null) {
      throw new IllegalArgumentException("model " + host.name() + " is already served");
    }
    admission.registerModel(host.name(), host.limits());
  }

  /**
   * The client went away (it cancelled, or its deadline passed and it reset the stream). A queued
   * job ends at once, freeing its queue place and the tenant's slot; a running one stops before its
   * next step. The outcome is DEADLINE_EXCEEDED when the job's deadline has passed or is less than
   * {@link #DEADLINE_SLACK_NANOS} away (a client resets the stream at its own deadline, which is
   * the server's minus the request's one-way latency), else CANCELLED.
   */
  public void clientGone(Job job) {
    if (job.expired(nanoClock.getAsLong() + DEADLINE_SLACK_NANOS)) {
      if (job.startedNanos() == 0) {
        job.fail(Code.DEADLINE_EXCEEDED, "deadline passed while queued");
      }
      // running: the batcher ends it with DEADLINE_EXCEEDED before its next step
    } else {
      admission.cancel(job);
    }
  }

  /** The served models, by name. */
  public List<ModelHost> models() {
    return models.values().stream().sorted((a, b) -> a.name().compareTo(b.name())).toList();
  }

  /** The server's state. */
  public State state() {
    return state.get();
  }

  /** The admission controller. */
  public AdmissionController admission() {
    return admission;
  }

  /**
   * UNAVAILABLE unless the server is ready.
   *
   * @throws RejectedException UNAVAILABLE naming the state
   */
  public void requireReady() throws RejectedException {
    State s = state.get();
    if (s != State.READY) {
      throw new RejectedException(Code.UNAVAILABLE, switch (s) {
        case STARTING -> "the server is starting (loading and warming up its models); retry shortly";
        case DRAINING, STOPPED -> "the server is shutting down; retry elsewhere";
        case DRIFTED -> "the server's model failed runtime re-verification and is out of service; retry elsewhere";
        default -> "the server failed to start; retry elsewhere";
      });
    }
  }

  /**
   * The model called {@code name}.
   *
   * @param field the request field that named it, for messages
   * @throws RejectedException INVALID_ARGUMENT if empty, NOT_FOUND if no such model (the message
   *     lists the served names, never the requested one)
   */
  public ModelHost model(String name, String field) throws RejectedException {
    if (name == null || name.isEmpty()) {
      throw new RejectedException(Code.INVALID_ARGUMENT, field + " is required");
    }
    ModelHost host = models.get(name);
    if (host == null) {
      throw new RejectedException(Code.NOT_FOUND, "no model with that name (" + name.length()
          + " characters); this server serves: " + String.join(", ", models().stream().map(ModelHost::name).toList()));
    }
    return host;
  }

  /** Tells the admission controller's adaptive throttle about an invalid request. */
  public void invalid(Tenant tenant, String reason) {
    if (tenant != null) {
      admission.recordInvalid(tenant, reason);
    }
  }

  /**
   * Creates the job (its noise stream replayed from {@code seed} under the tenant and request id,
   * or drawn from OS entropy when {@code seed} is null) and submits it. The job's resources close
   * the stream and zero the seed; {@code seed}'s bytes are zeroed here.
   *
   * @param seed 16..64 bytes, or null
   * @throws RejectedException from admission (RESOURCE_EXHAUSTED with a retry hint, UNAVAILABLE,
   *     DEADLINE_EXCEEDED), or INTERNAL if the OS entropy source fails
   */
  public Submission submit(Tenant tenant, GenerationSpec spec, byte[] seed, long deadlineNanos, JobListener listener)
      throws RejectedException {
    SecretSeed secret = null;
    NoiseStream stream = null;
    try {
      NoiseStream.Personalization p = new NoiseStream.Personalization(tenant.id(), spec.requestId());
      String commitment = "";
      String keyId = "";
      if (seed != null) {
        secret = SecretSeed.copyOf(seed, InsecureSeedAccess.get());
        stream = NoiseStream.replay(secret, p);
        commitment = secret.commit(commitmentKey.key()).hex();
        keyId = commitmentKey.id();
      } else {
        stream = NoiseStream.fromOsEntropy(p);
      }
      NoiseStream s = stream;
      SecretSeed sec = secret;
      AutoCloseable resources = () -> {
        s.close();
        if (sec != null) {
          sec.close();
        }
      };
      Job job = new Job(tenant, spec, new StreamNoise(stream), deadlineNanos, listener, resources);
      try {
        admission.submit(job);
      } catch (RejectedException | RuntimeException e) {
        closeQuietly(resources);
        throw e;
      }
      return new Submission(job, seed != null, commitment, keyId);
    } catch (RngException e) {
      closeQuietly(stream, secret);
      throw new RejectedException(Code.INTERNAL, "the OS entropy source failed; retry");
    } catch (RejectedException | RuntimeException e) {
      closeQuietly(stream, secret);
      throw e;
    } finally {
      if (seed != null) {
        Arrays.fill(seed, (byte) 0);
      }
    }
  }

  private static void closeQuietly(AutoCloseable... all) {
    for (AutoCloseable c : all) {
      if (c != null) {
        try {
          c.close();
        } catch (Exception ignored) {
          // closing a stream or zeroing a seed does not fail in practice
        }
      }
    }
  }
}
