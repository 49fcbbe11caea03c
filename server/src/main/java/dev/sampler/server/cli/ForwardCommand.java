package dev.sampler.server.cli;

import dev.sampler.engine.backend.TensorBackend;
import dev.sampler.engine.unet.UNet2DModel;
import dev.sampler.integrity.safetensors.SafetensorsWriter;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code sampler forward}: one UNet forward pass from a safetensors input to a safetensors output. */
@Command(
    name = "forward",
    mixinStandardHelpOptions = true,
    description = {
      "Run one UNet2DModel forward pass, for people porting checkpoints.",
      "Input tensors: sample [N,C,H,W] F32, timestep [N] F32 (or I64), class_labels [N] I64 (class-conditional models).",
      "Output: the model output as tensor 'sample' with the same shape."
    })
final class ForwardCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--model", required = true, paramLabel = "DIR", description = "model directory (config.json + diffusion_pytorch_model.safetensors)")
  Path model;

  @Option(names = "--input", required = true, paramLabel = "FILE", description = "input safetensors file")
  Path input;

  @Option(names = "--out", required = true, paramLabel = "FILE", description = "output safetensors file (overwritten)")
  Path out;

  @picocli.CommandLine.Mixin BackendMixin backendOptions;

  @Override
  public Integer call() throws Exception {
    PrintWriter o = spec.commandLine().getOut();
    try (TensorBackend backend = backendOptions.create();
        UNet2DModel unet = UNet2DModel.load(model, backend)) {
      ForwardInput in = ForwardInput.read(input, unet.config());
      long t0 = System.nanoTime();
      float[] y = unet.forward(in.sample(), in.batch(), in.height(), in.width(), in.timesteps(), in.classLabels());
      long t1 = System.nanoTime();
      long[] shape = {in.batch(), unet.config().outChannels(), in.height(), in.width()};
      SafetensorsWriter.create()
          .metadata("producer", "sampler forward")
          .metadata("backend", backend.name())
          .addF32("sample", shape, y)
          .write(out);
      o.printf("forward: model=%s backend=%s batch=%d size=%dx%d time=%.1f ms -> %s%n",
          model, backend.name(), in.batch(), in.height(), in.width(), (t1 - t0) / 1e6, out);
    }
    return 0;
  }
}
