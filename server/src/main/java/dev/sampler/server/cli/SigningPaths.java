package dev.sampler.server.cli;

import dev.sampler.integrity.Untrusted;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;

/** Where {@code sign} and {@code verify} find the signature, and what their ignore paths mean. */
final class SigningPaths {
  private SigningPaths() {}

  /** {@code --signature}, or {@code model.sig} in the model directory (beside a single-file model). */
  static Path signature(Path model, Path given) {
    if (given != null) {
      return given;
    }
    Path dir = Files.isRegularFile(model) ? model.toAbsolutePath().getParent() : model;
    return dir.resolve("model.sig");
  }

  /**
   * {@code --ignore-paths} relative to the model: a path (absolute, or relative to the current
   * directory) that lies inside the model, as upstream's CLI takes it; else a relative path is taken
   * relative to the model directory.
   *
   * @throws CommandLine.ParameterException for an absolute path outside the model, or one that
   *     leaves it with {@code ..}
   */
  static List<String> ignorePaths(CommandLine cmd, Path model, List<Path> given) {
    List<String> out = new ArrayList<>();
    Path root = model.toAbsolutePath().normalize();
    for (Path p : given) {
      Path abs = p.toAbsolutePath().normalize();
      Path inside = null;
      if (abs.startsWith(root) && !abs.equals(root)) {
        inside = root.relativize(abs);
      } else if (!p.isAbsolute()) {
        Path underModel = root.resolve(p).normalize();
        if (underModel.startsWith(root) && !underModel.equals(root)) {
          inside = root.relativize(underModel);
        }
      }
      if (inside == null) {
        throw new CommandLine.ParameterException(cmd, "--ignore-paths " + Untrusted.quote(p.toString())
            + " is not inside the model " + model);
      }
      List<String> parts = new ArrayList<>();
      inside.forEach(c -> parts.add(c.toString()));
      out.add(String.join("/", parts));
    }
    return out;
  }
}
