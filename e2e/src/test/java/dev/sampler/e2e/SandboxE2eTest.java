package dev.sampler.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.sampler.api.v1.ClassLabels;
import dev.sampler.api.v1.GenerateEvent;
import dev.sampler.api.v1.GenerateRequest;
import dev.sampler.api.v1.SamplerServiceGrpc;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The immutable run: the packaged server under bubblewrap with the whole root filesystem mounted
 * read-only, as a non-root user (uid 65532, no capabilities), with exactly one writable directory,
 * a tmpfs that {@code runtime.dir} points at. It must reach SERVING and serve a Generate: any write
 * outside the runtime directory (a native-library cache in $HOME, a temporary file in /tmp, the
 * JVM's hsperfdata) fails on the read-only root. The model runs its convolutions on oneDNN through
 * ND4J, so JavaCPP must unpack native libraries: without {@code runtime.dir} that start-up fails
 * ("cannot load ND4J with oneDNN"), checked by hand; with it they land in the tmpfs.
 *
 * <p>The model it serves is the sealed demo model: start-up verifies the signature, attests to the
 * real key broker ({@link KeyBrokerFixture}: SoftHSM2 token, its own process on loopback), unseals
 * the weights in memory and uploads them. Since / is read-only, the tmpfs is the only place the
 * server could write plaintext weights; the test (as root, through {@code /proc/<pid>/root}) reads
 * every file there and finds no 4 KiB window of them.
 *
 * <p>The recipe and its traps are in ../shared/SANDBOX.md (in the project's working notes): bwrap is
 * started by an unprivileged user (as root, {@code setpriv} drops to 65532 first, since bwrap's own
 * {@code --uid} is no real drop for root); uid 65532 cannot read under /root, so the runtime (jar,
 * lib/, the demo model, the configuration) is copied into a fresh world-readable directory under
 * /var/tmp (not /tmp: the sandbox's view of /tmp is the host's, but nothing is written there either)
 * and removed afterwards.
 *
 * <p>Skipped only when bwrap is missing outside CI; with {@code CI=true} a missing bwrap fails
 * (bin/test installs it on Debian CI machines).
 */
class SandboxE2eTest {
  private static final String UID = "65532";

  @Test
  void bubblewrap_readOnlyRootAndUid65532_reachesServingAndGenerates(@TempDir Path logs) throws Exception {
    Optional<Path> bwrap = onPath("bwrap");
    if (bwrap.isEmpty()) {
      if ("true".equalsIgnoreCase(System.getenv("CI"))) {
        fail("bubblewrap (bwrap) is not installed, and CI=true: the immutable-run test must run in CI"
            + " (bin/test installs it with apt-get when it runs as root)");
      }
      Assumptions.abort("bubblewrap (bwrap) is not installed; install it to run the immutable-run test");
    }
    boolean root = "0".equals(uid("self"));
    Optional<Path> setpriv = onPath("setpriv");
    if (root && setpriv.isEmpty()) {
      fail("running as root, so setpriv (util-linux) is needed to start bwrap as uid " + UID);
    }

    Path runtime = Files.createTempDirectory(Path.of("/var/tmp"), "sampler-sandbox-");
    KeyBrokerFixture broker = null;
    try {
      Files.setPosixFilePermissions(runtime, PosixFilePermissions.fromString("rwxr-xr-x"));
      Path home = Proc.home();
      copyTree(home.resolve("server/target/lib"), runtime.resolve("lib"));
      copyFile(home.resolve("server/target/sampler-cli.jar"), runtime.resolve("sampler-cli.jar"));
      // The zero-trust chain inside the sandbox: the demo model sealed, its data key in a SoftHSM2-backed
      // key broker (a separate process on loopback), released after (sample) attestation.
      broker = KeyBrokerFixture.start(logs.resolve("broker"));
      copyTree(broker.sealed, runtime.resolve("models/demo"));
      Path run = Files.createDirectory(runtime.resolve("run")); // the tmpfs mount point
      Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwxr-xr-x"));
      // The model's convolutions run on oneDNN through ND4J, so JavaCPP must unpack native libraries.
      // The sandbox self-check runs strict except for seccomp: bwrap here installs no filter (the
      // seccomp profile is a later issue's). uid, read-only root, no_new_privs, no capabilities hold.
      Path config = E2e.config(runtime, runtime.resolve("models/demo"), "", "    properties:\n      conv: onednn\n"
          + "    sealed-key: kbs:///" + KeyBrokerFixture.RESOURCE + "\n",
          "sandbox:\n  relax: [no-seccomp]\nattestation:\n  kbs-url: " + broker.kbsUrl
              + "\n  evidence: insecure-sample\n  timeout: PT20S\n");
      Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-r--r--"));

      List<String> cmd = new ArrayList<>();
      if (root) {
        cmd.addAll(List.of(setpriv.get().toString(), "--reuid=" + UID, "--regid=" + UID, "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all"));
      }
      cmd.addAll(List.of(bwrap.get().toString(),
          "--ro-bind", "/", "/",
          "--proc", "/proc",
          "--dev", "/dev",
          "--tmpfs", run.toString(),
          "--unshare-all", "--share-net",
          "--die-with-parent", "--new-session",
          "--cap-drop", "ALL",
          "--clearenv", "--setenv", "PATH", "/usr/bin:/bin",
          "--chdir", runtime.toString(),
          Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          // as bin/sampler runs it; -XX:+PerfDisableSharedMem keeps hsperfdata off /tmp
          "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
          "--add-modules=jdk.incubator.vector", "-XX:+PerfDisableSharedMem",
          "-cp", runtime.resolve("sampler-cli.jar") + ":" + runtime.resolve("lib") + "/*",
          "dev.sampler.server.cli.SamplerCli", "serve", "--config", config.toString()));

      try (ServerProcess server = ServerProcess.start(cmd, Map.of(), logs, "sandboxed")) {
        long java = sandboxedJava(server);
        assertEquals(UID, uid(String.valueOf(java)), "the server's uid");
        assertEquals("0000000000000000", capEff(java), "the server's effective capabilities");
        assertTrue(rootIsReadOnly(java), "/ is not mounted read-only for the server");

        ManagedChannel ch = server.channel();
        try {
          Iterator<GenerateEvent> it = SamplerServiceGrpc.newBlockingStub(ch).withDeadlineAfter(2, TimeUnit.MINUTES)
              .generate(GenerateRequest.newBuilder().setModel("demo").setScheduler("dpmpp-2m-karras").setSteps(4)
                  .setGuidanceScale(3).setClassLabels(ClassLabels.newBuilder().addLabels(0).addLabels(5))
                  .setRequestId("sandboxed-1").build());
          GenerateEvent last = null;
          for (int i = 0; i < 1000 && it.hasNext(); i++) {
            last = it.next();
          }
          assertTrue(last != null && last.hasCompleted(), "no Completed event: " + last + "\n" + server.proc.err());
          assertEquals(2, last.getCompleted().getImagesCount());
          for (var img : last.getCompleted().getImagesList()) {
            assertEquals(32, E2e.decode(img.getPng().toByteArray()).getWidth());
          }
        } finally {
          ServerProcess.shutdown(ch);
        }
        if (root) {
          // Root may look into the sandbox's mount namespace: JavaCPP unpacked ND4J's native
          // libraries into the runtime directory's tmpfs, not into $HOME/.javacpp.
          Path cache = Path.of("/proc", String.valueOf(java), "root").resolve(run.toString().substring(1)).resolve("javacpp");
          try (Stream<Path> files = Files.walk(cache)) {
            assertTrue(files.anyMatch(f -> f.getFileName().toString().endsWith(".so")),
                "no native library in the runtime directory's JavaCPP cache " + cache);
          }
        }
        String err = server.proc.err();
        assertTrue(err.contains("key broker released resource kbs:///" + KeyBrokerFixture.RESOURCE), err);
        if (root) {
          // Plaintext weights never touch disk: / is read-only for the server, so the runtime
          // directory's tmpfs is the only place it could have written them, and it holds none.
          TrustE2eTest.assertNoPlaintext(Path.of("/proc", String.valueOf(java), "root").resolve(run.toString().substring(1)),
              Files.readAllBytes(E2e.demoModel().resolve("diffusion_pytorch_model.safetensors")));
        }
        assertFalse(err.contains("Read-only file system"), "something tried to write outside the runtime directory:\n" + err);
        assertFalse(err.contains("Permission denied"), err);
      }
    } finally {
      if (broker != null) {
        broker.close();
      }
      deleteTree(runtime);
    }
  }

  /** The JVM inside the sandbox: the descendant of the bwrap process tree that runs java. */
  private static long sandboxedJava(ServerProcess server) {
    return server.proc.process.descendants()
        .filter(p -> p.info().command().map(c -> c.endsWith("/java")).orElse(false))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no java process under bwrap"))
        .pid();
  }

  /** The real uid of a process ("self" for this one), from /proc. */
  private static String uid(String pid) throws IOException {
    return statusField(pid, "Uid:").split("\\s+")[0];
  }

  private static String capEff(long pid) throws IOException {
    return statusField(String.valueOf(pid), "CapEff:");
  }

  private static String statusField(String pid, String field) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", pid, "status"))) {
      if (line.startsWith(field)) {
        return line.substring(field.length()).strip();
      }
    }
    throw new AssertionError(field + " not in /proc/" + pid + "/status");
  }

  /** Whether the process's view of / is a read-only mount (field 6 of its mountinfo line). */
  private static boolean rootIsReadOnly(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "mountinfo"))) {
      String[] f = line.split(" ");
      if (f.length > 5 && f[4].equals("/")) {
        return List.of(f[5].split(",")).contains("ro");
      }
    }
    throw new AssertionError("no / mount in /proc/" + pid + "/mountinfo");
  }

  private static Optional<Path> onPath(String name) {
    String path = Optional.ofNullable(System.getenv("PATH")).orElse("/usr/bin:/bin") + ":/usr/sbin:/sbin";
    for (String d : path.split(":")) {
      Path p = Path.of(d, name);
      if (!d.isEmpty() && Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /** Hard-links (same filesystem) or copies a file, world-readable. */
  private static void copyFile(Path from, Path to) throws IOException {
    Files.createDirectories(to.getParent());
    try {
      Files.createLink(to, from);
    } catch (IOException | UnsupportedOperationException e) {
      Files.copy(from, to);
    }
    if (!Files.getPosixFilePermissions(to).containsAll(PosixFilePermissions.fromString("r--r--r--"))) {
      // a link shares the original's mode: copy instead of loosening the checkout's file
      Files.delete(to);
      Files.copy(from, to);
      Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("rw-r--r--"));
    }
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : s.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
          Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
        } else {
          copyFile(p, target);
        }
      }
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
