package dev.sampler.server.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.engine.schedule.NoiseScheduler;
import dev.sampler.engine.schedule.SchedulerConfig;
import dev.sampler.engine.schedule.Schedulers;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sampler schedule}: a scheduler's timesteps and sigmas as diffusers computes them. */
@Command(
    name = "schedule",
    mixinStandardHelpOptions = true,
    description = {
      "Print a scheduler's timesteps and sigmas as JSON.",
      "Output: {\"timesteps\": [...], \"sigmas\": [...], \"init_noise_sigma\": x} (sigmas empty "
          + "where the scheduler has none). The scheduler is the config's _class_name, or --scheduler "
          + "NAME on top of the config."
    })
final class ScheduleCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--config", required = true, paramLabel = "FILE", description = "a diffusers scheduler_config.json")
  Path config;

  @Option(names = "--steps", required = true, paramLabel = "N", description = "number of inference steps")
  int steps;

  @Option(names = "--scheduler", paramLabel = "NAME",
      description = "ddpm, ddim, euler, euler-ancestral, heun, lms, dpmpp-2m, dpmpp-2m-karras, dpmpp-2m-sde or"
          + " unipc (default: the config's _class_name)")
  String scheduler;

  @Override
  public Integer call() throws Exception {
    SchedulerConfig sc = SchedulerConfig.read(config);
    NoiseScheduler s = scheduler == null ? Schedulers.create(sc) : Schedulers.named(scheduler, sc);
    s.setTimesteps(steps);
    ObjectMapper json = new ObjectMapper();
    ObjectNode root = json.createObjectNode();
    ArrayNode ts = root.putArray("timesteps");
    for (double t : s.timesteps()) {
      if (t == Math.rint(t) && Math.abs(t) < 1e15) {
        ts.add((long) t);
      } else {
        ts.add(t);
      }
    }
    ArrayNode sig = root.putArray("sigmas");
    for (double v : s.sigmas()) {
      sig.add(v);
    }
    root.put("init_noise_sigma", s.initNoiseSigma());
    root.put("scheduler_class", s.className());
    spec.commandLine().getOut().println(json.writeValueAsString(root));
    return 0;
  }
}
