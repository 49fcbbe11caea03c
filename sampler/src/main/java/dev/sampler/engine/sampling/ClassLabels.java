package dev.sampler.engine.sampling;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sampler.engine.ModelException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The class labels of a class-conditional model, from {@value #FILE} beside its config:
 * {@code {"labels": ["red circle", ...], "null_class": 9}}. {@code labels} names the classes a
 * request may ask for (0..n-1); {@code null_class} is the label trained as "no class" (label
 * dropout), used as the unconditional row of classifier-free guidance; it may be absent (no
 * guidance).
 *
 * @param labels the class names
 * @param nullClass the null class, or null
 */
public record ClassLabels(List<String> labels, Integer nullClass) {
  /** The file name in a model directory. */
  public static final String FILE = "classes.json";

  /** Copies the list. */
  public ClassLabels {
    labels = List.copyOf(labels);
  }

  /**
   * Reads {@value #FILE} from {@code modelDir}, checking it against the model's
   * {@code num_class_embeds}: the labels and the null class together must be the model's classes.
   *
   * @throws ModelException if the file is missing for a class-conditional model, malformed, or
   *     disagrees with the model
   */
  public static ClassLabels read(Path modelDir, Integer numClassEmbeds) throws ModelException {
    Path file = modelDir.resolve(FILE);
    if (!Files.exists(file)) {
      if (numClassEmbeds == null) {
        return new ClassLabels(List.of(), null);
      }
      throw new ModelException(file + ": missing; a class-conditional model needs its class names and null class");
    }
    byte[] json;
    try {
      json = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new ModelException(file + ": cannot read: " + e.getMessage(), e);
    }
    return parse(json, numClassEmbeds);
  }

  /**
   * Parses {@value #FILE} from bytes already read (and, for a verified model, already checked
   * against its signed digest), checking it against the model's {@code num_class_embeds} as
   * {@link #read} does.
   *
   * @throws ModelException if the JSON is malformed or disagrees with the model
   */
  public static ClassLabels parse(byte[] json, Integer numClassEmbeds) throws ModelException {
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(json);
    } catch (IOException e) {
      throw new ModelException(FILE + ": not valid JSON: " + e.getMessage(), e);
    }
    JsonNode arr = root.path("labels");
    if (!arr.isArray() || arr.isEmpty()) {
      throw new ModelException(FILE + ": 'labels' must be a non-empty array of strings");
    }
    List<String> labels = new ArrayList<>();
    for (JsonNode n : arr) {
      if (!n.isTextual() || n.asText().isBlank()) {
        throw new ModelException(FILE + ": 'labels' must hold non-empty strings, got " + n);
      }
      labels.add(n.asText());
    }
    Integer nullClass = null;
    if (root.hasNonNull("null_class")) {
      JsonNode nc = root.get("null_class");
      if (!nc.canConvertToInt()) {
        throw new ModelException(FILE + ": 'null_class' must be an integer, got " + nc);
      }
      nullClass = nc.intValue();
      if (nullClass != labels.size()) {
        throw new ModelException(FILE + ": 'null_class' must follow the labels (" + labels.size() + "), got " + nullClass);
      }
    }
    int expected = labels.size() + (nullClass == null ? 0 : 1);
    if (numClassEmbeds == null || numClassEmbeds != expected) {
      throw new ModelException(FILE + ": " + labels.size() + " labels" + (nullClass == null ? "" : " + null class")
          + " do not match the model's num_class_embeds " + numClassEmbeds);
    }
    return new ClassLabels(labels, nullClass);
  }
}
