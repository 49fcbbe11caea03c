package dev.sampler.server.grpc;

import com.google.protobuf.Message;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Enforces the inbound message size limit and turns unreadable requests into statuses.
 *
 * <p>Why this exists: Helidon 4.5's gRPC handler checks a message's declared length against {@code
 * max-read-buffer-size} before buffering it, but on a violation it only cancels the call
 * internally and logs an error with a stack trace for every following DATA frame; the client sees
 * no RESOURCE_EXHAUSTED (in a test it got INTERNAL "Half-closed without a request"). It also
 * decompresses a compressed message without any bound, and a request that fails to parse takes the
 * same path. So the server keeps Helidon's limit (it stops the allocation of oversized buffers)
 * and adds two layers of its own:
 *
 * <ul>
 *   <li>{@link #bounded}: every method reads its request through a marshaller that copies at most
 *       {@code maxBytes} (after decompression) and never throws; an oversized request ends the
 *       call with RESOURCE_EXHAUSTED, a malformed one with INVALID_ARGUMENT, before the service
 *       sees it;
 *   <li>{@link #transportFailures}: when Helidon cancels a call that the client did not cancel,
 *       the call is closed with RESOURCE_EXHAUSTED (a message over the limit is the one way a
 *       well-formed client gets there) and later garbage from the same stream is dropped.
 * </ul>
 */
public final class InboundGuard {
  private InboundGuard() {}

  /** What the bounded marshaller read: the message bytes, or why there are none. */
  record Inbound(byte[] bytes, Status error) {}

  /**
   * A copy of {@code definition} whose methods read requests through the bounded marshaller
   * (responses unchanged); method names, and so the wire contract and reflection, stay the same.
   *
   * @param oversized run once per request over the limit (metrics)
   */
  public static ServerServiceDefinition bounded(ServerServiceDefinition definition, int maxBytes, Runnable oversized) {
    Bounded marshaller = new Bounded(maxBytes);
    ServiceDescriptor original = definition.getServiceDescriptor();
    ServiceDescriptor.Builder sd = ServiceDescriptor.newBuilder(original.getName())
        .setSchemaDescriptor(original.getSchemaDescriptor());
    java.util.List<ServerMethodDefinition<Inbound, ?>> methods = new java.util.ArrayList<>();
    for (ServerMethodDefinition<?, ?> m : definition.getMethods()) {
      ServerMethodDefinition<Inbound, ?> wrapped = wrap(m, marshaller, oversized);
      sd.addMethod(wrapped.getMethodDescriptor());
      methods.add(wrapped);
    }
    ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(sd.build());
    for (ServerMethodDefinition<Inbound, ?> m : methods) {
      b.addMethod(m);
    }
    return b.build();
  }

  private static <Q, R> ServerMethodDefinition<Inbound, R> wrap(ServerMethodDefinition<Q, R> def, Bounded marshaller,
      Runnable oversized) {
    MethodDescriptor<Q, R> md = def.getMethodDescriptor();
    MethodDescriptor<Inbound, R> bmd = md.toBuilder(marshaller, md.getResponseMarshaller()).build();
    String type = md.getRequestMarshaller() instanceof MethodDescriptor.PrototypeMarshaller<?> p
        && p.getMessagePrototype() instanceof Message msg ? msg.getDescriptorForType().getFullName() : "request";
    ServerCallHandler<Q, R> handler = def.getServerCallHandler();
    ServerCallHandler<Inbound, R> bounded = (call, headers) -> {
      ServerCall.Listener<Q> inner = handler.startCall(new Adapted<>(call, md), headers);
      return new ServerCall.Listener<>() {
        private boolean failed;

        @Override
        public void onMessage(Inbound in) {
          if (failed) {
            return;
          }
          if (in.error() != null) {
            failed = true;
            if (in.error().getCode() == Status.Code.RESOURCE_EXHAUSTED) {
              oversized.run();
            }
            call.close(in.error(), new Metadata());
            return;
          }
          Q request;
          try {
            request = md.parseRequest(new ByteArrayInputStream(in.bytes()));
          } catch (RuntimeException e) {
            failed = true;
            call.close(Status.INVALID_ARGUMENT.withDescription("the request message is not a valid " + type),
                new Metadata());
            return;
          }
          inner.onMessage(request);
        }

        @Override
        public void onHalfClose() {
          if (!failed) {
            inner.onHalfClose();
          }
        }

        @Override
        public void onCancel() {
          inner.onCancel();
        }

        @Override
        public void onComplete() {
          inner.onComplete();
        }

        @Override
        public void onReady() {
          inner.onReady();
        }
      };
    };
    return ServerMethodDefinition.create(bmd, bounded);
  }

  /**
   * An interceptor (install it outermost) that closes with RESOURCE_EXHAUSTED a call the transport
   * cancelled although the client did not, and drops whatever that stream delivers afterwards.
   *
   * @param oversized run once per such call (metrics)
   */
  public static ServerInterceptor transportFailures(int maxBytes, Runnable oversized) {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        Tracked<Q, R> tracked = new Tracked<>(call);
        ServerCall.Listener<Q> inner = next.startCall(tracked, headers);
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(inner) {
          private volatile boolean poisoned;

          @Override
          public void onMessage(Q message) {
            if (!poisoned) {
              super.onMessage(message);
            }
          }

          @Override
          public void onHalfClose() {
            if (!poisoned) {
              super.onHalfClose();
            }
          }

          @Override
          public void onCancel() {
            if (!poisoned && !call.isCancelled() && !tracked.closed) {
              poisoned = true;
              oversized.run();
              try {
                tracked.close(Status.RESOURCE_EXHAUSTED.withDescription("the request message is larger than the"
                    + " server's limit of " + maxBytes + " bytes (or could not be read)"), new Metadata());
              } catch (RuntimeException e) {
                // the stream is already gone; nothing more to tell the client
              }
            }
            super.onCancel();
          }
        };
      }
    };
  }

  /** Remembers whether the call was closed, so a late transport failure never closes it twice. */
  private static final class Tracked<Q, R> extends ForwardingServerCall.SimpleForwardingServerCall<Q, R> {
    volatile boolean closed;

    Tracked(ServerCall<Q, R> delegate) {
      super(delegate);
    }

    @Override
    public synchronized void close(Status status, Metadata trailers) {
      if (closed) {
        return;
      }
      closed = true;
      super.close(status, trailers);
    }
  }

  /** The original method's view of a call whose requests arrive as {@link Inbound}. */
  private static final class Adapted<Q, R> extends ServerCall<Q, R> {
    private final ServerCall<Inbound, R> call;
    private final MethodDescriptor<Q, R> method;

    Adapted(ServerCall<Inbound, R> call, MethodDescriptor<Q, R> method) {
      this.call = call;
      this.method = method;
    }

    @Override
    public void request(int numMessages) {
      call.request(numMessages);
    }

    @Override
    public void sendHeaders(Metadata headers) {
      call.sendHeaders(headers);
    }

    @Override
    public void sendMessage(R message) {
      call.sendMessage(message);
    }

    @Override
    public void close(Status status, Metadata trailers) {
      call.close(status, trailers);
    }

    @Override
    public boolean isCancelled() {
      return call.isCancelled();
    }

    @Override
    public boolean isReady() {
      return call.isReady();
    }

    @Override
    public void setMessageCompression(boolean enabled) {
      call.setMessageCompression(enabled);
    }

    @Override
    public void setCompression(String compressor) {
      call.setCompression(compressor);
    }

    @Override
    public io.grpc.SecurityLevel getSecurityLevel() {
      return call.getSecurityLevel();
    }

    @Override
    public io.grpc.Attributes getAttributes() {
      return call.getAttributes();
    }

    @Override
    public String getAuthority() {
      return call.getAuthority();
    }

    @Override
    public void setOnReadyThreshold(int numBytes) {
      call.setOnReadyThreshold(numBytes);
    }

    @Override
    public MethodDescriptor<Q, R> getMethodDescriptor() {
      return method;
    }
  }

  /** Copies at most {@code max} bytes of a request; never throws (errors become {@link Inbound#error}). */
  private record Bounded(int max) implements MethodDescriptor.Marshaller<Inbound> {
    @Override
    public InputStream stream(Inbound value) {
      return new ByteArrayInputStream(value.bytes() == null ? new byte[0] : value.bytes());
    }

    @Override
    public Inbound parse(InputStream stream) {
      try (stream) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.min(max, Math.max(32, stream.available())));
        byte[] buf = new byte[8192];
        long total = 0;
        for (int n; (n = stream.read(buf)) > 0; ) {
          total += n;
          if (total > max) {
            return new Inbound(null, Status.RESOURCE_EXHAUSTED.withDescription("the request message is larger than"
                + " the server's limit of " + max + " bytes"));
          }
          out.write(buf, 0, n);
        }
        return new Inbound(out.toByteArray(), null);
      } catch (IOException | RuntimeException e) {
        return new Inbound(null, Status.INVALID_ARGUMENT.withDescription("the request message could not be read"
            + " (bad compression?)"));
      }
    }
  }
}
