package dev.sampler.server.cli;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * The client's progress display on stderr, driven by a Generate stream's events: the queue
 * position while the request waits (Accepted), then a bar over the model evaluations (Progress).
 * On a terminal it redraws one line; otherwise (a pipe, a log, a test) it prints a line when the
 * queue position changes and at each quarter of the run, so logs stay short.
 *
 * <p>Called from the gRPC executor thread, one event at a time; not thread-safe beyond that.
 */
final class ProgressBar {
  private static final int WIDTH = 30;

  private final PrintWriter err;
  private final boolean terminal;
  private long lastPosition = -1;
  private int lastQuarter = -1;
  private boolean open;

  /** A bar writing to {@code err}; {@code terminal} picks redrawing over line-per-milestone. */
  ProgressBar(PrintWriter err, boolean terminal) {
    this.err = err;
    this.terminal = terminal;
  }

  /** Whether stderr is an interactive terminal (JDK 22+: a redirected stream is not). */
  static boolean stderrIsTerminal() {
    java.io.Console c = System.console();
    return c != null && c.isTerminal();
  }

  /** An Accepted event: the request is queued at {@code position} (1: next to run; 0: running). */
  void accepted(String requestId, long position, int images) {
    if (position == lastPosition) {
      return;
    }
    lastPosition = position;
    String what = position == 0
        ? String.format(Locale.ROOT, "request %s running (%d image%s)", requestId, images, images == 1 ? "" : "s")
        : String.format(Locale.ROOT, "request %s queued at position %d", requestId, position);
    if (terminal) {
      err.print("\r\033[K" + what);
      open = true;
    } else {
      err.println(what);
    }
    err.flush();
  }

  /** A Progress event: {@code step} of {@code total} model evaluations done. */
  void step(int step, int total) {
    if (total <= 0) {
      return;
    }
    int s = Math.min(step, total);
    if (terminal) {
      int filled = s * WIDTH / total;
      err.printf(Locale.ROOT, "\r\033[K[%s%s] step %d/%d", "#".repeat(filled), ".".repeat(WIDTH - filled), s, total);
      open = true;
    } else {
      int quarter = s * 4 / total;
      if (quarter == lastQuarter) {
        return;
      }
      lastQuarter = quarter;
      err.printf(Locale.ROOT, "step %d/%d%n", s, total);
    }
    err.flush();
  }

  /** Ends the bar's line (before any other output on stderr). */
  void finish() {
    if (open) {
      err.println();
      err.flush();
      open = false;
    }
  }
}
