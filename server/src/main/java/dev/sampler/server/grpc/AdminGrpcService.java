package dev.sampler.server.grpc;

import dev.sampler.api.v1.AdminServiceGrpc;
import dev.sampler.api.v1.ReverifyRequest;
import dev.sampler.api.v1.ReverifyResponse;
import dev.sampler.scheduler.Tenant;
import dev.sampler.server.startup.Reverifier;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.Set;
import java.util.function.Supplier;

/**
 * {@code sampler.v1.AdminService}: operator calls, allowed only to the tenants in {@code
 * admin.tenants} (the caller's tenant comes from the same verified identity as every call).
 */
public final class AdminGrpcService extends AdminServiceGrpc.AdminServiceImplBase {
  private final Set<String> admins;
  private final Supplier<Reverifier> reverifier;

  /**
   * @param admins the tenants allowed
   * @param reverifier the server's re-verifier (null until start-up has loaded the models)
   */
  public AdminGrpcService(Set<String> admins, Supplier<Reverifier> reverifier) {
    this.admins = Set.copyOf(admins);
    this.reverifier = reverifier;
  }

  @Override
  public void reverify(ReverifyRequest request, StreamObserver<ReverifyResponse> observer) {
    Tenant tenant = CallContext.tenant();
    if (tenant == null || !admins.contains(tenant.id())) {
      observer.onError(Status.PERMISSION_DENIED
          .withDescription("AdminService needs a tenant listed in the server's admin.tenants").asRuntimeException());
      return;
    }
    Reverifier r = reverifier.get();
    if (r == null) {
      observer.onError(Status.UNAVAILABLE.withDescription("the server is still starting: nothing is loaded to"
          + " re-verify yet").asRuntimeException());
      return;
    }
    Reverifier.Result result = r.runNow();
    observer.onNext(ReverifyResponse.newBuilder()
        .setOk(result.ok())
        .setChecks(result.checks())
        .addAllDrift(result.drift())
        .setRun(result.run())
        .setSeconds(result.nanos() / 1e9)
        .build());
    observer.onCompleted();
  }
}
