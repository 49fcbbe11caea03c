package dev.sampler.scheduler.admission;

import java.time.Duration;
import java.util.Objects;

/**
 * The adaptive throttle: how a tenant's risk is scored and how its rate is lowered and restored.
 *
 * <p>Three risk signals are counted per tenant over a sliding {@code window}: invalid requests
 * (reported by the edge through {@link AdmissionController#recordInvalid}), requests at the
 * parameter limits (steps at the model's maximum, image count at the model's maximum, guidance
 * at its maximum, 30; not 0, which is the protocol default for unguided requests), and requests the controller rejected for the tenant's own limits (rate,
 * concurrency, queued). The risk score is {@code invalid/invalidThreshold + atLimit/probeThreshold +
 * rejected/rejectThreshold} (a threshold of 0 leaves that signal out). When the score reaches 1 the
 * tenant's factor is multiplied by {@code factor} (not below {@code minFactor}), the counts start
 * afresh (so a persistent abuser needs a whole new threshold's worth to be lowered again), and the
 * tenant's token rate and burst are multiplied by the factor.
 *
 * <p>Recovery is gradual: once no risk signal has arrived for {@code quietPeriod}, the factor doubles,
 * and doubles again every {@code recoveryStep} while the tenant stays quiet, until it is back at 1.
 * Any risk signal while throttled restarts the quiet period.
 *
 * @param window how far back signals count, positive
 * @param invalidThreshold invalid requests in the window that alone reach the threshold (0: ignore)
 * @param probeThreshold requests at the parameter limits in the window that alone reach it (0: ignore)
 * @param rejectThreshold rejected requests in the window that alone reach it (0: ignore)
 * @param factor the multiplier applied on each trigger, in (0, 1)
 * @param minFactor the lowest factor, in (0, factor]
 * @param quietPeriod signal-free time before recovery starts, positive
 * @param recoveryStep time between doublings during recovery, positive
 */
public record ThrottlePolicy(Duration window, int invalidThreshold, int probeThreshold, int rejectThreshold,
    double factor, double minFactor, Duration quietPeriod, Duration recoveryStep) {
  /**
   * @throws IllegalArgumentException naming the first field out of range
   */
  public ThrottlePolicy {
    Objects.requireNonNull(window, "window");
    Objects.requireNonNull(quietPeriod, "quietPeriod");
    Objects.requireNonNull(recoveryStep, "recoveryStep");
    positive("throttle window", window);
    positive("throttle quiet period", quietPeriod);
    positive("throttle recovery step", recoveryStep);
    if (invalidThreshold < 0 || probeThreshold < 0 || rejectThreshold < 0) {
      throw new IllegalArgumentException("throttle thresholds must be 0 (off) or positive, got " + invalidThreshold
          + ", " + probeThreshold + ", " + rejectThreshold);
    }
    if (!(factor > 0 && factor < 1)) {
      throw new IllegalArgumentException("throttle factor must be in (0, 1), got " + factor);
    }
    if (!(minFactor > 0 && minFactor <= factor)) {
      throw new IllegalArgumentException("throttle min factor must be in (0, factor], got " + minFactor);
    }
  }

  /**
   * Window 10 s; 10 invalid, 30 at-limit or 30 rejected requests in it trigger; factor 0.25, at
   * least 1/16; recovery starts after 30 quiet seconds and doubles every 10 s (0.25 -> 0.5 -> 1 in 40
   * s). A well-behaved client at the default 20 requests/s that always asks for the maximum steps
   * would trip the probe signal: raise probeThreshold for such tenants.
   */
  public static ThrottlePolicy defaults() {
    return new ThrottlePolicy(Duration.ofSeconds(10), 10, 30, 30, 0.25, 1.0 / 16, Duration.ofSeconds(30),
        Duration.ofSeconds(10));
  }

  /** No signal counts: the factor stays 1. */
  public static ThrottlePolicy off() {
    ThrottlePolicy d = defaults();
    return new ThrottlePolicy(d.window, 0, 0, 0, d.factor, d.minFactor, d.quietPeriod, d.recoveryStep);
  }

  /** True when at least one signal counts. */
  public boolean enabled() {
    return invalidThreshold > 0 || probeThreshold > 0 || rejectThreshold > 0;
  }

  private static void positive(String what, Duration d) {
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(what + " must be positive, got " + d);
    }
  }
}
