package dev.sampler.server.auth;

import dev.sampler.scheduler.Tenant;
import dev.sampler.server.grpc.CallContext;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.health.v1.HealthGrpc;
import io.helidon.webserver.grpc.GrpcConnectionContext;
import io.helidon.webserver.grpc.ServerContextKeys;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Establishes the tenant of every call ({@link CallContext#TENANT}) from the connection's verified
 * client certificate (as Helidon's TLS handshake checked it) and the {@code authorization}
 * header, through a {@link TenantResolver}. A call without an identity ends with UNAUTHENTICATED
 * before the service sees it. Health checks ({@code grpc.health.v1.Health}) need no identity, so
 * orchestrators can probe without credentials.
 */
public final class AuthInterceptor implements ServerInterceptor {
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final TenantResolver resolver;

  /** Resolves tenants with {@code resolver}. */
  public AuthInterceptor(TenantResolver resolver) {
    this.resolver = Objects.requireNonNull(resolver, "resolver");
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    if (HealthGrpc.SERVICE_NAME.equals(call.getMethodDescriptor().getServiceName())) {
      return next.startCall(call, headers);
    }
    Tenant tenant;
    try {
      Iterable<String> values = headers.getAll(AUTHORIZATION);
      List<String> authorization = new ArrayList<>();
      if (values != null) {
        values.forEach(authorization::add);
      }
      tenant = resolver.resolve(peerCertificate(), authorization);
    } catch (AuthenticationException e) {
      // Refuse only after the request message has been read: closing the stream while the
      // client's DATA frame is still in flight makes Helidon 4.5.0 answer that frame with a
      // connection-level GOAWAY PROTOCOL_ERROR, which fails every other call on the connection.
      Status refused = Status.UNAUTHENTICATED.withDescription(e.getMessage());
      java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
      Runnable refuse = () -> {
        if (closed.compareAndSet(false, true)) {
          call.close(refused, new Metadata());
        }
      };
      call.request(1);
      return new ServerCall.Listener<>() {
        @Override
        public void onMessage(Q message) {
          refuse.run();
        }

        @Override
        public void onHalfClose() {
          refuse.run();
        }
      };
    }
    return Contexts.interceptCall(Context.current().withValue(CallContext.TENANT, tenant), call, headers, next);
  }

  /** The verified leaf certificate of the client, if the connection is TLS and the client sent one. */
  private static Optional<X509Certificate> peerCertificate() {
    GrpcConnectionContext connection = ServerContextKeys.CONNECTION_CONTEXT.get();
    if (connection == null || !connection.isSecure()) {
      return Optional.empty();
    }
    Optional<Certificate[]> chain = connection.remotePeer().tlsCertificates();
    if (chain.isEmpty() || chain.get().length == 0 || !(chain.get()[0] instanceof X509Certificate leaf)) {
      return Optional.empty();
    }
    return Optional.of(leaf);
  }
}
