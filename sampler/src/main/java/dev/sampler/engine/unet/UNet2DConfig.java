package dev.sampler.engine.unet;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.engine.ModelException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The configuration of a diffusers {@code UNet2DModel}, as read from its {@code config.json}.
 * Field names mirror the JSON keys; a key missing from the file takes diffusers' default.
 *
 * <p>Only what this engine runs exactly is accepted: every other value is a {@link
 * ModelException} naming the key and the value, for example {@code config.json: unsupported value
 * for 'time_embedding_type': "fourier" (supported: positional)}. Keys this engine does not know
 * are rejected too (they could change the model's meaning), except diffusers' bookkeeping keys
 * beginning with an underscore ({@code _diffusers_version}, {@code _name_or_path}, ...); {@code
 * _class_name}, when present, must be {@code UNet2DModel}.
 *
 * @param sampleSize {@code sample_size}: the default image height and width (one value for square
 *     images), empty when not given
 * @param inChannels {@code in_channels}
 * @param outChannels {@code out_channels}
 * @param centerInputSample {@code center_input_sample}: map the input by {@code 2x - 1} first
 * @param timeEmbeddingType {@code time_embedding_type}: {@code positional} only
 * @param timeEmbeddingDim {@code time_embedding_dim}, or null for {@code 4 * block_out_channels[0]}
 * @param freqShift {@code freq_shift} of the sinusoidal embedding
 * @param flipSinToCos {@code flip_sin_to_cos}: order the embedding {@code [cos, sin]}
 * @param downBlockTypes {@code down_block_types}: {@code DownBlock2D} or {@code AttnDownBlock2D}
 * @param midBlockType {@code mid_block_type}: {@code UNetMidBlock2D}, or null for no mid block
 * @param upBlockTypes {@code up_block_types}: {@code UpBlock2D} or {@code AttnUpBlock2D}
 * @param blockOutChannels {@code block_out_channels}
 * @param layersPerBlock {@code layers_per_block}
 * @param midBlockScaleFactor {@code mid_block_scale_factor}
 * @param downsamplePadding {@code downsample_padding} (0 pads bottom/right by one, as diffusers)
 * @param downsampleType {@code downsample_type}: {@code conv} only
 * @param upsampleType {@code upsample_type}: {@code conv} only
 * @param dropout {@code dropout} (inference ignores it)
 * @param actFn {@code act_fn}: {@code silu} (or its alias {@code swish})
 * @param attentionHeadDim {@code attention_head_dim}, or null for one head per block
 * @param normNumGroups {@code norm_num_groups}
 * @param attnNormNumGroups {@code attn_norm_num_groups} (mid-block attention), or null
 * @param normEps {@code norm_eps}
 * @param resnetTimeScaleShift {@code resnet_time_scale_shift}: {@code default} only
 * @param addAttention {@code add_attention} (mid block)
 * @param classEmbedType {@code class_embed_type}: null only
 * @param numClassEmbeds {@code num_class_embeds}, or null for an unconditional model
 * @param numTrainTimesteps {@code num_train_timesteps} (only meaningful for learned time
 *     embeddings, kept for the record)
 */
public record UNet2DConfig(
    List<Integer> sampleSize,
    int inChannels,
    int outChannels,
    boolean centerInputSample,
    String timeEmbeddingType,
    Integer timeEmbeddingDim,
    double freqShift,
    boolean flipSinToCos,
    List<String> downBlockTypes,
    String midBlockType,
    List<String> upBlockTypes,
    List<Integer> blockOutChannels,
    int layersPerBlock,
    double midBlockScaleFactor,
    int downsamplePadding,
    String downsampleType,
    String upsampleType,
    double dropout,
    String actFn,
    Integer attentionHeadDim,
    int normNumGroups,
    Integer attnNormNumGroups,
    double normEps,
    String resnetTimeScaleShift,
    boolean addAttention,
    String classEmbedType,
    Integer numClassEmbeds,
    Integer numTrainTimesteps) {

  /** Largest {@code config.json} accepted. */
  public static final int MAX_BYTES = 1 << 20;

  public static final String DOWN_BLOCK = "DownBlock2D";
  public static final String ATTN_DOWN_BLOCK = "AttnDownBlock2D";
  public static final String UP_BLOCK = "UpBlock2D";
  public static final String ATTN_UP_BLOCK = "AttnUpBlock2D";
  public static final String MID_BLOCK = "UNetMidBlock2D";

  private static final Set<String> KEYS = Set.of("sample_size", "in_channels", "out_channels",
      "center_input_sample", "time_embedding_type", "time_embedding_dim", "freq_shift", "flip_sin_to_cos",
      "down_block_types", "mid_block_type", "up_block_types", "block_out_channels", "layers_per_block",
      "mid_block_scale_factor", "downsample_padding", "downsample_type", "upsample_type", "dropout", "act_fn",
      "attention_head_dim", "norm_num_groups", "attn_norm_num_groups", "norm_eps", "resnet_time_scale_shift",
      "add_attention", "class_embed_type", "num_class_embeds", "num_train_timesteps");

  private static final ObjectMapper JSON =
      JsonMapper.builder().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).build();

  public UNet2DConfig {
    sampleSize = List.copyOf(sampleSize);
    downBlockTypes = List.copyOf(downBlockTypes);
    upBlockTypes = List.copyOf(upBlockTypes);
    blockOutChannels = List.copyOf(blockOutChannels);
  }

  /** The channels of the time embedding: {@code time_embedding_dim} or {@code 4 * block_out_channels[0]}. */
  public int timeEmbedDim() {
    return timeEmbeddingDim != null ? timeEmbeddingDim : 4 * blockOutChannels.get(0);
  }

  /** Whether the model takes class labels. */
  public boolean classConditional() {
    return numClassEmbeds != null;
  }

  /** The factor by which the blocks shrink the image: {@code 2^(blocks - 1)}. */
  public int downscale() {
    return 1 << (blockOutChannels.size() - 1);
  }

  /** Reads and validates {@code path} (a {@code config.json}). */
  public static UNet2DConfig read(Path path) throws ModelException {
    String name = path.getFileName() == null ? path.toString() : path.getFileName().toString();
    byte[] bytes;
    try {
      long size = Files.size(path);
      if (size > MAX_BYTES) {
        throw new ModelException(name + ": larger than " + MAX_BYTES + " bytes (" + size + ")");
      }
      bytes = Files.readAllBytes(path);
    } catch (IOException e) {
      throw new ModelException(name + ": cannot read: " + e.getMessage(), e);
    }
    return parse(bytes, name);
  }

  /**
   * Parses and validates the JSON text of a {@code config.json}; {@code source} starts every error
   * message.
   */
  public static UNet2DConfig parse(byte[] json, String source) throws ModelException {
    if (json.length > MAX_BYTES) {
      throw new ModelException(source + ": larger than " + MAX_BYTES + " bytes (" + json.length + ")");
    }
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new ModelException(source + ": not valid JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new ModelException(source + ": cannot parse: " + e.getMessage(), e);
    }
    if (!(root instanceof ObjectNode obj)) {
      throw new ModelException(source + ": expected a JSON object at the top level");
    }
    return new Reader(source, obj).read();
  }

  /** Reads the fields of the top-level object, one precise message per problem. */
  private static final class Reader {
    private final String src;
    private final ObjectNode obj;

    Reader(String src, ObjectNode obj) {
      this.src = src;
      this.obj = obj;
    }

    UNet2DConfig read() throws ModelException {
      for (Iterator<Map.Entry<String, JsonNode>> it = obj.fields(); it.hasNext(); ) {
        var e = it.next();
        String key = e.getKey();
        if (key.equals("_class_name")) {
          if (!e.getValue().isTextual() || !e.getValue().asText().equals("UNet2DModel")) {
            throw unsupported(key, e.getValue(), "UNet2DModel");
          }
        } else if (!key.startsWith("_") && !KEYS.contains(key)) {
          throw new ModelException(src + ": unknown key '" + key + "'");
        }
      }
      List<Integer> sampleSize = sampleSize();
      int inChannels = positiveInt("in_channels", 3);
      int outChannels = positiveInt("out_channels", 3);
      boolean center = bool("center_input_sample", false);
      String timeType = choice("time_embedding_type", "positional", "positional");
      Integer timeDim = optionalPositiveInt("time_embedding_dim");
      double freqShift = number("freq_shift", 0);
      boolean flip = bool("flip_sin_to_cos", true);
      List<String> down = strings("down_block_types",
          List.of(DOWN_BLOCK, ATTN_DOWN_BLOCK, ATTN_DOWN_BLOCK, ATTN_DOWN_BLOCK), DOWN_BLOCK, ATTN_DOWN_BLOCK);
      String mid = optionalChoice("mid_block_type", MID_BLOCK, MID_BLOCK);
      List<String> up = strings("up_block_types",
          List.of(ATTN_UP_BLOCK, ATTN_UP_BLOCK, ATTN_UP_BLOCK, UP_BLOCK), UP_BLOCK, ATTN_UP_BLOCK);
      List<Integer> channels = positiveInts("block_out_channels", List.of(224, 448, 672, 896));
      int layers = positiveInt("layers_per_block", 2);
      double midScale = number("mid_block_scale_factor", 1);
      int downPad = downsamplePadding();
      String downType = choice("downsample_type", "conv", "conv");
      String upType = choice("upsample_type", "conv", "conv");
      double dropout = number("dropout", 0);
      String act = choice("act_fn", "silu", "silu", "swish");
      Integer headDim = optionalPositiveInt("attention_head_dim", 8);
      int groups = positiveInt("norm_num_groups", 32);
      Integer attnGroups = optionalPositiveInt("attn_norm_num_groups");
      double eps = number("norm_eps", 1e-5);
      String shift = choice("resnet_time_scale_shift", "default", "default");
      boolean addAttention = bool("add_attention", true);
      String classType = optionalChoice("class_embed_type", null);
      Integer numClasses = optionalPositiveInt("num_class_embeds");
      Integer numTrain = optionalPositiveInt("num_train_timesteps");

      if (down.size() != up.size()) {
        throw new ModelException(src + ": 'down_block_types' has " + down.size() + " entries but 'up_block_types' has "
            + up.size());
      }
      if (channels.size() != down.size()) {
        throw new ModelException(src + ": 'block_out_channels' has " + channels.size()
            + " entries but 'down_block_types' has " + down.size());
      }
      if (!(midScale > 0) || Double.isInfinite(midScale)) {
        throw invalid("mid_block_scale_factor", obj.get("mid_block_scale_factor"), "a positive number");
      }
      if (!(eps > 0) || Double.isInfinite(eps)) {
        throw invalid("norm_eps", obj.get("norm_eps"), "a positive number");
      }
      if (!(dropout >= 0 && dropout < 1)) {
        throw invalid("dropout", obj.get("dropout"), "a number in [0, 1)");
      }
      if (Double.isNaN(freqShift) || Double.isInfinite(freqShift)) {
        throw invalid("freq_shift", obj.get("freq_shift"), "a finite number");
      }
      int half = channels.get(0) / 2;
      if (half - freqShift == 0) {
        throw invalid("freq_shift", obj.get("freq_shift"), "a value other than block_out_channels[0] / 2");
      }
      return new UNet2DConfig(sampleSize, inChannels, outChannels, center, timeType, timeDim, freqShift, flip, down,
          mid, up, channels, layers, midScale, downPad, downType, upType, dropout, act, headDim, groups, attnGroups,
          eps, shift, addAttention, classType, numClasses, numTrain);
    }

    private ModelException unsupported(String key, JsonNode value, String... supported) {
      return new ModelException(src + ": unsupported value for '" + key + "': " + value
          + " (supported: " + String.join(", ", supported) + ")");
    }

    private ModelException invalid(String key, JsonNode value, String expected) {
      return new ModelException(src + ": invalid value for '" + key + "': " + value + " (expected " + expected + ")");
    }

    private JsonNode get(String key) {
      JsonNode n = obj.get(key);
      return n == null || n.isMissingNode() ? null : n;
    }

    private boolean isInt(JsonNode n) {
      return n.isIntegralNumber() && n.canConvertToInt();
    }

    private int positiveInt(String key, int dflt) throws ModelException {
      JsonNode n = get(key);
      if (n == null) {
        return dflt;
      }
      if (!isInt(n) || n.intValue() < 1) {
        throw invalid(key, n, "a positive integer");
      }
      return n.intValue();
    }

    private Integer optionalPositiveInt(String key) throws ModelException {
      return optionalPositiveInt(key, null);
    }

    private Integer optionalPositiveInt(String key, Integer dflt) throws ModelException {
      JsonNode n = get(key);
      if (n == null) {
        return dflt;
      }
      if (n.isNull()) {
        return null;
      }
      if (!isInt(n) || n.intValue() < 1) {
        throw invalid(key, n, "a positive integer or null");
      }
      return n.intValue();
    }

    private double number(String key, double dflt) throws ModelException {
      JsonNode n = get(key);
      if (n == null) {
        return dflt;
      }
      if (!n.isNumber()) {
        throw invalid(key, n, "a number");
      }
      return n.doubleValue();
    }

    private boolean bool(String key, boolean dflt) throws ModelException {
      JsonNode n = get(key);
      if (n == null) {
        return dflt;
      }
      if (!n.isBoolean()) {
        throw invalid(key, n, "true or false");
      }
      return n.booleanValue();
    }

    private String choice(String key, String dflt, String... supported) throws ModelException {
      JsonNode n = get(key);
      if (n == null) {
        return dflt;
      }
      if (n.isTextual() && List.of(supported).contains(n.textValue())) {
        return n.textValue();
      }
      throw unsupported(key, n, supported);
    }

    /** A string from {@code supported} or null; {@code supported} may contain null. */
    private String optionalChoice(String key, String dflt, String... supported) throws ModelException {
      JsonNode n = get(key);
      if (n == null) {
        return dflt;
      }
      if (n.isNull()) {
        return null;
      }
      if (n.isTextual() && List.of(supported).contains(n.textValue())) {
        return n.textValue();
      }
      List<String> names = new ArrayList<>(List.of(supported));
      names.add("null");
      throw unsupported(key, n, names.toArray(String[]::new));
    }

    private List<String> strings(String key, List<String> dflt, String... supported) throws ModelException {
      JsonNode n = get(key);
      if (n == null) {
        return dflt;
      }
      if (!n.isArray() || n.isEmpty()) {
        throw invalid(key, n, "a non-empty list of block type names");
      }
      List<String> out = new ArrayList<>();
      for (JsonNode e : n) {
        if (!e.isTextual() || !List.of(supported).contains(e.textValue())) {
          throw unsupported(key, e, supported);
        }
        out.add(e.textValue());
      }
      return out;
    }

    private List<Integer> positiveInts(String key, List<Integer> dflt) throws ModelException {
      JsonNode n = get(key);
      if (n == null) {
        return dflt;
      }
      if (!n.isArray() || n.isEmpty()) {
        throw invalid(key, n, "a non-empty list of positive integers");
      }
      List<Integer> out = new ArrayList<>();
      for (JsonNode e : n) {
        if (!isInt(e) || e.intValue() < 1) {
          throw invalid(key, n, "a non-empty list of positive integers");
        }
        out.add(e.intValue());
      }
      return out;
    }

    /** 0 and 1 keep even sizes halving exactly; larger paddings grow the image and break the skips. */
    private int downsamplePadding() throws ModelException {
      JsonNode n = get("downsample_padding");
      if (n == null) {
        return 1;
      }
      if (isInt(n) && (n.intValue() == 0 || n.intValue() == 1)) {
        return n.intValue();
      }
      throw unsupported("downsample_padding", n, "0", "1");
    }

    private List<Integer> sampleSize() throws ModelException {
      JsonNode n = get("sample_size");
      if (n == null || n.isNull()) {
        return List.of();
      }
      if (isInt(n) && n.intValue() > 0) {
        return List.of(n.intValue());
      }
      if (n.isArray() && n.size() == 2 && isInt(n.get(0)) && isInt(n.get(1)) && n.get(0).intValue() > 0
          && n.get(1).intValue() > 0) {
        return List.of(n.get(0).intValue(), n.get(1).intValue());
      }
      throw invalid("sample_size", n, "a positive integer, [height, width] or null");
    }
  }
}
