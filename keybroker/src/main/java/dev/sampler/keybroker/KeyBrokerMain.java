package dev.sampler.keybroker;

import dev.sampler.keybroker.audit.AuditLog;
import dev.sampler.keybroker.keystore.DataKeyStore;
import dev.sampler.keybroker.keystore.InsecureDevKeyStore;
import dev.sampler.keybroker.keystore.Pkcs11KeyStore;
import dev.sampler.keybroker.keystore.Pkcs11Token;
import dev.sampler.keybroker.keystore.StoreException;
import dev.sampler.keybroker.keystore.WrappedKeyFile;
import dev.sampler.keybroker.policy.Policy;
import dev.sampler.keybroker.policy.PolicyException;
import dev.sampler.keybroker.session.RateLimiter;
import dev.sampler.keybroker.session.SessionTable;
import dev.sampler.keybroker.token.EarTokens;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Base64;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Callable;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The key broker's command line ({@code bin/keybroker}): {@code serve} runs the broker, {@code
 * init-kek} creates the key-encryption key in a PKCS#11 token, {@code import} stores a data key
 * (read from standard input) wrapped under it. Exit codes: 0 success, 1 a step failed (one line
 * on standard error names it, e.g. {@code keybroker: hsm: no token labelled 'x' in LIB}), 2 bad
 * command line.
 */
@Command(
    name = "keybroker",
    mixinStandardHelpOptions = true,
    versionProvider = KeyBrokerMain.Version.class,
    description = "Reference key broker speaking the Trustee KBS RCAR protocol; the KEK lives in a PKCS#11 token.",
    footer = {"", "Exit codes: 0 success, 1 a step failed (the message names it), 2 bad command line."},
    subcommands = {
      KeyBrokerMain.Serve.class,
      KeyBrokerMain.InitKek.class,
      KeyBrokerMain.Import.class,
      CommandLine.HelpCommand.class
    })
public final class KeyBrokerMain implements Runnable {
  private static final Logger LOG = Logger.getLogger("dev.sampler.keybroker");

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing command (try 'keybroker --help')");
  }

  /** Runs the command line and exits with its code. */
  public static void main(String[] args) {
    if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
      System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tFT%1$tT.%1$tLZ %4$s %3$s: %5$s%6$s%n");
    }
    PrintWriter out = new PrintWriter(System.out, true);
    PrintWriter err = new PrintWriter(System.err, true);
    int code = commandLine(out, err).execute(args);
    out.flush();
    err.flush();
    System.exit(code);
  }

  /** The configured command line: failures print one line and map to exit code 1. */
  static CommandLine commandLine(PrintWriter out, PrintWriter err) {
    CommandLine cl = new CommandLine(new KeyBrokerMain());
    cl.setOut(out);
    cl.setErr(err);
    cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
      if (ex instanceof IllegalArgumentException) {
        cmd.getErr().println("keybroker: " + ex.getMessage());
        cmd.getErr().flush();
        return 2;
      }
      boolean expected = ex instanceof StoreException || ex instanceof PolicyException || ex instanceof IOException
          || ex instanceof IllegalStateException;
      cmd.getErr().println("keybroker: " + (expected ? ex.getMessage() : ex.toString()));
      if (!expected || System.getenv("KEYBROKER_DEBUG") != null) {
        ex.printStackTrace(cmd.getErr());
      }
      cmd.getErr().flush();
      return 1;
    });
    return cl;
  }

  /** Reports the version recorded in the jar manifest (or "dev" when run from classes). */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"keybroker " + version() + " (Java " + Runtime.version() + ")"};
    }
  }

  static String version() {
    String v = KeyBrokerMain.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  /** {@code keybroker serve}: runs the broker until SIGTERM or SIGINT. */
  @Command(name = "serve", mixinStandardHelpOptions = true,
      description = {"Serve the KBS RCAR endpoints (plain HTTP/1.1; put a TLS proxy in front for anything but"
          + " loopback). Prints 'keybroker listening on http://HOST:PORT/kbs/v0' on stdout once bound.",
          "With --keystore dev-software, keys are read from stdin first: lines 'repo/type/tag BASE64', ended by"
          + " an empty line or end of input."})
  static final class Serve implements Callable<Integer> {
    @Option(names = "--host", paramLabel = "ADDR", description = "Address to bind (default: ${DEFAULT-VALUE}).")
    String host = "127.0.0.1";

    @Option(names = "--port", paramLabel = "N", description = "Port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int port = 8080;

    @Option(names = "--policy", paramLabel = "FILE", required = true, description = "Policy file (JSON).")
    Path policy;

    @Option(names = "--allow-sample-tee",
        description = "Accept tee 'sample' evidence (unsigned: INSECURE, development only).")
    boolean allowSampleTee;

    @Option(names = "--keystore", paramLabel = "KIND",
        description = "pkcs11 (KEK in a token, wrapped keys in --key-dir) or dev-software (keys from stdin, in"
            + " memory, INSECURE). Default: ${DEFAULT-VALUE}.")
    String keystore = "pkcs11";

    @Option(names = "--key-dir", paramLabel = "DIR", description = "Directory of wrapped keys (pkcs11 store).")
    Path keyDir;

    @Mixin HsmOptions hsm = new HsmOptions();

    @Option(names = "--session-timeout", paramLabel = "DURATION",
        description = "Session lifetime, e.g. 5m, 300s, 1500ms or PT5M (default: ${DEFAULT-VALUE}).")
    String sessionTimeout = "5m";

    @Option(names = "--token-lifetime", paramLabel = "DURATION",
        description = "Lifetime of issued tokens (default: the session timeout).")
    String tokenLifetime;

    @Option(names = "--max-sessions", paramLabel = "N", description = "Most live sessions (default: ${DEFAULT-VALUE}).")
    int maxSessions = 10_000;

    @Option(names = "--rate-limit-burst", paramLabel = "N",
        description = "Requests a client address may make at once (default: ${DEFAULT-VALUE}).")
    int burst = 60;

    @Option(names = "--rate-limit-per-minute", paramLabel = "N",
        description = "Sustained requests per minute per client address (default: ${DEFAULT-VALUE}).")
    double perMinute = 600;

    @Option(names = "--max-clients", paramLabel = "N",
        description = "Most client addresses tracked by the rate limiter (default: ${DEFAULT-VALUE}).")
    int maxClients = 10_000;

    @Option(names = "--max-connections", paramLabel = "N", description = "Most TCP connections (default: ${DEFAULT-VALUE}).")
    int maxConnections = 1024;

    @Option(names = "--audit-log", paramLabel = "FILE",
        description = "Audit log file (JSON lines, appended); '-' for stderr (default: ${DEFAULT-VALUE}).")
    String auditLog = "-";

    @Override
    public Integer call() throws Exception {
      InstantSource clock = InstantSource.system();
      Duration timeout = duration("--session-timeout", sessionTimeout);
      Duration lifetime = tokenLifetime == null ? timeout : duration("--token-lifetime", tokenLifetime);
      Policy pol = Policy.read(policy);
      if (allowSampleTee) {
        LOG.warning("INSECURE: --allow-sample-tee: tee 'sample' evidence is accepted. It is unsigned and proves"
            + " nothing about the client; use it for development only.");
      }
      SessionTable sessions = new SessionTable(timeout, maxSessions, clock);
      RateLimiter limiter = new RateLimiter(burst, perMinute, maxClients, System::nanoTime);
      DataKeyStore store = switch (keystore) {
        case "pkcs11" -> {
          if (keyDir == null) {
            throw new IllegalArgumentException("--keystore pkcs11 needs --key-dir");
          }
          yield Pkcs11KeyStore.open(hsm.open(), keyDir);
        }
        case "dev-software" -> {
          InsecureDevKeyStore s = InsecureDevKeyStore.read(
              new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII)));
          LOG.warning("INSECURE: --keystore dev-software: " + s.size() + " key(s) read from stdin are held in"
              + " process memory without an HSM; development only.");
          yield s;
        }
        default -> throw new IllegalArgumentException("--keystore must be pkcs11 or dev-software");
      };
      AuditLog audit = null;
      KeyBroker broker = null;
      try {
        audit = auditLog.equals("-") ? AuditLog.toStream(System.err, clock) : AuditLog.toFile(Path.of(auditLog), clock);
        EarTokens tokens = EarTokens.generate(lifetime, clock, pol.id(), "sampler-keybroker " + version());
        BrokerService service = new BrokerService(new BrokerService.Parts(pol, sessions, limiter, tokens, store,
            audit, allowSampleTee, clock));
        if (!InetAddress.getByName(host).isLoopbackAddress()) {
          LOG.warning("keybroker serves plain HTTP on non-loopback address " + host
              + "; put a TLS-terminating proxy in front of it");
        }
        try {
          broker = KeyBroker.start(new KeyBroker.Listen(host, port, maxConnections, Duration.ofMinutes(2)), service);
        } catch (RuntimeException e) {
          throw new IllegalStateException("listen: cannot serve on " + host + ":" + port + ": " + e.getMessage(), e);
        }
        LOG.info("keystore: " + store.description());
        LOG.info("policy " + pol.id() + " from " + policy + "; sessions " + timeout.toMillis() + " ms, at most "
            + maxSessions + "; rate limit " + burst + " burst, " + perMinute + "/min per address; audit log "
            + audit.where());
        System.out.println("keybroker listening on " + broker.baseUri());
        System.out.flush();
        CountDownLatch stop = new CountDownLatch(1);
        KeyBroker b = broker;
        AuditLog a = audit;
        Thread hook = new Thread(() -> {
          LOG.info("stopping: closing the server, the key store and the audit log");
          b.close();
          store.close();
          a.close();
          stop.countDown();
        }, "keybroker-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        stop.await();
        return 0;
      } catch (RuntimeException | Error | IOException | InterruptedException e) {
        if (broker != null) {
          broker.close();
        }
        store.close();
        if (audit != null) {
          audit.close();
        }
        throw e;
      }
    }
  }

  /** {@code keybroker init-kek}: creates the KEK in the token unless it is there. */
  @Command(name = "init-kek", mixinStandardHelpOptions = true,
      description = "Create the key-encryption key (AES-256, sensitive, non-extractable) in the token if absent.")
  static final class InitKek implements Callable<Integer> {
    @Mixin HsmOptions hsm = new HsmOptions();
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      try (Pkcs11Token token = hsm.open()) {
        if (token.hasKek()) {
          token.kek(); // checks it is usable
          spec.commandLine().getOut().println("keybroker: " + token.name() + " already holds KEK '" + hsm.kekLabel
              + "'; nothing to do");
          return 0;
        }
        token.createKek();
        spec.commandLine().getOut().println("keybroker: created KEK '" + hsm.kekLabel + "' (AES-256, sensitive,"
            + " non-extractable) in " + token.name());
        return 0;
      }
    }
  }

  /** {@code keybroker import}: stores a data key read from standard input, wrapped under the KEK. */
  @Command(name = "import", mixinStandardHelpOptions = true,
      description = {"Store a data key for a resource, wrapped under the token's KEK, as the next version.",
          "Reads exactly one line of standard base64 from stdin (what 'sampler seal --key-out -' writes); the"
          + " plaintext key is never written to disk."})
  static final class Import implements Callable<Integer> {
    @Option(names = "--resource", paramLabel = "REPO/TYPE/TAG", required = true, description = "Resource path.")
    String resource;

    @Option(names = "--key-dir", paramLabel = "DIR", required = true,
        description = "Directory of wrapped keys (created if missing).")
    Path keyDir;

    @Mixin HsmOptions hsm = new HsmOptions();
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      ResourcePath r = ResourcePath.parse(resource);
      byte[] key = readKeyLine(System.in);
      try (Pkcs11KeyStore store = Pkcs11KeyStore.openOrCreate(hsm.open(), keyDir)) {
        int version = store.importKey(r, key);
        spec.commandLine().getOut().println("keybroker: imported " + r.path() + " version " + version + " ("
            + key.length + " bytes) wrapped under KEK '" + hsm.kekLabel + "' into " + keyDir);
        return 0;
      } finally {
        Arrays.fill(key, (byte) 0);
      }
    }
  }

  /**
   * One line of standard base64 from {@code in} (a trailing newline allowed, nothing after it).
   *
   * @throws StoreException naming what is wrong ({@code import: stdin: ...}), never repeating the input
   */
  static byte[] readKeyLine(InputStream in) throws IOException, StoreException {
    int max = 4 * WrappedKeyFile.MAX_KEY_BYTES;
    byte[] raw = in.readNBytes(max + 3);
    try {
      if (raw.length > max + 2) {
        throw new StoreException("import: stdin: more than " + max + " characters; expected one base64 line");
      }
      int end = raw.length;
      if (end > 0 && raw[end - 1] == '\n') {
        end--;
      }
      if (end > 0 && raw[end - 1] == '\r') {
        end--;
      }
      for (int i = 0; i < end; i++) {
        if (raw[i] == '\n' || raw[i] == '\r') {
          throw new StoreException("import: stdin: more than one line; expected exactly one base64 line");
        }
      }
      if (end == 0) {
        throw new StoreException("import: stdin: empty; expected one line of standard base64 (the data key)");
      }
      byte[] line = Arrays.copyOf(raw, end);
      try {
        byte[] key = Base64.getDecoder().decode(line);
        if (key.length == 0 || key.length > WrappedKeyFile.MAX_KEY_BYTES) {
          Arrays.fill(key, (byte) 0);
          throw new StoreException("import: stdin: the key must be 1 to " + WrappedKeyFile.MAX_KEY_BYTES + " bytes");
        }
        return key;
      } catch (IllegalArgumentException e) {
        throw new StoreException("import: stdin: not standard base64 (RFC 4648 section 4, with padding)");
      } finally {
        Arrays.fill(line, (byte) 0);
      }
    } finally {
      Arrays.fill(raw, (byte) 0);
    }
  }

  private static final Pattern SHORT_DURATION = Pattern.compile("(\\d{1,9})(ms|s|m|h)");

  /**
   * Parses {@code 1500ms}, {@code 30s}, {@code 5m}, {@code 1h} or ISO-8601 ({@code PT5M}).
   *
   * @throws IllegalArgumentException naming the option
   */
  static Duration duration(String option, String text) {
    Matcher m = SHORT_DURATION.matcher(text);
    Duration d;
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      d = switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        default -> Duration.ofHours(n);
      };
    } else {
      try {
        d = Duration.parse(text);
      } catch (DateTimeParseException e) {
        throw new IllegalArgumentException(option + " must be a duration like 1500ms, 30s, 5m, 1h or PT5M");
      }
    }
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(option + " must be positive");
    }
    return d;
  }
}
