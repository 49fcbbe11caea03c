package dev.sampler.server.cli;

import io.grpc.CallCredentials;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.SecurityLevel;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Option;

/**
 * How to reach a sampler server: the address, the channel security (TLS by default, mTLS with
 * a client certificate, or explicit plaintext) and the per-call settings (gateway token,
 * deadline). Picocli fills the fields; {@link #connect()} checks the combination and opens the
 * channel.
 *
 * <p>Secrets: the token is read from a file (never a command-line value, which other local users
 * see in the process list), sent only as the {@code authorization} header, and refused over a
 * plaintext channel unless the target is this machine's loopback.
 */
final class TargetOptions {
  /** Largest reply the client accepts: 256 images with previews stay far below this. */
  static final int MAX_INBOUND_BYTES = 64 << 20;

  static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  static {
    // The shaded Netty logs through SLF4J when it finds it on the class path (ND4J brings
    // slf4j-api without a binding, which prints three warning lines on every run): use JUL instead.
    io.grpc.netty.shaded.io.netty.util.internal.logging.InternalLoggerFactory.setDefaultFactory(
        io.grpc.netty.shaded.io.netty.util.internal.logging.JdkLoggerFactory.INSTANCE);
  }

  @Option(names = "--target", paramLabel = "HOST:PORT",
      description = "the server to call (IPv6 as [ADDR]:PORT); TLS unless --plaintext")
  String target;

  @Option(names = "--plaintext", description = "no TLS (only for loopback or a trusted sidecar; the default is TLS)")
  boolean plaintext;

  @Option(names = "--ca", paramLabel = "FILE", description = "PEM CA certificate(s) to verify the server with (default: the JDK's trust store)")
  Path ca;

  @Option(names = "--cert", paramLabel = "FILE", description = "PEM client certificate chain for mTLS (with --key)")
  Path cert;

  @Option(names = "--key", paramLabel = "FILE", description = "PEM PKCS#8 private key of --cert")
  Path key;

  @Option(names = "--token-file", paramLabel = "FILE",
      description = "gateway token, sent as 'authorization: Bearer <token>'; refused over --plaintext to a non-loopback target")
  Path tokenFile;

  @Option(names = "--deadline", paramLabel = "DURATION", defaultValue = "10m",
      description = "deadline for the whole call: 500ms, 30s, 5m, 1h or ISO-8601 (PT30S) (default: ${DEFAULT-VALUE})")
  String deadline = "10m";

  /** An open channel plus the per-call settings that go with it. Close it when done. */
  record Connection(GrpcTarget target, ManagedChannel channel, CallCredentials credentials, Duration deadline, boolean secure)
      implements AutoCloseable {
    /** Shuts the channel down, waiting a bounded time for in-flight RPCs to end (they were cancelled or done). */
    @Override
    public void close() {
      channel.shutdownNow();
      try {
        channel.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Checks the options and opens a channel to the target (lazily: nothing connects until the
   * first call, so an unreachable server shows up as UNAVAILABLE from that call).
   *
   * @throws IllegalArgumentException when options contradict each other or a value is malformed
   * @throws IOException when a certificate, key or token file cannot be read or parsed
   */
  Connection connect() throws IOException {
    if (target == null) {
      throw new IllegalArgumentException("--target is required");
    }
    GrpcTarget t = GrpcTarget.parse(target);
    Duration d = parseDuration(deadline);
    if ((cert == null) != (key == null)) {
      throw new IllegalArgumentException("--cert and --key go together (mTLS needs both)");
    }
    ChannelCredentials creds;
    if (plaintext) {
      if (ca != null || cert != null) {
        throw new IllegalArgumentException("--plaintext contradicts --ca/--cert/--key (they configure TLS)");
      }
      creds = InsecureChannelCredentials.create();
    } else {
      TlsChannelCredentials.Builder tls = TlsChannelCredentials.newBuilder();
      if (ca != null) {
        tls.trustManager(readable(ca, "--ca").toFile());
      }
      if (cert != null) {
        tls.keyManager(readable(cert, "--cert").toFile(), readable(key, "--key").toFile());
      }
      creds = tls.build();
    }
    CallCredentials callCreds = null;
    if (tokenFile != null) {
      if (plaintext && !t.isLoopback()) {
        throw new IllegalArgumentException("--token-file with --plaintext is only allowed to a loopback target: "
            + "the token would cross the network in clear");
      }
      callCreds = new BearerToken(readToken(tokenFile), t.isLoopback());
    }
    ManagedChannel ch = Grpc.newChannelBuilderForAddress(t.host(), t.port(), creds)
        .maxInboundMessageSize(MAX_INBOUND_BYTES)
        .userAgent("sampler-cli")
        .build();
    return new Connection(t, ch, callCreds, d, !plaintext);
  }

  /** A plaintext loopback connection (the in-process demo server). */
  static Connection loopback(int port, Duration deadline) {
    GrpcTarget t = new GrpcTarget("127.0.0.1", port);
    ManagedChannel ch = Grpc.newChannelBuilderForAddress(t.host(), t.port(), InsecureChannelCredentials.create())
        .maxInboundMessageSize(MAX_INBOUND_BYTES)
        .userAgent("sampler-cli")
        .build();
    return new Connection(t, ch, null, deadline, false);
  }

  private static Path readable(Path p, String option) throws IOException {
    if (!Files.isReadable(p)) {
      throw new IOException(option + ": cannot read " + p);
    }
    return p;
  }

  /** Reads a token: one line of visible ASCII (what an HTTP header value may carry). */
  static String readToken(Path file) throws IOException {
    String token = Files.readString(readable(file, "--token-file"), StandardCharsets.US_ASCII).strip();
    if (token.isEmpty()) {
      throw new IllegalArgumentException("--token-file " + file + " is empty");
    }
    if (token.length() > 8192 || !token.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
      throw new IllegalArgumentException("--token-file " + file
          + ": a token must be one line of at most 8192 visible ASCII characters (value not shown)");
    }
    return token;
  }

  private static final Pattern SIMPLE_DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");

  /**
   * Parses a positive duration of at most 24 hours: {@code 500ms}, {@code 30s}, {@code 5m},
   * {@code 1h} or ISO-8601 ({@code PT1M30S}).
   *
   * @throws IllegalArgumentException naming the value and the accepted forms
   */
  static Duration parseDuration(String text) {
    Duration d;
    Matcher m = SIMPLE_DURATION.matcher(text.strip().toLowerCase(Locale.ROOT));
    try {
      if (m.matches()) {
        long n = Long.parseLong(m.group(1));
        d = switch (m.group(2)) {
          case "ms" -> Duration.ofMillis(n);
          case "s" -> Duration.ofSeconds(n);
          case "m" -> Duration.ofMinutes(n);
          default -> Duration.ofHours(n);
        };
      } else {
        d = Duration.parse(text.strip().toUpperCase(Locale.ROOT));
      }
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("--deadline: \"" + text + "\" is not a duration (examples: 500ms, 30s, 5m, 1h, PT1M30S)");
    }
    if (d.isNegative() || d.isZero() || d.compareTo(Duration.ofHours(24)) > 0) {
      throw new IllegalArgumentException("--deadline must be more than 0 and at most 24h, got " + text);
    }
    return d;
  }

  /**
   * The gateway token as call credentials. It re-checks the channel's security per call: over a
   * channel without privacy the token is sent only to loopback, otherwise the call fails
   * UNAUTHENTICATED before anything is sent.
   */
  private static final class BearerToken extends CallCredentials {
    private final String header;
    private final boolean loopback;

    BearerToken(String token, boolean loopback) {
      this.header = "Bearer " + token;
      this.loopback = loopback;
    }

    @Override
    public void applyRequestMetadata(RequestInfo info, Executor appExecutor, MetadataApplier applier) {
      if (info.getSecurityLevel() != SecurityLevel.PRIVACY_AND_INTEGRITY && !loopback) {
        applier.fail(Status.UNAUTHENTICATED.withDescription("refusing to send the token over a channel without TLS"));
        return;
      }
      Metadata m = new Metadata();
      m.put(AUTHORIZATION, header);
      applier.apply(m);
    }

    @Override
    public String toString() {
      return "BearerToken[redacted]";
    }
  }
}
