package dev.sampler.engine.unet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.engine.ModelException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class UNet2DConfigTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path DEMO = Path.of("src/test/resources/models/random-demo/config.json");

  /** The demo config with {@code key} set to the JSON value {@code json}. */
  private static byte[] demoWith(String key, String json) throws Exception {
    ObjectNode n = (ObjectNode) JSON.readTree(DEMO.toFile());
    n.set(key, JSON.readTree(json));
    return JSON.writeValueAsBytes(n);
  }

  private static String error(byte[] json) {
    return assertThrows(ModelException.class, () -> UNet2DConfig.parse(json, "config.json")).getMessage();
  }

  @Test
  void read_demoConfig_parsesEveryKey() throws Exception {
    UNet2DConfig c = UNet2DConfig.read(DEMO);
    assertEquals(List.of(32), c.sampleSize());
    assertEquals(List.of(32, 64, 64), c.blockOutChannels());
    assertEquals(List.of("DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"), c.downBlockTypes());
    assertEquals(List.of("AttnUpBlock2D", "AttnUpBlock2D", "UpBlock2D"), c.upBlockTypes());
    assertEquals("UNetMidBlock2D", c.midBlockType());
    assertEquals(1, c.layersPerBlock());
    assertEquals(32, c.attentionHeadDim());
    assertEquals(8, c.normNumGroups());
    assertEquals(1e-5, c.normEps());
    assertEquals(10, c.numClassEmbeds());
    assertEquals(128, c.timeEmbedDim());
    assertTrue(c.flipSinToCos());
    assertNull(c.attnNormNumGroups());
    assertNull(c.numTrainTimesteps());
  }

  @Test
  void parse_emptyObject_takesDiffusersDefaults() throws Exception {
    UNet2DConfig c = UNet2DConfig.parse("{}".getBytes(StandardCharsets.UTF_8), "config.json");
    assertEquals(List.of(224, 448, 672, 896), c.blockOutChannels());
    assertEquals(List.of("DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"), c.downBlockTypes());
    assertEquals(List.of("AttnUpBlock2D", "AttnUpBlock2D", "AttnUpBlock2D", "UpBlock2D"), c.upBlockTypes());
    assertEquals(2, c.layersPerBlock());
    assertEquals(8, c.attentionHeadDim());
    assertEquals(32, c.normNumGroups());
    assertEquals(3, c.inChannels());
    assertEquals("positional", c.timeEmbeddingType());
    assertTrue(c.flipSinToCos());
    assertTrue(c.addAttention());
    assertNull(c.numClassEmbeds());
    assertEquals(List.of(), c.sampleSize());
  }

  @Test
  void parse_bookkeepingKeys_accepted() throws Exception {
    UNet2DConfig.parse(demoWith("_name_or_path", "\"google/ddpm-cifar10-32\""), "config.json");
    UNet2DConfig.parse(demoWith("_use_default_values", "[\"dropout\"]"), "config.json");
    UNet2DConfig.parse(demoWith("sample_size", "[32, 32]"), "config.json");
    UNet2DConfig.parse(demoWith("act_fn", "\"swish\""), "config.json");
    UNet2DConfig.parse(demoWith("mid_block_type", "null"), "config.json");
    UNet2DConfig.parse(demoWith("time_embedding_dim", "256"), "config.json");
    UNet2DConfig.parse(demoWith("attn_norm_num_groups", "4"), "config.json");
    UNet2DConfig.parse(demoWith("downsample_padding", "0"), "config.json");
  }

  @Test
  void parse_unsupportedValues_failWithExactMessages() throws Exception {
    String[][] cases = {
      {"time_embedding_type", "\"fourier\"",
          "config.json: unsupported value for 'time_embedding_type': \"fourier\" (supported: positional)"},
      {"time_embedding_type", "\"learned\"",
          "config.json: unsupported value for 'time_embedding_type': \"learned\" (supported: positional)"},
      {"resnet_time_scale_shift", "\"scale_shift\"",
          "config.json: unsupported value for 'resnet_time_scale_shift': \"scale_shift\" (supported: default)"},
      {"act_fn", "\"gelu\"", "config.json: unsupported value for 'act_fn': \"gelu\" (supported: silu, swish)"},
      {"down_block_types", "[\"DownBlock2D\", \"CrossAttnDownBlock2D\", \"AttnDownBlock2D\"]",
          "config.json: unsupported value for 'down_block_types': \"CrossAttnDownBlock2D\" "
              + "(supported: DownBlock2D, AttnDownBlock2D)"},
      {"up_block_types", "[\"AttnUpBlock2D\", \"ResnetUpsampleBlock2D\", \"UpBlock2D\"]",
          "config.json: unsupported value for 'up_block_types': \"ResnetUpsampleBlock2D\" "
              + "(supported: UpBlock2D, AttnUpBlock2D)"},
      {"mid_block_type", "\"UNetMidBlock2DCrossAttn\"",
          "config.json: unsupported value for 'mid_block_type': \"UNetMidBlock2DCrossAttn\" "
              + "(supported: UNetMidBlock2D, null)"},
      {"class_embed_type", "\"timestep\"",
          "config.json: unsupported value for 'class_embed_type': \"timestep\" (supported: null)"},
      {"class_embed_type", "\"identity\"",
          "config.json: unsupported value for 'class_embed_type': \"identity\" (supported: null)"},
      {"downsample_type", "\"resnet\"",
          "config.json: unsupported value for 'downsample_type': \"resnet\" (supported: conv)"},
      {"upsample_type", "\"resnet\"", "config.json: unsupported value for 'upsample_type': \"resnet\" (supported: conv)"},
      {"downsample_padding", "2", "config.json: unsupported value for 'downsample_padding': 2 (supported: 0, 1)"},
      {"_class_name", "\"UNet2DConditionModel\"",
          "config.json: unsupported value for '_class_name': \"UNet2DConditionModel\" (supported: UNet2DModel)"},
      {"cross_attention_dim", "768", "config.json: unknown key 'cross_attention_dim'"},
      {"layers_per_block", "\"two\"",
          "config.json: invalid value for 'layers_per_block': \"two\" (expected a positive integer)"},
      {"layers_per_block", "0", "config.json: invalid value for 'layers_per_block': 0 (expected a positive integer)"},
      {"layers_per_block", "1.5", "config.json: invalid value for 'layers_per_block': 1.5 (expected a positive integer)"},
      {"norm_eps", "-1", "config.json: invalid value for 'norm_eps': -1 (expected a positive number)"},
      {"flip_sin_to_cos", "1", "config.json: invalid value for 'flip_sin_to_cos': 1 (expected true or false)"},
      {"num_class_embeds", "0",
          "config.json: invalid value for 'num_class_embeds': 0 (expected a positive integer or null)"},
      {"attention_head_dim", "-8",
          "config.json: invalid value for 'attention_head_dim': -8 (expected a positive integer or null)"},
      {"block_out_channels", "[]",
          "config.json: invalid value for 'block_out_channels': [] (expected a non-empty list of positive integers)"},
      {"block_out_channels", "[32, 64]",
          "config.json: 'block_out_channels' has 2 entries but 'down_block_types' has 3"},
      {"up_block_types", "[\"UpBlock2D\"]", "config.json: 'down_block_types' has 3 entries but 'up_block_types' has 1"},
      {"dropout", "1.0", "config.json: invalid value for 'dropout': 1.0 (expected a number in [0, 1))"},
      {"sample_size", "\"32\"",
          "config.json: invalid value for 'sample_size': \"32\" (expected a positive integer, [height, width] or null)"},
      {"mid_block_scale_factor", "0",
          "config.json: invalid value for 'mid_block_scale_factor': 0 (expected a positive number)"},
      {"freq_shift", "16",
          "config.json: invalid value for 'freq_shift': 16 (expected a value other than block_out_channels[0] / 2)"},
    };
    List<String> failures = new ArrayList<>();
    for (String[] c : cases) {
      String got;
      try {
        UNet2DConfig.parse(demoWith(c[0], c[1]), "config.json");
        got = "(accepted)";
      } catch (ModelException e) {
        got = e.getMessage();
      }
      if (!got.equals(c[2])) {
        failures.add(c[0] + " = " + c[1] + ": expected <" + c[2] + "> but was <" + got + ">");
      }
    }
    assertTrue(failures.isEmpty(), String.join("\n", failures));
  }

  @Test
  void parse_malformedDocuments_fail() {
    assertEquals("config.json: expected a JSON object at the top level", error("[1, 2]".getBytes()));
    assertTrue(error("{\"in_channels\": 3,".getBytes()).startsWith("config.json: not valid JSON: "));
    assertTrue(error("{\"in_channels\": 3, \"in_channels\": 4}".getBytes())
        .startsWith("config.json: not valid JSON: Duplicate field 'in_channels'"));
  }
}
