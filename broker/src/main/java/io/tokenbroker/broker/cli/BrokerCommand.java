package io.tokenbroker.broker.cli;

import io.tokenbroker.broker.BrokerFailure;
import io.tokenbroker.broker.keys.KeyOperationException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code broker}: the token broker's command line. */
@Command(name = "broker", mixinStandardHelpOptions = true, versionProvider = BrokerCommand.Version.class,
    description = "IoT token broker: sender-constrained OAuth tokens signed by keys in a PKCS#11 HSM.",
    subcommands = {InitCommand.class, ServeCommand.class, KeysCommand.class, AdminCommand.class})
public final class BrokerCommand implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
  }

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs the command line and returns the exit code; failures print one line, no stack trace. */
  public static int execute(String... args) {
    CommandLine cli = new CommandLine(new BrokerCommand());
    cli.setExecutionExceptionHandler(BrokerCommand::handle);
    return cli.execute(args);
  }

  private static int handle(Exception e, CommandLine cli, CommandLine.ParseResult parseResult) {
    PrintWriter err = cli.getErr();
    if (e instanceof BrokerFailure failure) {
      err.println("broker: error: " + failure.getMessage());
      return failure.exitCode();
    }
    if (e instanceof KeyOperationException keyFailure) {
      err.println("broker: error: " + keyFailure.getMessage());
      return BrokerFailure.EXIT_HSM;
    }
    // Unexpected: still one line for the operator; the class name helps a bug report. No stack trace, which
    // could carry request data.
    err.println("broker: internal error: " + e.getClass().getName() + ": " + e.getMessage());
    return 1;
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"broker " + BuildInfo.describe(BrokerCommand.class)};
    }
  }
}
