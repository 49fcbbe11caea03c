package dev.sampler.server.testing;

import dev.sampler.api.v1.GenerateEvent;
import dev.sampler.api.v1.GenerateRequest;
import dev.sampler.api.v1.SamplerServiceGrpc;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** Real grpc-java clients (Netty, shaded) for loopback tests. */
public final class Clients {
  private Clients() {}

  /** A plaintext channel to 127.0.0.1:{@code port}. */
  public static ManagedChannel plaintext(int port) {
    return NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().maxInboundMessageSize(64 << 20).build();
  }

  /** A TLS channel trusting {@code ca}, presenting {@code client} (may be null: no certificate). */
  public static ManagedChannel tls(int port, TestPki pki, TestPki.Pair client) {
    try {
      TlsChannelCredentials.Builder b = TlsChannelCredentials.newBuilder().trustManager(pki.ca().toFile());
      if (client != null) {
        b.keyManager(client.cert().toFile(), client.key().toFile());
      }
      ChannelCredentials creds = b.build();
      return NettyChannelBuilder.forAddress("127.0.0.1", port, creds).maxInboundMessageSize(64 << 20).build();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Metadata with one ASCII header. */
  public static Metadata header(String name, String value) {
    Metadata m = new Metadata();
    m.put(Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER), value);
    return m;
  }

  /** The events of one Generate call and how it ended. */
  public record Outcome(List<GenerateEvent> events, Status status, Metadata trailers) {
    /** The final status code. */
    public Status.Code code() {
      return status.getCode();
    }

    /** The Completed event (the last one); fails if the call did not complete. */
    public dev.sampler.api.v1.Completed completed() {
      if (!status.isOk()) {
        throw new AssertionError("Generate ended with " + status);
      }
      return events.getLast().getCompleted();
    }
  }

  /** Runs Generate to its end (bounded by {@code timeoutSeconds}) and collects everything. */
  public static Outcome generate(Channel channel, GenerateRequest request, Metadata headers, long timeoutSeconds) {
    Channel ch = headers == null ? channel
        : io.grpc.ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers));
    ClientCall<GenerateRequest, GenerateEvent> call = ch.newCall(SamplerServiceGrpc.getGenerateMethod(),
        CallOptions.DEFAULT.withDeadlineAfter(timeoutSeconds, TimeUnit.SECONDS));
    List<GenerateEvent> events = new ArrayList<>();
    CountDownLatch done = new CountDownLatch(1);
    Status[] status = new Status[1];
    Metadata[] trailers = new Metadata[1];
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onMessage(GenerateEvent message) {
        synchronized (events) {
          events.add(message);
        }
        call.request(1);
      }

      @Override
      public void onClose(Status s, Metadata t) {
        status[0] = s;
        trailers[0] = t;
        done.countDown();
      }
    }, new Metadata());
    call.sendMessage(request);
    call.halfClose();
    call.request(1);
    try {
      if (!done.await(timeoutSeconds + 10, TimeUnit.SECONDS)) {
        call.cancel("test timeout", null);
        throw new AssertionError("Generate did not end in " + timeoutSeconds + " s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
    synchronized (events) {
      return new Outcome(List.copyOf(events), status[0], trailers[0]);
    }
  }

  /** Generate with the default 120 s deadline and no extra headers. */
  public static Outcome generate(Channel channel, GenerateRequest request) {
    return generate(channel, request, null, 120);
  }

  /** The status a unary call ended with (OK when it succeeded). */
  public static Status statusOf(Runnable call) {
    try {
      call.run();
      return Status.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus();
    }
  }

  /** A started streaming call whose events arrive in {@code sink} (for cancellation tests). */
  public static ClientCall<GenerateRequest, GenerateEvent> startGenerate(Channel channel, GenerateRequest request,
      StreamObserver<GenerateEvent> sink) {
    ClientCall<GenerateRequest, GenerateEvent> call = channel.newCall(SamplerServiceGrpc.getGenerateMethod(),
        CallOptions.DEFAULT.withDeadlineAfter(120, TimeUnit.SECONDS));
    ClientCalls.asyncServerStreamingCall(call, request, sink);
    return call;
  }
}
