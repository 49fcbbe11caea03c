package dev.sampler.server.cli;

import dev.sampler.engine.unet.UNet2DConfig;
import dev.sampler.integrity.IntegrityException;
import dev.sampler.integrity.safetensors.DType;
import dev.sampler.integrity.safetensors.SafetensorsFile;
import dev.sampler.integrity.safetensors.TensorInfo;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;

/**
 * The validated inputs of one UNet forward pass, read from a safetensors file with the tensors
 * "sample" [N, C, H, W] F32, "timestep" [N] F32 (or I64) and, for class-conditional models,
 * "class_labels" [N] I64. Every mismatch with the model is reported with the tensor, the
 * offending value and what was expected.
 */
record ForwardInput(int batch, int channels, int height, int width, float[] sample, float[] timesteps, long[] classLabels) {

  static final Set<String> KNOWN = Set.of("sample", "timestep", "class_labels");

  static ForwardInput read(Path file, UNet2DConfig config) throws IOException, IntegrityException, InvalidInputException {
    try (SafetensorsFile st = SafetensorsFile.open(file)) {
      String where = file.getFileName().toString();
      Set<String> unknown = new TreeSet<>();
      for (TensorInfo t : st.tensors()) {
        if (!KNOWN.contains(t.name())) {
          unknown.add(t.name());
        }
      }
      if (!unknown.isEmpty()) {
        throw new InvalidInputException(where + ": unexpected tensors " + unknown + " (expected sample, timestep, class_labels)");
      }
      TensorInfo s = st.find("sample").orElseThrow(() -> new InvalidInputException(where + ": missing tensor 'sample' [N, C, H, W] F32"));
      if (s.dtype() != DType.F32) {
        throw new InvalidInputException(where + ": 'sample' must be F32, got " + s.dtype());
      }
      long[] shape = s.shape();
      if (shape.length != 4) {
        throw new InvalidInputException(where + ": 'sample' must have 4 dimensions [N, C, H, W], got " + Arrays.toString(shape));
      }
      if (shape[0] < 1 || shape[0] > 4096) {
        throw new InvalidInputException(where + ": 'sample' batch size N=" + shape[0] + " is outside 1..4096");
      }
      if (shape[1] != config.inChannels()) {
        throw new InvalidInputException(where + ": 'sample' has C=" + shape[1] + " channels but the model's in_channels is " + config.inChannels());
      }
      int factor = 1 << (config.blockOutChannels().size() - 1);
      for (int d = 2; d < 4; d++) {
        if (shape[d] < factor || shape[d] > 4096 || shape[d] % factor != 0) {
          throw new InvalidInputException(where + ": 'sample' " + (d == 2 ? "height" : "width") + " " + shape[d]
              + " must be a multiple of " + factor + " (the model downsamples " + (config.blockOutChannels().size() - 1) + " times), at most 4096");
        }
      }
      int n = (int) shape[0];
      float[] sample = st.readFloats("sample");
      for (int i = 0; i < sample.length; i++) {
        if (!Float.isFinite(sample[i])) {
          throw new InvalidInputException(where + ": 'sample' element " + i + " is not finite (" + sample[i] + ")");
        }
      }

      TensorInfo t = st.find("timestep").orElseThrow(() -> new InvalidInputException(where + ": missing tensor 'timestep' [N] F32"));
      if (t.shape().length != 1 || t.shape()[0] != n) {
        throw new InvalidInputException(where + ": 'timestep' must have shape [" + n + "], got " + Arrays.toString(t.shape()));
      }
      float[] timesteps;
      if (t.dtype() == DType.I64) {
        long[] raw = st.readLongs("timestep");
        timesteps = new float[n];
        for (int i = 0; i < n; i++) {
          timesteps[i] = raw[i];
        }
      } else if (t.dtype() == DType.F32) {
        timesteps = st.readFloats("timestep");
      } else {
        throw new InvalidInputException(where + ": 'timestep' must be F32 or I64, got " + t.dtype());
      }
      for (int i = 0; i < n; i++) {
        if (!Float.isFinite(timesteps[i]) || timesteps[i] < 0) {
          throw new InvalidInputException(where + ": timestep[" + i + "] = " + timesteps[i] + " must be finite and >= 0");
        }
      }

      long[] labels = null;
      var c = st.find("class_labels");
      Integer classes = config.numClassEmbeds();
      if (classes == null && c.isPresent()) {
        throw new InvalidInputException(where + ": 'class_labels' given but the model is not class-conditional (num_class_embeds is null)");
      }
      if (classes != null) {
        TensorInfo ci = c.orElseThrow(() -> new InvalidInputException(
            where + ": missing tensor 'class_labels' [N] I64 (the model is class-conditional with num_class_embeds=" + classes + ")"));
        if (ci.dtype() != DType.I64) {
          throw new InvalidInputException(where + ": 'class_labels' must be I64, got " + ci.dtype());
        }
        if (ci.shape().length != 1 || ci.shape()[0] != n) {
          throw new InvalidInputException(where + ": 'class_labels' must have shape [" + n + "], got " + Arrays.toString(ci.shape()));
        }
        labels = st.readLongs("class_labels");
        for (int i = 0; i < n; i++) {
          if (labels[i] < 0 || labels[i] >= classes) {
            throw new InvalidInputException(where + ": class_labels[" + i + "] = " + labels[i] + " is outside [0, " + classes + ")");
          }
        }
      }
      return new ForwardInput(n, (int) shape[1], (int) shape[2], (int) shape[3], sample, timesteps, labels);
    }
  }

  /** A forward input that does not fit the model; the message names the tensor and the value. */
  static final class InvalidInputException extends Exception {
    private static final long serialVersionUID = 1L;

    InvalidInputException(String message) {
      super(message);
    }
  }
}
