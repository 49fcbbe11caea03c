package dev.sampler.server.grpc;

import dev.sampler.scheduler.Tenant;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Per-call values the interceptors establish and the services read: the authenticated tenant and
 * the call's deadline. Helidon's gRPC server does not turn the {@code grpc-timeout} header into an
 * {@link io.grpc.Context} deadline, so {@link #deadlines} parses it here (gRPC over HTTP/2: up to 8
 * digits and a unit H, M, S, m, u or n).
 */
public final class CallContext {
  /** The caller's tenant, set by the authentication interceptor; absent for health checks. */
  public static final Context.Key<Tenant> TENANT = Context.key("dev.sampler.tenant");

  /** The call's deadline on the {@link System#nanoTime()} scale; absent without grpc-timeout. */
  public static final Context.Key<Long> DEADLINE_NANOS = Context.key("dev.sampler.deadline-nanos");

  private static final Metadata.Key<String> GRPC_TIMEOUT =
      Metadata.Key.of("grpc-timeout", Metadata.ASCII_STRING_MARSHALLER);

  private CallContext() {}

  /** The tenant of the current call; null when none was established. */
  public static Tenant tenant() {
    return TENANT.get();
  }

  /**
   * The current call's deadline ({@link System#nanoTime()} scale), or {@link Long#MAX_VALUE}: the
   * earlier of the parsed {@code grpc-timeout} and an {@link io.grpc.Context} deadline (which
   * transports other than Helidon's, such as grpc-java's in-process one, set).
   */
  public static long deadlineNanos() {
    Long d = DEADLINE_NANOS.get();
    long deadline = d == null ? Long.MAX_VALUE : d;
    io.grpc.Deadline context = Context.current().getDeadline();
    if (context != null) {
      long left = context.timeRemaining(TimeUnit.NANOSECONDS);
      long now = System.nanoTime();
      deadline = Math.min(deadline, left >= Long.MAX_VALUE - now ? Long.MAX_VALUE - 1 : now + left);
    }
    return deadline;
  }

  /**
   * An interceptor that records the deadline of each call that sends {@code grpc-timeout}; a
   * malformed header ends the call with INVALID_ARGUMENT.
   */
  public static ServerInterceptor deadlines(LongSupplier nanoClock) {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        String timeout = headers.get(GRPC_TIMEOUT);
        if (timeout == null) {
          return next.startCall(call, headers);
        }
        long nanos = parseTimeout(timeout);
        if (nanos < 0) {
          call.close(Status.INVALID_ARGUMENT.withDescription("grpc-timeout: malformed (up to 8 digits and a unit"
              + " H, M, S, m, u or n)"), new Metadata());
          return new ServerCall.Listener<>() {};
        }
        long now = nanoClock.getAsLong();
        long deadline = nanos >= Long.MAX_VALUE - now ? Long.MAX_VALUE - 1 : now + nanos;
        return Contexts.interceptCall(Context.current().withValue(DEADLINE_NANOS, deadline), call, headers, next);
      }
    };
  }

  /** The timeout in nanoseconds (saturating), or -1 if malformed. */
  static long parseTimeout(String value) {
    if (value.length() < 2 || value.length() > 9) {
      return -1;
    }
    long n = 0;
    for (int i = 0; i < value.length() - 1; i++) {
      char c = value.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      n = n * 10 + (c - '0');
    }
    TimeUnit unit = switch (value.charAt(value.length() - 1)) {
      case 'H' -> TimeUnit.HOURS;
      case 'M' -> TimeUnit.MINUTES;
      case 'S' -> TimeUnit.SECONDS;
      case 'm' -> TimeUnit.MILLISECONDS;
      case 'u' -> TimeUnit.MICROSECONDS;
      case 'n' -> TimeUnit.NANOSECONDS;
      default -> null;
    };
    return unit == null ? -1 : unit.toNanos(n);
  }
}
