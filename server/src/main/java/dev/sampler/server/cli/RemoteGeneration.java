package dev.sampler.server.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import com.google.protobuf.Duration;
import dev.sampler.api.v1.CheckerVerdict;
import dev.sampler.api.v1.Completed;
import dev.sampler.api.v1.Failed;
import dev.sampler.api.v1.GenerateEvent;
import dev.sampler.api.v1.GenerateRequest;
import dev.sampler.api.v1.GenerationMetadata;
import dev.sampler.api.v1.Image;
import dev.sampler.api.v1.NoiseSource;
import dev.sampler.api.v1.Preview;
import dev.sampler.api.v1.SamplerServiceGrpc;
import dev.sampler.rng.InsecureSeedAccess;
import dev.sampler.rng.SecretSeed;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * One Generate call to a sampler server, shared by {@code generate --target} and {@code demo}:
 * sends the request, drives the progress bar from Accepted and Progress events, optionally writes
 * previews, and returns the Completed event's images and metadata after checking them (every
 * image present once, in order, its PNG digest equal to the server's {@code png_sha256}).
 *
 * <p>Failures: a call that ends with a non-OK status (before or after Accepted) becomes a
 * {@link RemoteCallException} with that status; a reply that does not check out becomes one with
 * exit code {@link ExitCode#SERVER}. Ctrl-C (when asked for) cancels the call, which the server
 * sees as a cancelled stream and frees the request's slot.
 */
final class RemoteGeneration {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Extra time the client waits past the call's deadline before giving up on the transport itself. */
  private static final long WAIT_GRACE_SECONDS = 30;

  /** Receives previews as they arrive (on the gRPC thread); may throw to abort the call. */
  interface PreviewSink {
    /** One preview of image {@code preview.getIndex()} after {@code step} model evaluations. */
    void accept(int step, Preview preview) throws IOException;
  }

  /** What a completed call returned, checked. */
  record Output(String requestId, String model, List<Image> images, GenerationMetadata metadata, long wallNanos) {
    /** Images the checker saw as their requested class. */
    int matches() {
      int n = 0;
      for (Image i : images) {
        if (i.getChecker().getResult() == CheckerVerdict.Result.MATCH) {
          n++;
        }
      }
      return n;
    }
  }

  private RemoteGeneration() {}

  /**
   * Puts the replay seed (if any) into the request. The plain copy this needs is zeroed at once;
   * the request's own immutable copy lives until the request is sent and collected.
   */
  static void setSeed(GenerateRequest.Builder request, SecretSeed seed) {
    if (seed == null) {
      return;
    }
    byte[] raw = seed.toByteArray(InsecureSeedAccess.get());
    try {
      request.setSeed(ByteString.copyFrom(raw));
    } finally {
      Arrays.fill(raw, (byte) 0);
    }
  }

  /**
   * Runs one Generate call and waits (bounded by the connection's deadline plus a grace period)
   * for its end.
   *
   * @param previews where previews go, or null
   * @param cancelOnCtrlC install a shutdown hook that cancels the call on Ctrl-C / SIGTERM
   * @throws RemoteCallException the call failed or its reply does not check out
   * @throws IOException the preview sink failed (the call was cancelled)
   */
  static Output call(TargetOptions.Connection c, GenerateRequest request, ProgressBar bar, PreviewSink previews,
      boolean cancelOnCtrlC) throws RemoteCallException, IOException, InterruptedException {
    SamplerServiceGrpc.SamplerServiceStub stub = SamplerServiceGrpc.newStub(c.channel())
        .withDeadlineAfter(c.deadline().toMillis(), TimeUnit.MILLISECONDS);
    if (c.credentials() != null) {
      stub = stub.withCallCredentials(c.credentials());
    }
    Events events = new Events(bar, previews);
    long t0 = System.nanoTime();
    Thread hook = null;
    if (cancelOnCtrlC) {
      hook = new Thread(() -> events.cancelByUser(c), "sampler-cancel-on-interrupt");
      Runtime.getRuntime().addShutdownHook(hook);
    }
    try {
      stub.generate(request, events);
      if (!events.done.await(c.deadline().toSeconds() + WAIT_GRACE_SECONDS, TimeUnit.SECONDS)) {
        events.cancel("the client gave up waiting");
        throw new RemoteCallException(Status.Code.DEADLINE_EXCEEDED,
            "no end of the call " + WAIT_GRACE_SECONDS + " s after its deadline", ExitCode.DEADLINE);
      }
    } catch (InterruptedException e) {
      events.cancel("the client was interrupted");
      throw e;
    } finally {
      bar.finish();
      if (hook != null) {
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
          // the hook is running (Ctrl-C): it cancels the call itself
        }
      }
    }
    return events.result(request.getModel(), System.nanoTime() - t0);
  }

  /** The stream's observer: collects events; {@link #done} opens when the call has ended. */
  private static final class Events implements ClientResponseObserver<GenerateRequest, GenerateEvent> {
    final CountDownLatch done = new CountDownLatch(1);
    private final ProgressBar bar;
    private final PreviewSink previews;
    private volatile ClientCallStreamObserver<GenerateRequest> call;
    private volatile boolean userCancelled;
    private volatile IOException localFailure;
    private String requestId = "";
    private Completed completed;
    private Failed failed;
    private Status status;

    Events(ProgressBar bar, PreviewSink previews) {
      this.bar = bar;
      this.previews = previews;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<GenerateRequest> requestStream) {
      call = requestStream;
    }

    @Override
    public void onNext(GenerateEvent e) {
      switch (e.getEventCase()) {
        case ACCEPTED -> {
          requestId = e.getAccepted().getRequestId();
          bar.accepted(requestId, Integer.toUnsignedLong(e.getAccepted().getQueuePosition()), e.getAccepted().getImageCount());
        }
        case PROGRESS -> {
          bar.step(e.getProgress().getStep(), e.getProgress().getTotalSteps());
          if (previews != null && localFailure == null) {
            try {
              for (Preview p : e.getProgress().getPreviewsList()) {
                previews.accept(e.getProgress().getStep(), p);
              }
            } catch (IOException ex) {
              localFailure = ex;
              cancel("the client could not store a preview");
            }
          }
        }
        case COMPLETED -> completed = e.getCompleted();
        case FAILED -> failed = e.getFailed();
        case EVENT_NOT_SET -> {
          // an event kind newer than this client: ignored, as the contract's "fields are only added" allows
        }
      }
    }

    @Override
    public void onError(Throwable t) {
      status = Status.fromThrowable(t);
      done.countDown();
    }

    @Override
    public void onCompleted() {
      status = Status.OK;
      done.countDown();
    }

    void cancel(String why) {
      ClientCallStreamObserver<GenerateRequest> c = call;
      if (c != null && done.getCount() > 0) {
        c.cancel(why, null);
      }
    }

    /** Shutdown hook: cancel, then close the channel so the server sees the reset before the JVM exits. */
    void cancelByUser(TargetOptions.Connection c) {
      if (done.getCount() == 0) {
        return;
      }
      userCancelled = true;
      cancel("cancelled by the user");
      try {
        done.await(2, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      bar.finish();
      c.close();
    }

    Output result(String model, long wallNanos) throws RemoteCallException, IOException {
      if (localFailure != null) {
        throw localFailure;
      }
      if (userCancelled) {
        throw new RemoteCallException(Status.Code.CANCELLED, "cancelled by the user", ExitCode.CANCELLED);
      }
      if (!status.isOk()) {
        throw new RemoteCallException(status);
      }
      if (failed != null) {
        // The contract ends a failed call with the same status; a server that ends it OK after
        // Failed still failed the request.
        Status s = Status.fromCodeValue(failed.getCode()).withDescription(failed.getMessage());
        throw new RemoteCallException(s.isOk() ? Status.INTERNAL.withDescription(failed.getMessage()) : s);
      }
      if (completed == null) {
        throw new RemoteCallException(Status.Code.INTERNAL, "the server ended the stream without a Completed event",
            ExitCode.SERVER);
      }
      List<Image> images = completed.getImagesList();
      for (int k = 0; k < images.size(); k++) {
        Image img = images.get(k);
        if (img.getIndex() != k) {
          throw new RemoteCallException(Status.Code.DATA_LOSS,
              "image " + k + " of the reply carries index " + img.getIndex(), ExitCode.SERVER);
        }
        if (!sha256(img.getPng().toByteArray()).equals(img.getPngSha256())) {
          throw new RemoteCallException(Status.Code.DATA_LOSS,
              "image " + k + ": the PNG's SHA-256 differs from the png_sha256 the server sent", ExitCode.SERVER);
        }
      }
      String id = completed.getMetadata().getRequestId().isEmpty() ? requestId : completed.getMetadata().getRequestId();
      return new Output(id, model, images, completed.getMetadata(), wallNanos);
    }
  }

  /**
   * Writes the images as DIR/PREFIX-NNN-label.png (the names {@code generate --local} uses) and
   * returns their paths, in request order.
   */
  static List<Path> writeImages(Output out, Path dir, String prefix) throws IOException {
    Files.createDirectories(dir);
    List<Path> paths = new ArrayList<>();
    for (Image img : out.images()) {
      Path p = dir.resolve(Generation.fileName(prefix, img.getIndex(), img.getLabel().isEmpty() ? null : img.getLabel()));
      Files.write(p, img.getPng().toByteArray());
      paths.add(p);
    }
    return paths;
  }

  /**
   * One JSON object per image with the keys {@code generate --local} prints (tenant aside: the
   * server decides it and does not report it), built from the reply's GenerationMetadata. The
   * seed is not in the reply and so cannot be in the lines; a replay shows its commitment.
   */
  static List<ObjectNode> metadata(Output out, List<Path> files) {
    GenerationMetadata md = out.metadata();
    List<ObjectNode> lines = new ArrayList<>();
    for (Image img : out.images()) {
      ObjectNode m = JSON.createObjectNode();
      m.put("index", img.getIndex());
      m.put("class", img.getClassLabel());
      if (!img.getLabel().isEmpty()) {
        m.put("label", img.getLabel());
      }
      m.put("scheduler", md.getScheduler());
      m.put("scheduler_class", md.getSchedulerClass());
      m.put("steps", md.getSteps());
      m.put("guidance", md.getGuidanceScale());
      if (md.getGuidanceRescale() > 0) {
        m.put("guidance_rescale", md.getGuidanceRescale());
      }
      m.put("model", md.getModel().isEmpty() ? out.model() : md.getModel());
      m.put("model_sha256", md.getModelSha256());
      m.put("model_config_sha256", md.getModelConfigSha256());
      m.put("scheduler_config_sha256", md.getSchedulerConfigSha256());
      if (!md.getManifestSha256().isEmpty()) {
        m.put("manifest_sha256", md.getManifestSha256());
      }
      m.put("request_id", out.requestId());
      m.put("noise", md.getNoiseSource() == NoiseSource.REPLAY ? "replay"
          : md.getNoiseSource() == NoiseSource.OS_ENTROPY ? "os-entropy" : "unspecified");
      if (!md.getSeedCommitment().isEmpty()) {
        m.put("seed_commitment", md.getSeedCommitment());
        m.put("commitment_key", md.getCommitmentKeyId());
      }
      m.put("png_sha256", img.getPngSha256());
      if (img.getChecker().getResult() == CheckerVerdict.Result.MATCH
          || img.getChecker().getResult() == CheckerVerdict.Result.MISMATCH) {
        m.put("checker", img.getChecker().getSeen());
      }
      if (files != null) {
        m.put("file", files.get(img.getIndex()).toString());
      }
      lines.add(m);
    }
    return lines;
  }

  /** The contact sheet of the reply's images, drawn exactly as {@code generate --local} draws its own. */
  static BufferedImage sheet(Output out, String title, int columns) throws RemoteCallException {
    List<ContactSheet.Tile> tiles = new ArrayList<>();
    for (Image img : out.images()) {
      BufferedImage decoded;
      try {
        decoded = decodePng(img.getPng().toByteArray());
      } catch (IOException e) {
        decoded = null;
      }
      if (decoded == null) {
        throw new RemoteCallException(Status.Code.DATA_LOSS, "image " + img.getIndex() + " is not a readable PNG",
            ExitCode.SERVER);
      }
      String caption = img.getLabel().isEmpty() ? "unconditional" : img.getLabel();
      CheckerVerdict v = img.getChecker();
      String detail = switch (v.getResult()) {
        case MATCH -> "checker ok";
        case MISMATCH -> "seen: " + v.getSeen();
        default -> null;
      };
      tiles.add(new ContactSheet.Tile(decoded, caption, detail, v.getResult() == CheckerVerdict.Result.MISMATCH));
    }
    return ContactSheet.render(title, tiles, columns, Generation.SHEET_SCALE);
  }

  /**
   * Decodes PNG bytes in memory ({@code ImageIO.read(InputStream)} would buffer through a cache
   * file in {@code java.io.tmpdir}, which a read-only root filesystem refuses). Null if the bytes
   * are not an image.
   */
  static BufferedImage decodePng(byte[] png) throws IOException {
    // ImageIO.read(ImageInputStream) closes the stream itself
    return ImageIO.read(new MemoryCacheImageInputStream(new ByteArrayInputStream(png)));
  }

  /** One line with where the time went, from the server's timings and the client's wall clock. */
  static String timing(Output out) {
    GenerationMetadata md = out.metadata();
    return String.format(Locale.ROOT,
        "%d images, %d model evaluations in %.0f ms at the client: server total %.0f ms (queue %.0f ms,"
            + " UNet %.0f ms, scheduler+guidance %.1f ms, noise %.2f ms)",
        out.images().size(), md.getModelEvaluations(), out.wallNanos() / 1e6, ms(md.getTimings().getTotal()),
        ms(md.getTimings().getQueue()), ms(md.getTimings().getForward()), ms(md.getTimings().getScheduler()),
        ms(md.getTimings().getNoise()));
  }

  static String json(ObjectNode node) {
    return Generation.json(node);
  }

  private static double ms(Duration d) {
    return d.getSeconds() * 1e3 + d.getNanos() / 1e6;
  }

  static String sha256(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Used by {@code --preview-every}: writes each preview as DIR/img-NNN-step-SSS.png. */
  static PreviewSink previewWriter(Path dir) {
    return (step, p) -> {
      Files.createDirectories(dir);
      Files.write(dir.resolve(String.format(Locale.ROOT, "img-%03d-step-%03d.png", p.getIndex(), step)), p.getPng().toByteArray());
    };
  }
}
