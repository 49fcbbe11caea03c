package dev.sampler.engine.schedule;

import dev.sampler.engine.ModelException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Creates schedulers from a {@link SchedulerConfig}: by its {@code _class_name}, like diffusers'
 * {@code SchedulerMixin.from_config}, or by one of the short names the CLI and the API accept,
 * which pick a class and a few keys on top of the model's own scheduler_config.json (its beta
 * schedule, prediction type, spacing and offsets stay).
 */
public final class Schedulers {
  /** Short name → diffusers class and the keys it sets, in the order the CLI lists them. */
  private static final Map<String, Map<String, Object>> NAMED = new LinkedHashMap<>();

  static {
    NAMED.put("ddpm", Map.of("_class_name", "DDPMScheduler"));
    NAMED.put("ddim", Map.of("_class_name", "DDIMScheduler"));
    NAMED.put("euler", Map.of("_class_name", "EulerDiscreteScheduler"));
    NAMED.put("euler-ancestral", Map.of("_class_name", "EulerAncestralDiscreteScheduler"));
    NAMED.put("heun", Map.of("_class_name", "HeunDiscreteScheduler"));
    NAMED.put("lms", Map.of("_class_name", "LMSDiscreteScheduler"));
    NAMED.put("dpmpp-2m", Map.of("_class_name", "DPMSolverMultistepScheduler",
        "algorithm_type", "dpmsolver++", "solver_order", 2, "use_karras_sigmas", false));
    NAMED.put("dpmpp-2m-karras", Map.of("_class_name", "DPMSolverMultistepScheduler",
        "algorithm_type", "dpmsolver++", "solver_order", 2, "use_karras_sigmas", true));
    NAMED.put("dpmpp-2m-sde", Map.of("_class_name", "DPMSolverMultistepScheduler",
        "algorithm_type", "sde-dpmsolver++", "solver_order", 2, "use_karras_sigmas", false));
    NAMED.put("unipc", Map.of("_class_name", "UniPCMultistepScheduler",
        "solver_type", "bh2", "solver_order", 2, "predict_x0", true));
  }

  private Schedulers() {}

  /** The short names, in a stable order. */
  public static List<String> names() {
    return List.copyOf(NAMED.keySet());
  }

  /** The diffusers class names this runtime implements. */
  public static List<String> classNames() {
    return List.of("DDPMScheduler", "DDIMScheduler", "EulerDiscreteScheduler", "EulerAncestralDiscreteScheduler",
        "HeunDiscreteScheduler", "LMSDiscreteScheduler", "DPMSolverMultistepScheduler", "UniPCMultistepScheduler");
  }

  /**
   * The scheduler named by a short name ({@link #names()}), configured from {@code modelConfig}.
   *
   * @throws ModelException for an unknown name (listing the known ones) or an unsupported config
   */
  public static NoiseScheduler named(String name, SchedulerConfig modelConfig) throws ModelException {
    Map<String, Object> keys = NAMED.get(name);
    if (keys == null) {
      throw new ModelException("unknown scheduler \"" + name + "\" (supported: " + String.join(", ", names()) + ")");
    }
    return create(modelConfig.with(keys));
  }

  /**
   * The scheduler {@code config}'s {@code _class_name} names.
   *
   * @throws ModelException for a missing or unknown class, or a key with an unsupported value
   *     (the message names the file, the key and the value)
   */
  public static NoiseScheduler create(SchedulerConfig config) throws ModelException {
    String cls = config.className();
    if (cls == null) {
      throw new ModelException(config.source() + ": '_class_name' is missing");
    }
    try {
      NoiseScheduler s = switch (cls) {
        case "DDPMScheduler" -> new DdpmScheduler(config);
        case "DDIMScheduler" -> new DdimScheduler(config);
        case "EulerDiscreteScheduler" -> new EulerDiscreteScheduler(config);
        case "EulerAncestralDiscreteScheduler" -> new EulerAncestralDiscreteScheduler(config);
        case "HeunDiscreteScheduler" -> new HeunDiscreteScheduler(config);
        case "LMSDiscreteScheduler" -> new LMSDiscreteScheduler(config);
        case "DPMSolverMultistepScheduler" -> new DpmSolverMultistepScheduler(config);
        case "UniPCMultistepScheduler" -> new UniPcMultistepScheduler(config);
        default -> null;
      };
      if (s != null) {
        return s;
      }
    } catch (IllegalArgumentException e) {
      throw new ModelException(e.getMessage(), e);
    }
    throw new ModelException(config.source() + ": unsupported scheduler class \"" + cls
        + "\" (supported: " + String.join(", ", classNames()) + ")");
  }
}
