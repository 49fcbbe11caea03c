package dev.sampler.scheduler;

import java.util.concurrent.TimeUnit;

/**
 * Where a batcher takes its next job from: the admission controller's weighted-fair queue.
 * Expired and cancelled jobs are ended by the source ({@link Job#fail}) and never handed out.
 */
public interface JobSource {
  /**
   * The next job in fair order whose {@link Job#rows()} fit in {@code freeRows}, waiting up to
   * {@code timeout} for one; null if none arrived. When {@code idle} is true (the batcher runs
   * nothing) a job larger than {@code freeRows} is handed out too, so large jobs never starve.
   * The returned job has been {@linkplain Job#started() started}.
   */
  Job poll(int freeRows, boolean idle, long timeout, TimeUnit unit) throws InterruptedException;
}
