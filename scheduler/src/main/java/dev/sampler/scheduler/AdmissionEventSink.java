package dev.sampler.scheduler;

/** Receives every {@link AdmissionEvent}; must be quick, thread-safe and must not throw. */
@FunctionalInterface
public interface AdmissionEventSink {
  /** Discards events. */
  AdmissionEventSink NONE = e -> {};

  void record(AdmissionEvent event);
}
