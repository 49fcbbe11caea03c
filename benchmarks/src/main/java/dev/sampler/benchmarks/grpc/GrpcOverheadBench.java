package dev.sampler.benchmarks.grpc;

import dev.sampler.api.v1.ClassCount;
import dev.sampler.api.v1.GenerateEvent;
import dev.sampler.api.v1.GenerateRequest;
import dev.sampler.api.v1.ListModelsRequest;
import dev.sampler.api.v1.ListModelsResponse;
import dev.sampler.api.v1.SamplerServiceGrpc;
import dev.sampler.engine.sampling.SamplingResult;
import dev.sampler.scheduler.Code;
import dev.sampler.scheduler.GenerationSpec;
import dev.sampler.scheduler.JobListener;
import dev.sampler.scheduler.Tenant;
import dev.sampler.server.SamplerServer;
import dev.sampler.server.config.ServerConfig;
import dev.sampler.server.engine.Engine;
import dev.sampler.server.engine.ModelHost;
import dev.sampler.server.engine.Renderer;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Added latency of the gRPC path over an in-process call, in one process: the server runs
 * in-process on 127.0.0.1 with the demo model, and the same request (1 image, 1 step, no guidance:
 * one 1-row forward) is made alternately (a) in-process: {@code Engine.submit} through admission and the step
 * batcher, waiting for the result, then building the same {@code Image} messages (PNG, digest,
 * checker) the service sends; (b) over loopback gRPC with the generated blocking stub (HTTP/2,
 * protobuf, the tenant interceptor, the event stream). Reports p50/p90/p99 of each and the
 * difference of the medians. Then the transport's floor on the same machine (see {@link #floors}).
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow
 * --add-modules=jdk.incubator.vector -cp benchmarks/target/benchmarks.jar
 * dev.sampler.benchmarks.grpc.GrpcOverheadBench [samples] [sampler-home] [warm-up rounds]}
 */
public final class GrpcOverheadBench {
  private GrpcOverheadBench() {}

  public static void main(String[] args) throws Exception {
    int samples = args.length > 0 ? Integer.parseInt(args[0]) : 400;
    Path home = Path.of(args.length > 1 ? args[1] : System.getenv().getOrDefault("SAMPLER_HOME", ".")).toAbsolutePath();
    Path model = home.resolve("models/demo");
    Path cfgDir = Files.createTempDirectory("overhead-bench");
    Path cfgFile = cfgDir.resolve("server.yaml");
    Files.writeString(cfgFile, """
        grpc:
          host: 127.0.0.1
          port: 0
          insecure-plaintext: true
        observe:
          enabled: false
        models:
          - name: tiny
            dir: %s
            backend: cpu
            insecure-skip-signature: true   # a model generated for this run: nothing signed it
        sandbox:
          relax: [all]
        admission:
          defaults:
            rate-per-second: 100000
            burst: 100000
        warmup:
          generations: 2
          steps: 1
          noise: PT1S
        """.formatted(model));
    ServerConfig cfg = ServerConfig.load(cfgFile, Map.of("SAMPLER_HOME", home.toString()));
    try (SamplerServer server = SamplerServer.builder().config(cfg).build()) {
      server.start();
      server.awaitReady(Duration.ofMinutes(5));
      Engine engine = server.engine();
      ModelHost host = engine.model("tiny", "model");
      Tenant tenant = new Tenant(cfg.identity().devTenant());
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
      SamplerServiceGrpc.SamplerServiceBlockingStub stub = SamplerServiceGrpc.newBlockingStub(channel);
      try {
        long[] inProcess = new long[samples];
        long[] grpc = new long[samples];
        // Long enough for C2 to finish compiling the HTTP/2 and gRPC paths while the UNet keeps
        // both cores busy: with 600 rounds the added p50 read 1.8-2.4 ms, with 6,000 1.4 ms.
        int warm = args.length > 2 ? Integer.parseInt(args[2]) : 3000;
        for (int i = -warm; i < samples; i++) {
          String id = "overhead-" + (i + warm);
          long a = inProcess(engine, host, tenant, id + "a");
          long b;
          try {
            b = overGrpc(stub, id + "g");
          } catch (RuntimeException e) {
            throw new IllegalStateException("gRPC call " + (i + warm) + " failed: " + e.getMessage(), e);
          }
          if (i >= 0) {
            inProcess[i] = a;
            grpc[i] = b;
          }
        }
        Arrays.sort(inProcess);
        Arrays.sort(grpc);
        System.out.printf(Locale.ROOT, "%d samples each, interleaved, 1 image x 1 step, demo model%n", samples);
        System.out.printf(Locale.ROOT, "in-process  p50 %.3f ms  p90 %.3f ms  p99 %.3f ms%n", ms(inProcess, 50),
            ms(inProcess, 90), ms(inProcess, 99));
        System.out.printf(Locale.ROOT, "gRPC        p50 %.3f ms  p90 %.3f ms  p99 %.3f ms%n", ms(grpc, 50),
            ms(grpc, 90), ms(grpc, 99));
        System.out.printf(Locale.ROOT, "added p50 latency of the gRPC path: %.3f ms (target < 1 ms); ratio %.2fx%n",
            ms(grpc, 50) - ms(inProcess, 50), ms(grpc, 50) / ms(inProcess, 50));
        floors(stub, samples, warm);
      } finally {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      }
    }
  }

  /**
   * The transport's floor on this machine: a unary {@code ListModels} (no engine work) against this
   * server and against grpc-java's own Netty server answering the same bytes, called alternately
   * over the same kind of channel, back to back and after an idle gap like the one a Generate's
   * forward leaves. Neither server can beat the gapped figure: it is the cost of waking the
   * client's and the server's threads, which is what most of the Generate overhead is.
   */
  private static void floors(SamplerServiceGrpc.SamplerServiceBlockingStub ours, int samples, int warm)
      throws Exception {
    ListModelsResponse answer = ours.listModels(ListModelsRequest.getDefaultInstance());
    Server netty = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(new SamplerServiceGrpc.SamplerServiceImplBase() {
          @Override
          public void listModels(ListModelsRequest request, StreamObserver<ListModelsResponse> observer) {
            observer.onNext(answer);
            observer.onCompleted();
          }
        }).build().start();
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", netty.getPort()).usePlaintext().build();
    try {
      SamplerServiceGrpc.SamplerServiceBlockingStub plain = SamplerServiceGrpc.newBlockingStub(channel);
      for (int gapMillis : new int[] {0, 5}) {
        long[] a = new long[samples];
        long[] b = new long[samples];
        for (int i = -warm; i < samples; i++) {
          long x = unary(ours, i >= 0 ? gapMillis : 0);
          long y = unary(plain, i >= 0 ? gapMillis : 0);
          if (i >= 0) {
            a[i] = x;
            b[i] = y;
          }
        }
        Arrays.sort(a);
        Arrays.sort(b);
        System.out.printf(Locale.ROOT, "unary ListModels, %s: this server p50 %.3f ms p90 %.3f ms;"
            + " grpc-java Netty server p50 %.3f ms p90 %.3f ms%n",
            gapMillis == 0 ? "back to back" : gapMillis + " ms idle before each call", ms(a, 50), ms(a, 90),
            ms(b, 50), ms(b, 90));
      }
    } finally {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      netty.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  private static long unary(SamplerServiceGrpc.SamplerServiceBlockingStub stub, int gapMillis) throws Exception {
    if (gapMillis > 0) {
      Thread.sleep(gapMillis);
    }
    long t0 = System.nanoTime();
    stub.listModels(ListModelsRequest.getDefaultInstance());
    return System.nanoTime() - t0;
  }

  private static long inProcess(Engine engine, ModelHost host, Tenant tenant, String id) throws Exception {
    long t0 = System.nanoTime();
    GenerationSpec spec = GenerationSpec.create(host.limits(), "tiny", id, new int[] {1}, 1, "ddim", 1.0, 0, 0, 0, 0);
    CompletableFuture<Object> done = new CompletableFuture<>();
    engine.submit(tenant, spec, null, Long.MAX_VALUE, new JobListener() {
      @Override
      public void onCompleted(SamplingResult result) {
        done.complete(Renderer.images(host, result, spec.request().classLabels()));
      }

      @Override
      public void onFailed(Code code, String message) {
        done.completeExceptionally(new IllegalStateException(code + ": " + message));
      }
    });
    done.get(1, TimeUnit.MINUTES);
    return System.nanoTime() - t0;
  }

  private static long overGrpc(SamplerServiceGrpc.SamplerServiceBlockingStub stub, String id) {
    long t0 = System.nanoTime();
    GenerateRequest req = GenerateRequest.newBuilder().setModel("tiny")
        .setClassCount(ClassCount.newBuilder().setLabel(1).setCount(1)).setSteps(1).setScheduler("ddim")
        .setGuidanceScale(1.0).setRequestId(id).build();
    Iterator<GenerateEvent> it = stub.withDeadlineAfter(1, TimeUnit.MINUTES).generate(req);
    boolean completed = false;
    while (it.hasNext()) {
      completed |= it.next().hasCompleted();
    }
    if (!completed) {
      throw new IllegalStateException("no Completed event for " + id);
    }
    return System.nanoTime() - t0;
  }

  private static double ms(long[] sorted, double p) {
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))] / 1e6;
  }
}
