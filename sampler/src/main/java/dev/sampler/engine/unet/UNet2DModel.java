package dev.sampler.engine.unet;

import dev.sampler.engine.ModelException;
import dev.sampler.engine.backend.Conv2dSpec;
import dev.sampler.engine.backend.Epilogue;
import dev.sampler.engine.backend.Tensor;
import dev.sampler.engine.backend.TensorBackend;
import dev.sampler.engine.unet.Layers.Attention;
import dev.sampler.engine.unet.Layers.Conv;
import dev.sampler.engine.unet.Layers.Linear;
import dev.sampler.engine.unet.Layers.Norm;
import dev.sampler.engine.unet.Layers.Resnet;
import dev.sampler.engine.unet.Layers.Workspace;
import dev.sampler.integrity.safetensors.SafetensorsException;
import dev.sampler.integrity.safetensors.SafetensorsFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * A diffusers {@code UNet2DModel} on a {@link TensorBackend}: same configuration, same weight
 * names (a diffusers checkpoint loads unchanged), same forward semantics, float32 throughout.
 *
 * <p>Forward: sinusoidal time projection, {@code TimestepEmbedding} (linear, SiLU, linear), plus
 * the class embedding when {@code num_class_embeds} is set; {@code conv_in}; down blocks ({@code
 * DownBlock2D} / {@code AttnDownBlock2D}: ResNet blocks, attention, stride-2 convolution) pushing
 * skip connections; the mid block (ResNet, attention, ResNet); up blocks ({@code UpBlock2D} /
 * {@code AttnUpBlock2D}) concatenating the skips, nearest 2x upsampling + convolution; then
 * {@code conv_norm_out}, SiLU, {@code conv_out}.
 *
 * <p>Activations are allocated on the first forward for a given batch size and image size and
 * reused afterwards, for the most recently used input shapes (three unless {@link
 * #setWorkspaceShapes} says otherwise). {@link #forward} is synchronized: one forward runs at a
 * time per model.
 */
public final class UNet2DModel implements AutoCloseable {
  /** File names in a diffusers model directory. */
  public static final String CONFIG_FILE = "config.json";

  public static final String WEIGHTS_FILE = "diffusion_pytorch_model.safetensors";

  private record DownBlock(String type, List<Resnet> resnets, List<Attention> attentions, Conv downsample) {}

  private record MidBlock(Resnet first, List<Attention> attentions, List<Resnet> rest) {}

  private record UpBlock(String type, List<Resnet> resnets, List<Attention> attentions, Conv upsample) {}

  private final UNet2DConfig config;
  private final TensorBackend backend;
  private final List<Tensor> weights;
  private final long parameters;
  private final Conv convIn;
  private final Linear time1;
  private final Linear time2;
  private final Tensor classTable;
  private final List<DownBlock> down;
  private final MidBlock mid;
  private final List<UpBlock> up;
  private final Norm normOut;
  private final Conv convOut;
  /** Activations per input shape, least recently used first; at most {@link #workspaceShapes}. */
  private final java.util.LinkedHashMap<List<Integer>, Workspace> workspaces =
      new java.util.LinkedHashMap<>(4, 0.75f, true);
  private boolean closed;
  // written under the forward lock, read without it (a monitor must not wait for a forward)
  private volatile long workspaceAllocations;

  /**
   * Input shapes whose activations stay allocated unless {@link #setWorkspaceShapes} says
   * otherwise: a step batcher's batch size drifts between a few neighbouring values, and each
   * cached shape costs about 8-10 MB of activations per row on the demo model.
   */
  public static final int DEFAULT_WORKSPACE_SHAPES = 3;

  /** Largest accepted {@link #setWorkspaceShapes} value. */
  public static final int MAX_WORKSPACE_SHAPES = 64;

  private int workspaceShapes = DEFAULT_WORKSPACE_SHAPES;

  private UNet2DModel(UNet2DConfig config, TensorBackend backend, Weights w) throws ModelException {
    this.config = config;
    this.backend = backend;
    List<Integer> ch = config.blockOutChannels();
    int c0 = ch.get(0);
    int temb = config.timeEmbedDim();
    int groups = config.normNumGroups();
    double eps = config.normEps();
    convIn = Conv.load(w, "conv_in", config.inChannels(), c0, 3, Conv2dSpec.same(1));
    time1 = Linear.load(w, "time_embedding.linear_1", c0, temb);
    time2 = Linear.load(w, "time_embedding.linear_2", temb, temb);
    classTable = config.numClassEmbeds() == null ? null
        : w.tensor("class_embedding.weight", config.numClassEmbeds(), temb);

    // The channels of each skip connection, pushed in forward order.
    Deque<Integer> skips = new ArrayDeque<>();
    skips.push(c0);
    down = new ArrayList<>();
    int out = c0;
    for (int i = 0; i < ch.size(); i++) {
      int in = out;
      out = ch.get(i);
      String type = config.downBlockTypes().get(i);
      boolean attn = type.equals(UNet2DConfig.ATTN_DOWN_BLOCK);
      String name = "down_blocks." + i;
      List<Resnet> resnets = new ArrayList<>();
      List<Attention> attns = new ArrayList<>();
      for (int j = 0; j < config.layersPerBlock(); j++) {
        resnets.add(Resnet.load(w, name + ".resnets." + j, j == 0 ? in : out, out, temb, groups, eps, 1.0));
        if (attn) {
          attns.add(Attention.load(w, name + ".attentions." + j, out, headDim(out), groups, eps, 1.0));
        }
        skips.push(out);
      }
      Conv ds = null;
      if (i < ch.size() - 1) {
        int p = config.downsamplePadding();
        ds = Conv.load(w, name + ".downsamplers.0.conv", out, out, 3, new Conv2dSpec(2, p, p == 0 ? 1 : p, false));
        skips.push(out);
      }
      down.add(new DownBlock(type, resnets, attns, ds));
    }

    int last = ch.get(ch.size() - 1);
    if (config.midBlockType() != null) {
      double scale = config.midBlockScaleFactor();
      Integer attnGroups = config.attnNormNumGroups() != null ? config.attnNormNumGroups() : groups;
      Resnet first = Resnet.load(w, "mid_block.resnets.0", last, last, temb, groups, eps, scale);
      List<Attention> attns = new ArrayList<>();
      if (config.addAttention()) {
        attns.add(Attention.load(w, "mid_block.attentions.0", last, headDim(last), attnGroups, eps, scale));
      }
      mid = new MidBlock(first, attns,
          List.of(Resnet.load(w, "mid_block.resnets.1", last, last, temb, groups, eps, scale)));
    } else {
      mid = null;
    }

    up = new ArrayList<>();
    List<Integer> rev = new ArrayList<>(ch).reversed();
    out = rev.get(0);
    int layers = config.layersPerBlock() + 1;
    for (int i = 0; i < rev.size(); i++) {
      int prev = out;
      out = rev.get(i);
      int in = rev.get(Math.min(i + 1, rev.size() - 1));
      String type = config.upBlockTypes().get(i);
      boolean attn = type.equals(UNet2DConfig.ATTN_UP_BLOCK);
      String name = "up_blocks." + i;
      List<Resnet> resnets = new ArrayList<>();
      List<Attention> attns = new ArrayList<>();
      for (int j = 0; j < layers; j++) {
        int skip = j == layers - 1 ? in : out;
        int resIn = j == 0 ? prev : out;
        Integer actual = skips.poll();
        if (actual == null || actual != skip) {
          throw new ModelException("config.json: " + name + ".resnets." + j + " expects a skip connection of " + skip
              + " channels but the down path provides " + actual);
        }
        resnets.add(Resnet.load(w, name + ".resnets." + j, resIn + skip, out, temb, groups, eps, 1.0));
        if (attn) {
          attns.add(Attention.load(w, name + ".attentions." + j, out, headDim(out), groups, eps, 1.0));
        }
      }
      Conv us = i < rev.size() - 1
          ? Conv.load(w, name + ".upsamplers.0.conv", out, out, 3, new Conv2dSpec(1, 1, 1, true)) : null;
      up.add(new UpBlock(type, resnets, attns, us));
    }
    normOut = Norm.load(w, "conv_norm_out", c0, groups, eps);
    convOut = Conv.load(w, "conv_out", c0, config.outChannels(), 3, Conv2dSpec.same(1));
    w.finish();
    this.parameters = w.parameters();
    this.weights = List.copyOf(w.uploaded());
  }

  private int headDim(int channels) {
    return config.attentionHeadDim() != null ? config.attentionHeadDim() : channels;
  }

  /**
   * Loads {@code modelDir/config.json} and {@code modelDir/diffusion_pytorch_model.safetensors}
   * (F32, F16 or BF16 weights, widened to float32) onto {@code backend}.
   *
   * @throws ModelException if a file is missing or unreadable, the configuration has an
   *     unsupported value, or a weight is missing, unexpected or of the wrong shape or dtype (the
   *     message names the file and the key or tensor)
   */
  public static UNet2DModel load(Path modelDir, TensorBackend backend) throws ModelException {
    UNet2DConfig config = UNet2DConfig.read(modelDir.resolve(CONFIG_FILE));
    Path weights = modelDir.resolve(WEIGHTS_FILE);
    try (SafetensorsFile file = SafetensorsFile.open(weights)) {
      return load(config, file, WEIGHTS_FILE, backend);
    } catch (IOException e) {
      throw new ModelException(WEIGHTS_FILE + ": cannot read: " + e.getMessage(), e);
    } catch (SafetensorsException e) {
      throw new ModelException(WEIGHTS_FILE + ": " + e.getMessage(), e);
    }
  }

  /**
   * Builds the model from a parsed configuration and an open safetensors file (for example
   * weights unsealed in memory). The file may be closed once this returns.
   *
   * @param source names the weights in error messages
   * @throws ModelException as {@link #load(Path, TensorBackend)}
   */
  public static UNet2DModel load(UNet2DConfig config, SafetensorsFile weights, String source,
      TensorBackend backend) throws ModelException {
    Weights w = new Weights(weights, source, backend);
    try {
      return new UNet2DModel(config, backend, w);
    } catch (ModelException | RuntimeException e) {
      w.freeAll();
      throw e;
    }
  }

  /** The configuration the model was built from. */
  public UNet2DConfig config() {
    return config;
  }

  /** The backend the weights live on. */
  public TensorBackend backend() {
    return backend;
  }

  /** Number of weight elements read from the checkpoint. */
  public long parameterCount() {
    return parameters;
  }

  /** The default image height: {@code sample_size}, or 0 when the configuration has none. */
  public int sampleHeight() {
    return config.sampleSize().isEmpty() ? 0 : config.sampleSize().get(0);
  }

  /** The default image width: {@code sample_size}, or 0 when the configuration has none. */
  public int sampleWidth() {
    return config.sampleSize().isEmpty() ? 0 : config.sampleSize().get(config.sampleSize().size() - 1);
  }

  /**
   * One forward pass at the configured {@code sample_size}.
   *
   * @see #forward(float[], int, int, int, float[], long[])
   */
  public float[] forward(float[] sample, int batch, float[] timesteps, long[] classLabels) {
    int h = sampleHeight(), w = sampleWidth();
    if (h == 0) {
      long plane = sample.length / ((long) Math.max(1, batch) * config.inChannels());
      h = w = (int) Math.round(Math.sqrt(plane));
    }
    return forward(sample, batch, h, w, timesteps, classLabels);
  }

  /**
   * One forward pass: the predicted noise (or sample, as the model was trained) for a batch.
   *
   * @param sample {@code [batch, in_channels, height, width]} row-major
   * @param timesteps one timestep per row, or a single one for the whole batch; may be fractional
   * @param classLabels one label in {@code [0, num_class_embeds)} per row, or null exactly when the
   *     model is unconditional
   * @return {@code [batch, out_channels, height, width]} row-major
   * @throws IllegalArgumentException if the arguments do not fit the model (lengths, label range,
   *     image size not divisible by {@code 2^(blocks - 1)}), with diffusers' messages where it has
   *     one
   */
  public synchronized float[] forward(float[] sample, int batch, int height, int width, float[] timesteps,
      long[] classLabels) {
    if (closed) {
      throw new IllegalStateException("model is closed");
    }
    int cin = config.inChannels();
    if (batch < 1 || height < 1 || width < 1) {
      throw new IllegalArgumentException("batch, height and width must be positive: " + batch + ", " + height
          + ", " + width);
    }
    if (height % config.downscale() != 0 || width % config.downscale() != 0) {
      throw new IllegalArgumentException("image size " + height + "x" + width + " is not a multiple of "
          + config.downscale() + " (2^(blocks - 1))");
    }
    if ((long) batch * cin * height * width != sample.length) {
      throw new IllegalArgumentException("sample has " + sample.length + " values, expected " + batch + " x " + cin
          + " x " + height + " x " + width);
    }
    if (timesteps.length != batch && timesteps.length != 1) {
      throw new IllegalArgumentException("expected 1 or " + batch + " timesteps, got " + timesteps.length);
    }
    int[] labels = null;
    if (classTable != null) {
      if (classLabels == null) {
        throw new IllegalArgumentException("class_labels should be provided when doing class conditioning");
      }
      if (classLabels.length != batch) {
        throw new IllegalArgumentException("expected " + batch + " class labels, got " + classLabels.length);
      }
      labels = new int[batch];
      for (int i = 0; i < batch; i++) {
        if (classLabels[i] < 0 || classLabels[i] >= config.numClassEmbeds()) {
          throw new IllegalArgumentException("class label " + classLabels[i] + " out of range [0, "
              + config.numClassEmbeds() + ")");
        }
        labels[i] = (int) classLabels[i];
      }
    } else if (classLabels != null) {
      throw new IllegalArgumentException("class_embedding needs to be initialized in order to use class conditioning");
    }

    Workspace ws = workspaces.get(List.of(batch, height, width));
    if (ws == null) {
      if (workspaces.size() >= workspaceShapes) {
        var eldest = workspaces.entrySet().iterator().next();
        eldest.getValue().close();
        workspaces.remove(eldest.getKey());
      }
      ws = new Workspace(backend);
      workspaces.put(List.of(batch, height, width), ws);
      workspaceAllocations++;
    }
    ws.rewind();
    TensorBackend b = backend;

    float[] input = sample;
    if (config.centerInputSample()) {
      input = new float[sample.length];
      for (int i = 0; i < input.length; i++) {
        input[i] = 2 * sample[i] - 1f;
      }
    }
    int c0 = config.blockOutChannels().get(0);
    float[] tproj = timestepProjection(timesteps, batch, c0, config.flipSinToCos(), config.freqShift());
    try (Tensor x = b.upload(input, batch, cin, height, width);
        Tensor tp = b.upload(tproj, batch, c0)) {
      // time and class embedding
      Tensor emb = time1.apply(b, ws, tp);
      b.silu(emb, emb);
      emb = time2.apply(b, ws, emb);
      if (classTable != null) {
        Tensor ce = ws.get(batch, config.timeEmbedDim());
        b.embedding(classTable, labels, ce);
        b.add(emb, ce, emb);
      }
      Tensor embAct = ws.get(batch, config.timeEmbedDim());
      b.silu(emb, embAct);

      Tensor h = convIn.apply(b, ws, x, Epilogue.NONE);
      Deque<Tensor> skips = new ArrayDeque<>();
      skips.push(h);
      for (DownBlock blk : down) {
        for (int j = 0; j < blk.resnets.size(); j++) {
          h = blk.resnets.get(j).apply(b, ws, h, embAct);
          if (!blk.attentions.isEmpty()) {
            h = blk.attentions.get(j).apply(b, ws, h);
          }
          skips.push(h);
        }
        if (blk.downsample != null) {
          h = blk.downsample.apply(b, ws, h, Epilogue.NONE);
          skips.push(h);
        }
      }
      if (mid != null) {
        h = mid.first.apply(b, ws, h, embAct);
        for (int j = 0; j < mid.rest.size(); j++) {
          if (!mid.attentions.isEmpty()) {
            h = mid.attentions.get(j).apply(b, ws, h);
          }
          h = mid.rest.get(j).apply(b, ws, h, embAct);
        }
      }
      for (UpBlock blk : up) {
        for (int j = 0; j < blk.resnets.size(); j++) {
          Tensor skip = skips.pop();
          Tensor cat = ws.get(batch, h.dim(1) + skip.dim(1), h.dim(2), h.dim(3));
          b.concatChannels(h, skip, cat);
          h = blk.resnets.get(j).apply(b, ws, cat, embAct);
          if (!blk.attentions.isEmpty()) {
            h = blk.attentions.get(j).apply(b, ws, h);
          }
        }
        if (blk.upsample != null) {
          h = blk.upsample.apply(b, ws, h, Epilogue.NONE);
        }
      }
      h = normOut.apply(b, ws, h, true);
      h = convOut.apply(b, ws, h, Epilogue.NONE);
      float[] result = new float[(int) h.size()];
      b.download(h, result);
      return result;
    }
  }

  /**
   * Sets how many input shapes keep their activations allocated (least recently used evicted
   * first), evicting at once what no longer fits. More shapes mean fewer fresh allocations when
   * a batcher's batch size keeps changing, at the memory cost of each shape's activations (about
   * 8-10 MB per row on the demo model: a 32-row shape holds about 320 MB).
   *
   * @throws IllegalArgumentException if {@code shapes} is outside 1..{@value #MAX_WORKSPACE_SHAPES}
   */
  public synchronized void setWorkspaceShapes(int shapes) {
    if (shapes < 1 || shapes > MAX_WORKSPACE_SHAPES) {
      throw new IllegalArgumentException("workspace shapes must be 1.." + MAX_WORKSPACE_SHAPES + ", got " + shapes);
    }
    workspaceShapes = shapes;
    while (workspaces.size() > shapes) {
      var eldest = workspaces.entrySet().iterator().next();
      eldest.getValue().close();
      workspaces.remove(eldest.getKey());
    }
  }

  /** How many input shapes keep their activations allocated. */
  public synchronized int workspaceShapes() {
    return workspaceShapes;
  }

  /**
   * How many times a forward found no activations for its input shape and allocated a fresh set
   * (the first forward of each shape, and every forward whose shape had been evicted from the
   * cache of the most recent shapes). A batcher whose batch size keeps changing watches this.
   */
  public long workspaceAllocations() {
    return workspaceAllocations;
  }

  /**
   * diffusers' {@code get_timestep_embedding} in float32, as PyTorch evaluates it: exponents
   * {@code -ln(10000) * i / (half - freq_shift)}, frequencies {@code exp} of those, arguments
   * {@code t * freq}, then {@code [sin, cos]} ({@code [cos, sin]} when flipped), zero-padded to an
   * odd {@code dim}.
   */
  static float[] timestepProjection(float[] timesteps, int batch, int dim, boolean flip, double shift) {
    int half = dim / 2;
    float[] freqs = new float[half];
    float c = (float) -Math.log(10000);
    float denom = (float) (half - shift);
    for (int i = 0; i < half; i++) {
      float e = (c * (float) i) / denom;
      freqs[i] = (float) Math.exp(e);
    }
    float[] out = new float[batch * dim];
    for (int n = 0; n < batch; n++) {
      float t = timesteps.length == 1 ? timesteps[0] : timesteps[n];
      int base = n * dim;
      for (int i = 0; i < half; i++) {
        float arg = t * freqs[i];
        float s = (float) Math.sin(arg), co = (float) Math.cos(arg);
        out[base + (flip ? half + i : i)] = s;
        out[base + (flip ? i : half + i)] = co;
      }
    }
    return out;
  }

  /** A readable outline of the architecture: blocks, channels, attention heads, parameters. */
  public String summary() {
    StringBuilder sb = new StringBuilder();
    List<Integer> ch = config.blockOutChannels();
    String size = config.sampleSize().isEmpty() ? "any size"
        : sampleHeight() + "x" + sampleWidth();
    sb.append(String.format("UNet2DModel (%s, %d -> %d channels, %,d parameters, backend %s)%n", size,
        config.inChannels(), config.outChannels(), parameters, backend.name()));
    sb.append(String.format("  time: sinusoidal(%d, flip_sin_to_cos=%s, freq_shift=%s) -> MLP %d -> %d%n", ch.get(0),
        config.flipSinToCos(), fmt(config.freqShift()), ch.get(0), config.timeEmbedDim()));
    if (config.numClassEmbeds() != null) {
      sb.append(String.format("  class embedding: %d classes x %d%n", config.numClassEmbeds(), config.timeEmbedDim()));
    }
    sb.append(String.format("  conv_in: %d -> %d%n", config.inChannels(), ch.get(0)));
    int scale = 1;
    for (int i = 0; i < down.size(); i++) {
      DownBlock d = down.get(i);
      sb.append(String.format("  down_blocks.%d %s: %s%s%s%n", i, d.type, resnets(d.resnets), attns(d.attentions),
          d.downsample != null ? ", downsample /2" : ""));
      if (d.downsample != null) {
        scale *= 2;
      }
    }
    if (mid != null) {
      sb.append(String.format("  mid_block UNetMidBlock2D: %s%s, %s (at 1/%d resolution)%n", resnets(List.of(mid.first)),
          attns(mid.attentions), resnets(mid.rest), scale));
    }
    for (int i = 0; i < up.size(); i++) {
      UpBlock u = up.get(i);
      sb.append(String.format("  up_blocks.%d %s: %s%s%s%n", i, u.type, resnets(u.resnets), attns(u.attentions),
          u.upsample != null ? ", upsample x2" : ""));
    }
    sb.append(String.format("  conv_norm_out: GroupNorm(%d groups, eps %s), SiLU, conv_out: %d -> %d%n",
        config.normNumGroups(), fmt(config.normEps()), ch.get(0), config.outChannels()));
    return sb.toString();
  }

  private static String fmt(double d) {
    return d == Math.rint(d) && Math.abs(d) < 1e9 ? Long.toString((long) d) : Double.toString(d);
  }

  private static String resnets(List<Resnet> rs) {
    List<String> parts = new ArrayList<>();
    for (Resnet r : rs) {
      parts.add("resnet " + r.in() + "->" + r.out() + (r.shortcut() != null ? " (1x1 shortcut)" : ""));
    }
    return String.join(", ", parts);
  }

  private static String attns(List<Attention> as) {
    if (as.isEmpty()) {
      return "";
    }
    Attention a = as.get(0);
    return String.format(", %d x attention (%d heads x %d)", as.size(), a.heads(), a.headDim());
  }

  /**
   * SHA-256 over every weight tensor as it is held by the backend now: each tensor is read back
   * ({@link TensorBackend#download}) and hashed as its shape (int32 little-endian, rank first)
   * followed by its float32 values (little-endian), in load order. Taken right after a verified
   * load, it is the golden value that runtime re-verification compares later reads against, so a
   * weight that changes in backend memory after load is detected. Runs between forwards (it holds
   * the model's lock), reading one tensor at a time.
   *
   * @throws IllegalStateException if the model is closed
   */
  public synchronized byte[] loadedWeightsDigest() {
    if (closed) {
      throw new IllegalStateException("the model is closed");
    }
    java.security.MessageDigest md;
    try {
      md = java.security.MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
    java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(1 << 16).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (Tensor t : weights) {
      int[] shape = t.shape();
      buf.clear();
      buf.putInt(shape.length);
      for (int d : shape) {
        buf.putInt(d);
      }
      md.update(buf.array(), 0, buf.position());
      int n = Math.toIntExact(Tensor.sizeOf(shape));
      float[] values = new float[n]; // the backend's download wants the exact length
      backend.download(t, values);
      for (int i = 0; i < n; ) {
        buf.clear();
        int m = Math.min(n - i, buf.capacity() / 4);
        buf.asFloatBuffer().put(values, i, m);
        md.update(buf.array(), 0, m * 4);
        i += m;
      }
      java.util.Arrays.fill(values, 0f);
    }
    java.util.Arrays.fill(buf.array(), (byte) 0);
    return md.digest();
  }

  /** Frees the weights and activations on the backend (the backend itself stays open). */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (Workspace ws : workspaces.values()) {
      ws.close();
    }
    workspaces.clear();
    for (Tensor t : weights) {
      t.close();
    }
  }
}
