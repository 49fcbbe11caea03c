package dev.sampler.attestation.kbs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.attestation.AttestationException;
import dev.sampler.attestation.EvidenceProvider;
import dev.sampler.attestation.TeeKeyPair;
import dev.sampler.attestation.internal.Codec;
import dev.sampler.attestation.kbs.KbsException.Step;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;

/**
 * The client side of Trustee's KBS RCAR handshake (PROTOCOLS.md B1-B6), fetching one resource:
 *
 * <ol>
 *   <li>{@code POST {base}/auth} with the {@link Request} for the provider's tee; read the {@link
 *       Challenge} and the {@code kbs-session-id} cookie.
 *   <li>Generate an ephemeral {@link TeeKeyPair}; bind it and the nonce into the report data
 *       ({@link RcarBinding}); ask the {@link EvidenceProvider} for evidence over it.
 *   <li>{@code POST {base}/attest} with the {@link Attestation} and the cookie.
 *   <li>{@code GET {base}/resource/<repo>/<type>/<tag>} with the cookie.
 *   <li>Decrypt the JWE with the ephemeral private key, destroy the key pair, return the plaintext.
 * </ol>
 *
 * <p>Transport: {@link HttpClient} over HTTP/1.1, no redirects. Plain http only to a loopback host
 * ({@code localhost}, 127.0.0.0/8, ::1); otherwise https with the JDK's trust store or a configured
 * CA ({@link #trustingCaCertificates}). The timeout applies to each request separately (connect,
 * headers and body). Bodies are capped ({@value #MAX_BODY_BYTES} bytes).
 *
 * <p>Every failure is a {@link KbsException} naming the step, the HTTP status and the broker's
 * error Variant (parsed from its error body); response bodies, nonces and key bytes never go into
 * a message or a log. Thread-safe: each {@link #fetchResource} call runs its own handshake.
 */
public final class KbsClient implements AutoCloseable {
  /** The largest response body read from the broker. */
  public static final int MAX_BODY_BYTES = 16 * 1024 * 1024;

  private static final System.Logger LOG = System.getLogger(KbsClient.class.getName());
  private static final Pattern COOKIE_VALUE = Pattern.compile("[A-Za-z0-9_-]{1,128}");
  private static final int MAX_NONCE_CHARS = 4096;

  private final String base;
  private final EvidenceProvider provider;
  private final Duration timeout;
  private final HttpClient http;

  /**
   * A client using the JDK's default trust store for https.
   *
   * @param kbsBase the broker's API base, e.g. {@code http://127.0.0.1:8080/kbs/v0}
   * @param provider the evidence provider (its {@code tee()} goes into the Request)
   * @param timeout the limit for each request (connect, response headers and body)
   * @throws IllegalArgumentException if the URL is not http(s), uses http to a non-loopback host,
   *     has a query or fragment, or the timeout is not positive
   */
  public KbsClient(URI kbsBase, EvidenceProvider provider, Duration timeout) {
    this(kbsBase, provider, timeout, null);
  }

  /**
   * A client trusting {@code tls} for https (e.g. from {@link #trustingCaCertificates}); null means
   * the JDK's default trust store.
   *
   * @throws IllegalArgumentException as {@link #KbsClient(URI, EvidenceProvider, Duration)}
   */
  public KbsClient(URI kbsBase, EvidenceProvider provider, Duration timeout, SSLContext tls) {
    this.base = checkBase(Objects.requireNonNull(kbsBase, "kbsBase"));
    this.provider = Objects.requireNonNull(provider, "provider");
    this.timeout = Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("key broker timeout must be positive, got " + timeout);
    }
    HttpClient.Builder b =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(timeout);
    if (tls != null) {
      b.sslContext(tls);
    }
    this.http = b.build();
  }

  /**
   * An SSLContext that trusts exactly the X.509 certificates in a PEM file (a private CA for the
   * broker).
   *
   * @throws AttestationException if the file cannot be read or holds no certificate
   */
  public static SSLContext trustingCaCertificates(Path caPem) throws AttestationException {
    try (InputStream in = Files.newInputStream(caPem)) {
      Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
      if (certs.isEmpty()) {
        throw new AttestationException("key broker CA file holds no certificate: " + caPem);
      }
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      int i = 0;
      for (Certificate c : certs) {
        ks.setCertificateEntry("ca-" + i++, c);
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ks);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      return ctx;
    } catch (IOException | GeneralSecurityException e) {
      throw new AttestationException("key broker CA file cannot be used: " + caPem + " (" + e.getClass().getSimpleName() + ")", e);
    }
  }

  /** The broker's API base, without a trailing slash. */
  public URI base() {
    return URI.create(base);
  }

  /**
   * Runs one RCAR handshake and returns the resource's plaintext.
   *
   * @return the plaintext bytes; the caller owns them and should wipe them when done
   * @throws KbsException naming the failed step, HTTP status and the broker's error Variant
   */
  public byte[] fetchResource(ResourceId id) throws KbsException {
    Objects.requireNonNull(id, "id");
    String tee;
    try {
      tee = provider.tee();
    } catch (RuntimeException e) {
      throw new KbsException(Step.AUTH, 0, null,
          KbsException.describe(Step.AUTH, 0, null, "cannot determine the TEE type: " + e.getMessage()), e);
    }

    // 1. auth
    String authUrl = base + KbsProtocol.AUTH_PATH;
    Reply auth = send(Step.AUTH, post(authUrl, Request.of(tee).toJson(), null), "POST " + authUrl);
    expectOk(Step.AUTH, auth, "POST " + authUrl);
    JsonNode challengeJson = json(Step.AUTH, auth, "Challenge");
    Challenge challenge;
    try {
      challenge = Challenge.fromJson(challengeJson);
    } catch (AttestationException e) {
      throw bad(Step.AUTH, auth, e.getMessage());
    }
    if (challenge.nonce().isEmpty() || challenge.nonce().length() > MAX_NONCE_CHARS) {
      throw bad(Step.AUTH, auth, "the Challenge nonce is empty or longer than " + MAX_NONCE_CHARS + " characters");
    }
    String session =
        sessionCookie(auth.response)
            .orElseThrow(() -> bad(Step.AUTH, auth, "the response sets no valid " + KbsProtocol.SESSION_COOKIE + " cookie"));

    TeeKeyPair keys = TeeKeyPair.generate();
    try {
      // 2. evidence bound to the nonce and the ephemeral key
      ObjectNode jwk = keys.publicJwk();
      String hash;
      try {
        hash = challenge.hashAlgorithm();
      } catch (AttestationException e) {
        throw bad(Step.AUTH, auth, e.getMessage());
      }
      byte[] reportData = RcarBinding.reportData(challenge.nonce(), jwk, "", hash);
      JsonNode evidence;
      try {
        evidence = provider.evidence(reportData);
      } catch (AttestationException e) {
        throw new KbsException(Step.ATTEST, 0, null,
            KbsException.describe(Step.ATTEST, 0, null, "evidence collection failed: " + e.getMessage()), e);
      }

      // 3. attest
      String attestUrl = base + KbsProtocol.ATTEST_PATH;
      Attestation attestation =
          new Attestation(
              NullNode.getInstance(),
              new Attestation.RuntimeData(challenge.nonce(), jwk),
              new Attestation.CompositeEvidence(evidence, ""));
      Reply attest = send(Step.ATTEST, post(attestUrl, attestation.toJson(), session), "POST " + attestUrl);
      expectOk(Step.ATTEST, attest, "POST " + attestUrl);
      JsonNode token = json(Step.ATTEST, attest, "attestation response");
      if (!token.path("token").isTextual()) {
        throw bad(Step.ATTEST, attest, "the attestation response has no string token");
      }
      session = sessionCookie(attest.response).orElse(session);

      // 4. resource
      String resourceUrl = base + KbsProtocol.RESOURCE_PATH + id.path();
      HttpRequest get =
          HttpRequest.newBuilder(URI.create(resourceUrl))
              .timeout(timeout)
              .header("Accept", KbsProtocol.JSON_MEDIA_TYPE)
              .header("Cookie", KbsProtocol.SESSION_COOKIE + "=" + session)
              .GET()
              .build();
      Reply resource = send(Step.RESOURCE, get, "GET " + resourceUrl);
      expectOk(Step.RESOURCE, resource, "GET " + resourceUrl);

      // 5. unwrap
      byte[] plaintext;
      try {
        plaintext = keys.decrypt(new String(resource.body, StandardCharsets.UTF_8));
      } catch (AttestationException e) {
        throw new KbsException(Step.UNWRAP, 200, null,
            KbsException.describe(Step.UNWRAP, 200, null, e.getMessage() + " (resource " + id + ")"), e);
      }
      LOG.log(System.Logger.Level.INFO, "key broker released resource {0} after {1} attestation ({2} bytes)",
          id, tee, plaintext.length);
      return plaintext;
    } finally {
      keys.destroy();
    }
  }

  /** Releases the HTTP client's resources. */
  @Override
  public void close() {
    http.close();
  }

  private HttpRequest post(String url, JsonNode body, String session) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url))
            .timeout(timeout)
            .header("Content-Type", KbsProtocol.JSON_MEDIA_TYPE)
            .header("Accept", KbsProtocol.JSON_MEDIA_TYPE)
            .POST(HttpRequest.BodyPublishers.ofString(Codec.write(body), StandardCharsets.UTF_8));
    if (session != null) {
      b.header("Cookie", KbsProtocol.SESSION_COOKIE + "=" + session);
    }
    return b.build();
  }

  private record Reply(HttpResponse<byte[]> response, byte[] body, int status) {}

  private Reply send(Step step, HttpRequest request, String what) throws KbsException {
    CompletableFuture<HttpResponse<byte[]>> f = http.sendAsync(request, info -> new CappedBody(MAX_BODY_BYTES));
    try {
      // The outer wait bounds the whole exchange, body included (HttpRequest.timeout stops at headers).
      HttpResponse<byte[]> r = f.get(timeout.toNanos() + TimeUnit.MILLISECONDS.toNanos(50), TimeUnit.NANOSECONDS);
      return new Reply(r, r.body(), r.statusCode());
    } catch (TimeoutException e) {
      f.cancel(true);
      throw timedOut(step, what, e);
    } catch (InterruptedException e) {
      f.cancel(true);
      Thread.currentThread().interrupt();
      throw new KbsException(step, 0, null, KbsException.describe(step, 0, null, "interrupted during " + what), e);
    } catch (ExecutionException e) {
      throw transportFailure(step, what, e.getCause());
    }
  }

  private KbsException transportFailure(Step step, String what, Throwable cause) {
    Throwable c = cause;
    while (c != null) {
      if (c instanceof HttpConnectTimeoutException) {
        return unreachable("connect timed out after " + timeout, what, cause);
      }
      if (c instanceof HttpTimeoutException) {
        return timedOut(step, what, cause);
      }
      if (c instanceof ConnectException) {
        String m = c.getMessage();
        boolean refused = m == null || m.toLowerCase(Locale.ROOT).contains("refused");
        return unreachable(refused ? "connection refused" : "connect failed (" + m + ")", what, cause);
      }
      if (c instanceof SSLException) {
        return unreachable("TLS handshake failed (" + c.getMessage() + ")", what, cause);
      }
      if (c instanceof BodyTooLargeException) {
        return new KbsException(step, 0, null, KbsException.describe(step, 0, null,
            "the response body of " + what + " exceeds " + MAX_BODY_BYTES + " bytes"), cause);
      }
      c = c.getCause();
    }
    return new KbsException(step, 0, null, KbsException.describe(step, 0, null,
        "I/O failure during " + what + " (" + (cause == null ? "unknown" : cause.getClass().getSimpleName()) + ")"), cause);
  }

  private KbsException unreachable(String why, String what, Throwable cause) {
    return new KbsException(Step.CONNECT, 0, null,
        "key broker at " + base + " is not reachable: " + why + " (step CONNECT, " + what + ")", cause);
  }

  private KbsException timedOut(Step step, String what, Throwable cause) {
    return new KbsException(step, 0, null,
        KbsException.describe(step, 0, null, "no complete response to " + what + " within " + timeout), cause);
  }

  private static void expectOk(Step step, Reply reply, String what) throws KbsException {
    if (reply.status == 200) {
      return;
    }
    String variant =
        Codec.parse(reply.body).flatMap(ErrorInformation::fromJson).flatMap(ErrorInformation::variant).orElse(null);
    String why = "the broker refused " + what + (variant == null ? " (no KBS error body)" : "");
    throw new KbsException(step, reply.status, variant, KbsException.describe(step, reply.status, variant, why), null);
  }

  private static JsonNode json(Step step, Reply reply, String what) throws KbsException {
    return Codec.parse(reply.body)
        .filter(JsonNode::isObject)
        .orElseThrow(() -> bad(step, reply, "the " + what + " is not a JSON object"));
  }

  private static KbsException bad(Step step, Reply reply, String why) {
    return new KbsException(step, reply.status, null, KbsException.describe(step, reply.status, null, why), null);
  }

  private static Optional<String> sessionCookie(HttpResponse<?> response) {
    String prefix = KbsProtocol.SESSION_COOKIE + "=";
    for (String header : response.headers().allValues("set-cookie")) {
      String first = header.split(";", 2)[0].strip();
      if (first.startsWith(prefix)) {
        String value = first.substring(prefix.length());
        if (COOKIE_VALUE.matcher(value).matches()) {
          return Optional.of(value);
        }
      }
    }
    return Optional.empty();
  }

  private static String checkBase(URI uri) {
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw new IllegalArgumentException("key broker URL must be http or https, e.g. https://kbs.example:8080/kbs/v0");
    }
    if (uri.getHost() == null) {
      throw new IllegalArgumentException("key broker URL has no host");
    }
    if (uri.getRawQuery() != null || uri.getRawFragment() != null || uri.getRawUserInfo() != null) {
      throw new IllegalArgumentException("key broker URL must not have user info, a query or a fragment");
    }
    if (scheme.equals("http") && !isLoopback(uri.getHost())) {
      throw new IllegalArgumentException(
          "key broker URL uses plain http to a non-loopback host; use https (http is allowed only for localhost, 127.0.0.0/8 and ::1)");
    }
    String s = uri.toString();
    while (s.endsWith("/")) {
      s = s.substring(0, s.length() - 1);
    }
    return s;
  }

  private static boolean isLoopback(String host) {
    if (host.equalsIgnoreCase("localhost")) {
      return true;
    }
    String literal = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    try {
      return InetAddress.ofLiteral(literal).isLoopbackAddress(); // never a DNS lookup
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static final class BodyTooLargeException extends IOException {
    private static final long serialVersionUID = 1L;

    BodyTooLargeException() {
      super("response body too large");
    }
  }

  /** Collects a body up to a cap; beyond it, cancels and fails. */
  private static final class CappedBody implements HttpResponse.BodySubscriber<byte[]> {
    private final int cap;
    private final CompletableFuture<byte[]> result = new CompletableFuture<>();
    private final List<byte[]> chunks = new ArrayList<>();
    private int size;
    private Flow.Subscription subscription;

    CappedBody(int cap) {
      this.cap = cap;
    }

    @Override
    public CompletionStage<byte[]> getBody() {
      return result;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
      subscription = s;
      s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(List<ByteBuffer> items) {
      if (result.isDone()) {
        return;
      }
      for (ByteBuffer b : items) {
        if (size + (long) b.remaining() > cap) {
          subscription.cancel();
          result.completeExceptionally(new BodyTooLargeException());
          return;
        }
        byte[] c = new byte[b.remaining()];
        b.get(c);
        chunks.add(c);
        size += c.length;
      }
    }

    @Override
    public void onError(Throwable t) {
      result.completeExceptionally(t);
    }

    @Override
    public void onComplete() {
      byte[] all = new byte[size];
      int off = 0;
      for (byte[] c : chunks) {
        System.arraycopy(c, 0, all, off, c.length);
        off += c.length;
      }
      result.complete(all);
    }
  }
}
