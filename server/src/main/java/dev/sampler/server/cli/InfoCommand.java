package dev.sampler.server.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.engine.backend.TensorBackend;
import dev.sampler.engine.unet.UNet2DModel;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code sampler info}: architecture summary, parameter count and SHA-256 of every model file. */
@Command(
    name = "info",
    mixinStandardHelpOptions = true,
    description = "Describe a model directory: architecture, parameter count, SHA-256 of every file.")
final class InfoCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--model", required = true, paramLabel = "DIR", description = "model directory")
  Path model;

  @Option(names = "--json", description = "print JSON instead of text")
  boolean json;

  @picocli.CommandLine.Mixin BackendMixin backendOptions;

  @Override
  public Integer call() throws Exception {
    PrintWriter o = spec.commandLine().getOut();
    ModelFiles files = ModelFiles.scan(model);
    try (TensorBackend backend = backendOptions.create();
        UNet2DModel unet = UNet2DModel.load(model, backend)) {
      if (json) {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = mapper.createObjectNode();
        root.put("model", model.toString());
        root.put("architecture", "UNet2DModel");
        root.put("parameters", unet.parameterCount());
        root.put("summary", unet.summary());
        ArrayNode arr = root.putArray("files");
        for (ModelFiles.Entry e : files.entries()) {
          arr.addObject().put("path", e.path()).put("size", e.size()).put("sha256", e.sha256());
        }
        o.println(mapper.writeValueAsString(root));
      } else {
        o.println("model: " + model);
        o.println(unet.summary().stripTrailing());
        o.printf("parameters: %,d%n", unet.parameterCount());
        o.println("files:");
        for (ModelFiles.Entry e : files.entries()) {
          o.printf("  sha256:%s  %,12d  %s%n", e.sha256(), e.size(), e.path());
        }
      }
    }
    return 0;
  }
}
