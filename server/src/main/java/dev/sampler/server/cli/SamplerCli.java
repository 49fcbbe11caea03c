package dev.sampler.server.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point of {@code bin/sampler}. Each sub-command lives in its own class; this class only wires
 * them together and maps failures to exit codes: 0 success, 1 the command failed (the message says
 * which step and why), 2 the command line itself was wrong, 3 to 8 and 130 a call to a server that
 * did not succeed (see {@link ExitCode}).
 */
@Command(
    name = "sampler",
    mixinStandardHelpOptions = true,
    versionProvider = SamplerCli.Version.class,
    description = "Sandboxed diffusion sampler runtime: serve diffusion models over gRPC, call them, run, inspect and"
        + " port them.",
    footer = {"", "Exit codes: 0 success, 1 the command failed, 2 bad command line; a failed call to a server"
        + " exits 3 to 8 or 130 by its gRPC status (see 'sampler generate --help'); 'sampler serve' exits 11 to 17"
        + " when a start-up step fails and 20 on integrity drift (see 'sampler serve --help')."},
    subcommands = {
      DemoCommand.class,
      ServeCommand.class,
      GenerateCommand.class,
      ScheduleCommand.class,
      FidelityCommand.class,
      ForwardCommand.class,
      InfoCommand.class,
      KeygenCommand.class,
      SignCommand.class,
      VerifyCommand.class,
      SealCommand.class,
      CommandLine.HelpCommand.class
    })
public final class SamplerCli implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing command (try 'sampler --help')");
  }

  /** Builds the configured command line; visible for tests that run commands in-process. */
  public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
    CommandLine cl = new CommandLine(new SamplerCli());
    cl.setOut(out);
    cl.setErr(err);
    cl.setExecutionExceptionHandler(
        (ex, cmd, parseResult) -> {
          // A failed command prints one line naming the step and cause; no stack trace unless asked.
          cmd.getErr().println("error: " + CliFailure.describe(ex));
          int code = ex instanceof RemoteCallException r ? r.exitCode()
              : ex instanceof dev.sampler.server.startup.StartupException s ? ExitCode.startup(s.step())
              : ExitCode.FAILED;
          if (System.getenv("SAMPLER_DEBUG") != null) {
            ex.printStackTrace(cmd.getErr());
          }
          cmd.getErr().flush();
          return code;
        });
    return cl;
  }

  public static void main(String[] args) {
    PrintWriter out = new PrintWriter(System.out, true);
    PrintWriter err = new PrintWriter(System.err, true);
    int code = commandLine(out, err).execute(args);
    out.flush();
    err.flush();
    System.exit(code);
  }

  /** Reports the version recorded in the jar manifest (or "dev" when run from classes). */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = SamplerCli.class.getPackage().getImplementationVersion();
      return new String[] {"sampler " + (v == null ? "dev" : v) + " (Java " + Runtime.version() + ")"};
    }
  }
}
