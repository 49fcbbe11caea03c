package dev.sampler.server.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import com.google.protobuf.ByteString;
import dev.sampler.api.v1.ClassLabels;
import dev.sampler.api.v1.GenerateRequest;
import dev.sampler.api.v1.ListModelsRequest;
import dev.sampler.api.v1.SamplerServiceGrpc;
import dev.sampler.engine.backend.BackendOptions;
import dev.sampler.engine.backend.Backends;
import dev.sampler.engine.backend.TensorBackend;
import dev.sampler.engine.sampling.DiffusionPipeline;
import dev.sampler.engine.sampling.SamplingListener;
import dev.sampler.engine.sampling.SamplingRequest;
import dev.sampler.engine.sampling.SamplingResult;
import dev.sampler.engine.sampling.StreamNoise;
import dev.sampler.rng.InsecureSeedAccess;
import dev.sampler.rng.NoiseStream;
import dev.sampler.rng.SecretSeed;
import dev.sampler.server.SamplerServer;
import dev.sampler.server.engine.Renderer;
import dev.sampler.server.testing.Clients;
import dev.sampler.server.testing.Servers;
import dev.sampler.server.testing.TestPki;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * TLS, mTLS and gateway tokens over loopback with grpc-netty-shaded clients and certificates made
 * by keytool at test time. Which tenant a call ran as is read from its replay: the PNG of a seeded
 * request depends on the tenant, so each is compared with the PNG the engine makes in-process for
 * the expected tenant.
 */
class TlsIdentityIT {
  static final byte[] SEED = HexFormat.of().parseHex("f0e1d2c3b4a5968778695a4b3c2d1e0f");
  static TestPki pki;
  static SamplerServer mtls;
  static SamplerServer gateway;
  static KeyPair gatewayKey;
  static KeyPair otherKey;
  static TensorBackend backend;
  static DiffusionPipeline pipeline;
  static final List<ManagedChannel> channels = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    pki = TestPki.get();
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    gatewayKey = g.generateKeyPair();
    otherKey = g.generateKeyPair();
    Path pub = Files.createTempFile("gateway", ".pem");
    Files.writeString(pub, TestPki.pem("PUBLIC KEY", gatewayKey.getPublic().getEncoded()));
    String tls = """
        grpc:
          host: 127.0.0.1
          port: 0
        tls:
          cert-chain: %s
          private-key: %s
          client-ca: %s
          client-auth: %s
        """;
    String identity = """
        identity:
          spiffe-trust-domain: %s
          dns-san-suffix: %s
        """.formatted(TestPki.TRUST_DOMAIN, TestPki.DNS_SUFFIX);
    mtls = Servers.start(Servers.config(tls.formatted(pki.server().cert(), pki.server().key(), pki.ca(), "required")
        + identity));
    gateway = Servers.start(Servers.config(tls.formatted(pki.server().cert(), pki.server().key(), pki.ca(),
        "optional") + identity + """
          gateway-token:
            enabled: true
            public-key: %s
            audience: sampler
            gateway-peer: %s
        """.formatted(pub, TestPki.GATEWAY_ID)));
    backend = Backends.create("cpu", BackendOptions.threads(2));
    pipeline = DiffusionPipeline.load(Servers.HOME.resolve("models/demo"), backend);
  }

  @AfterAll
  static void stop() {
    channels.forEach(ManagedChannel::shutdownNow);
    mtls.close();
    gateway.close();
    pipeline.close();
    backend.close();
  }

  static ManagedChannel channel(SamplerServer server, TestPki.Pair client) {
    ManagedChannel ch = Clients.tls(server.grpcPort(), pki, client);
    channels.add(ch);
    return ch;
  }

  static GenerateRequest replay(String requestId) {
    return GenerateRequest.newBuilder().setModel("demo").setClassLabels(ClassLabels.newBuilder().addLabels(1))
        .setSteps(1).setScheduler("euler").setSeed(ByteString.copyFrom(SEED)).setRequestId(requestId).build();
  }

  /** The png_sha256 the engine gives for {@link #replay} as {@code tenant}. */
  static String expected(String tenant, String requestId) throws Exception {
    try (SecretSeed seed = SecretSeed.copyOf(SEED, InsecureSeedAccess.get());
        NoiseStream s = NoiseStream.replay(seed, new NoiseStream.Personalization(tenant, requestId))) {
      SamplingResult r = pipeline.generate(new SamplingRequest(new int[] {1}, 1, 0, 0), "euler", new StreamNoise(s),
          SamplingListener.NONE, () -> false);
      return Renderer.sha256(Renderer.png(r, 0));
    }
  }

  /** The png_sha256 of {@link #replay} sent on {@code ch} with {@code headers}. */
  static String served(Channel ch, Metadata headers, String requestId) {
    return Clients.generate(ch, replay(requestId), headers, 120).completed().getImages(0).getPngSha256();
  }

  static Status listModels(Channel ch, Metadata headers) {
    Channel c = headers == null ? ch : ClientInterceptors.intercept(ch, MetadataUtils.newAttachHeadersInterceptor(
        headers));
    return Clients.statusOf(() -> SamplerServiceGrpc.newBlockingStub(c).withDeadlineAfter(30, TimeUnit.SECONDS)
        .listModels(ListModelsRequest.getDefaultInstance()));
  }

  static String token(KeyPair key, String sub, String aud, long expFromNow) throws Exception {
    long now = Instant.now().getEpochSecond();
    return Es256Jws.sign(Map.of("sub", sub, "aud", aud, "iat", now, "exp", now + expFromNow), key.getPrivate());
  }

  static Metadata bearer(String token) {
    return Clients.header("authorization", "Bearer " + token);
  }

  @Test
  void mtls_clientCertificates_tenantComesFromTheSanAndNeverFromAHeader() throws Exception {
    String alice = expected("alice", "id-1");
    String bob = expected("bob", "id-1");
    assertNotEquals(alice, bob);
    ManagedChannel aliceCh = channel(mtls, pki.alice());
    assertEquals(alice, served(aliceCh, null, "id-1"), "SPIFFE URI SAN spiffe://sampler.test/tenant/alice");
    assertEquals(bob, served(channel(mtls, pki.bob()), null, "id-1"), "DNS SAN bob.tenants.sampler.test");
    Metadata forged = Clients.header("x-tenant", "bob");
    forged.merge(Clients.header("tenant", "bob"));
    assertEquals(alice, served(aliceCh, forged, "id-1"), "a client-sent tenant header is ignored");
  }

  @Test
  void mtls_missingUntrustedOrTenantlessCertificate_isRefused() {
    Status none = listModels(channel(mtls, null), null);
    assertEquals(Status.Code.UNAVAILABLE, none.getCode(), "no client certificate: the handshake fails: " + none);
    Status untrusted = listModels(channel(mtls, pki.untrusted()), null);
    assertEquals(Status.Code.UNAVAILABLE, untrusted.getCode(), "untrusted CA: the handshake fails: " + untrusted);
    Status anonymous = listModels(channel(mtls, pki.anonymous()), null);
    assertEquals(Status.Code.UNAUTHENTICATED, anonymous.getCode());
    assertEquals("the client certificate names no tenant; expected a URI SAN spiffe://sampler.test/tenant/<name>"
        + " or a DNS SAN <name>.tenants.sampler.test", anonymous.getDescription());
  }

  @Test
  void mtls_tokenWhereTokensAreDisabled_isRefused() throws Exception {
    Status s = listModels(channel(mtls, pki.alice()), bearer(token(gatewayKey, "carol", "sampler", 60)));
    assertEquals(Status.Code.UNAUTHENTICATED, s.getCode());
    assertEquals("this server does not accept gateway tokens (authorization header sent)", s.getDescription());
  }

  @Test
  void gatewayToken_validFromTheGateway_tenantIsTheSubject() throws Exception {
    ManagedChannel gw = channel(gateway, pki.gateway());
    String carol = expected("carol", "id-2");
    assertEquals(carol, served(gw, bearer(token(gatewayKey, "carol", "sampler", 60)), "id-2"));
    Metadata forged = bearer(token(gatewayKey, "carol", "sampler", 60));
    forged.merge(Clients.header("x-tenant", "alice"));
    assertEquals(carol, served(gw, forged, "id-2"), "the token's sub wins over any header");
    // Optional client auth: a tenant certificate without a token still identifies its tenant.
    assertEquals(expected("alice", "id-2"), served(channel(gateway, pki.alice()), null, "id-2"));
  }

  @Test
  void gatewayToken_badTokensOrWrongPeer_failUnauthenticatedSayingWhy() throws Exception {
    ManagedChannel gw = channel(gateway, pki.gateway());
    record Case(Channel channel, Metadata headers, String message) {}
    String good = token(gatewayKey, "carol", "sampler", 60);
    String[] parts = good.split("\\.");
    List<Case> cases = List.of(
        new Case(gw, bearer(token(gatewayKey, "carol", "sampler", -3600)), "gateway token: expired"),
        new Case(gw, bearer(token(otherKey, "carol", "sampler", 60)),
            "gateway token: the signature does not verify against the gateway key"),
        new Case(gw, bearer(token(gatewayKey, "carol", "other-service", 60)),
            "gateway token: the aud claim does not include \"sampler\""),
        new Case(gw, bearer(parts[0] + "." + parts[1] + "x." + parts[2]),
            "gateway token: the signature does not verify against the gateway key"),
        new Case(gw, bearer("not-a-jws"),
            "gateway token: not a compact JWS (three base64url parts separated by dots)"),
        new Case(gw, Clients.header("authorization", "Basic Y2Fyb2w6"),
            "the authorization header must be \"Bearer <gateway token>\""),
        new Case(gw, null, "the gateway's connection must carry a gateway token (authorization: Bearer)"),
        new Case(channel(gateway, pki.alice()), bearer(good),
            "gateway tokens are accepted only on the gateway's own connection"),
        new Case(channel(gateway, null), bearer(good),
            "gateway tokens are accepted only on the gateway's own connection"),
        new Case(channel(gateway, null), Clients.header("x-tenant", "carol"),
            "no client identity: present a client certificate or a gateway token"));
    for (Case c : cases) {
      Status s = listModels(c.channel(), c.headers());
      assertEquals(Status.Code.UNAUTHENTICATED, s.getCode(), c.message() + ": " + s);
      assertEquals(c.message(), s.getDescription());
    }
  }
}
