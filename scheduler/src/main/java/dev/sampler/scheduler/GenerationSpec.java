package dev.sampler.scheduler;

import dev.sampler.engine.sampling.SamplingRequest;
import java.util.Arrays;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A validated generation request: which model, which images, how to sample them. Built only by
 * {@link #create}, which checks every field against the model's {@link ModelLimits} and throws a
 * {@link RejectedException} with code INVALID_ARGUMENT whose message names the field, the value
 * received (numbers only; strings from the client are never echoed beyond their length) and what is
 * allowed.
 *
 * @param model the model name
 * @param requestId the request id (client-chosen or server-assigned)
 * @param request labels, steps and guidance as the engine takes them
 * @param scheduler the scheduler short name
 * @param previewEvery send previews every this many evaluations (0: none)
 * @param previewMaxSide largest preview side in pixels
 */
public record GenerationSpec(String model, String requestId, SamplingRequest request, String scheduler,
    int previewEvery, int previewMaxSide) {
  /** Request ids: 1..128 characters from [A-Za-z0-9._:-]. */
  public static final Pattern REQUEST_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

  public GenerationSpec {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(requestId, "requestId");
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(scheduler, "scheduler");
  }

  /** Images in the request. */
  public int count() {
    return request.count();
  }

  /** Steps (scheduler timesteps) requested. */
  public int steps() {
    return request.steps();
  }

  /** Model rows per evaluation: the image count, doubled when guidance is on. */
  public int rows() {
    return request.guided() ? 2 * request.count() : request.count();
  }

  /**
   * Validates and builds a spec.
   *
   * @param labels one class label per image
   * @param sampleSize requested image side in pixels, or 0 for the model's own
   * @param previewEvery 0 for no previews
   * @param previewMaxSide 0 for the default (32)
   * @throws RejectedException INVALID_ARGUMENT naming the first bad field
   */
  public static GenerationSpec create(ModelLimits limits, String model, String requestId, int[] labels, long steps,
      String scheduler, double guidanceScale, double guidanceRescale, long sampleSize, long previewEvery,
      long previewMaxSide) throws RejectedException {
    Objects.requireNonNull(limits, "limits");
    if (model == null || model.isEmpty()) {
      throw invalid("model is required");
    }
    if (requestId == null || !REQUEST_ID.matcher(requestId).matches()) {
      throw invalid("request_id must be 1..128 characters from [A-Za-z0-9._:-]"
          + (requestId == null ? "" : ", got " + requestId.length() + " characters"));
    }
    if (labels == null || labels.length == 0) {
      throw invalid("images: set class_labels (at least one label) or class_count (count >= 1)");
    }
    if (labels.length > limits.maxImages()) {
      throw invalid("image count must be 1.." + limits.maxImages() + ", got " + labels.length);
    }
    for (int i = 0; i < labels.length; i++) {
      int label = labels[i];
      if (limits.classLabels() == 0) {
        if (label != -1) {
          throw invalid("class label at index " + i + " must be -1 (the model is unconditional), got " + label);
        }
      } else if (label < 0 || label >= limits.classLabels()) {
        throw invalid("class label at index " + i + " must be 0.." + (limits.classLabels() - 1) + ", got " + label
            + (limits.nullClass() != null && label == limits.nullClass()
                ? " (class " + label + " is the null class used for guidance)" : ""));
      }
    }
    if (steps < 1 || steps > limits.maxSteps()) {
      throw invalid("steps must be 1.." + limits.maxSteps() + ", got " + steps);
    }
    if (scheduler == null || scheduler.isEmpty()) {
      throw invalid("scheduler is required; one of " + String.join(", ", limits.schedulers()));
    }
    if (!limits.schedulers().contains(scheduler)) {
      throw invalid("unknown scheduler (" + scheduler.length() + " characters); one of "
          + String.join(", ", limits.schedulers()));
    }
    if (!Double.isFinite(guidanceScale) || guidanceScale < 0 || guidanceScale > 30) {
      throw invalid("guidance_scale must be a finite number in 0..30, got " + guidanceScale);
    }
    if (guidanceScale > 1 && limits.nullClass() == null) {
      throw invalid("guidance_scale " + guidanceScale + " needs a model with a null class; this model has none"
          + " (use at most 1)");
    }
    if (!Double.isFinite(guidanceRescale) || guidanceRescale < 0 || guidanceRescale > 1) {
      throw invalid("guidance_rescale must be a finite number in 0..1, got " + guidanceRescale);
    }
    if (sampleSize != 0 && sampleSize != limits.sampleSize()) {
      throw invalid("sample_size must be 0 or " + limits.sampleSize() + " (the model's), got " + sampleSize);
    }
    if (previewEvery < 0 || previewEvery > limits.maxSteps()) {
      throw invalid("preview.every_n_steps must be 0.." + limits.maxSteps() + ", got " + previewEvery);
    }
    if (previewMaxSide != 0 && (previewMaxSide < 8 || previewMaxSide > 256)) {
      throw invalid("preview.max_side must be 0 or 8..256, got " + previewMaxSide);
    }
    SamplingRequest request = new SamplingRequest(Arrays.copyOf(labels, labels.length), (int) steps, guidanceScale,
        guidanceRescale);
    return new GenerationSpec(model, requestId, request, scheduler, (int) previewEvery,
        previewMaxSide == 0 ? 32 : (int) previewMaxSide);
  }

  private static RejectedException invalid(String message) {
    return new RejectedException(Code.INVALID_ARGUMENT, message);
  }
}
