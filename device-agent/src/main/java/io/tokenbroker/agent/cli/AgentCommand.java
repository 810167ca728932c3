package io.tokenbroker.agent.cli;

import io.tokenbroker.agent.AgentException;
import io.tokenbroker.agent.ExitCodes;
import io.tokenbroker.agent.config.AgentConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** {@code device-agent}: the device-side client of the token broker. */
@Command(name = "device-agent", mixinStandardHelpOptions = true, versionProvider = AgentCommand.Version.class,
    description = "Enrols this device with the token broker (RFC 8628), keeps its DPoP-bound tokens fresh and "
        + "serves them to local applications over a Unix socket.",
    subcommands = {LoginCommand.class, RunCommand.class, StatusCommand.class, TokenCommand.class,
        ProofCommand.class, LogoutCommand.class},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:done", "2:bad arguments or configuration", "3:PKCS#11 token or key unusable",
        "4:state directory or file unusable (permissions, tampered, locked)", "5:refused by the broker",
        "6:broker unreachable", "7:access denied by the owner", "8:user code expired",
        "9:device revoked", "10:login required", "11:device suspended"})
public final class AgentCommand {
  @Option(names = "--config", scope = ScopeType.INHERIT, paramLabel = "FILE",
      description = "agent configuration (default: $DEVICE_AGENT_CONFIG or /etc/device-agent/agent.properties)")
  Path config;

  AgentConfig config() {
    Path file = config;
    if (file == null) {
      String env = System.getenv("DEVICE_AGENT_CONFIG");
      file = Path.of(env != null && !env.isBlank() ? env : "/etc/device-agent/agent.properties");
    }
    return AgentConfig.load(file);
  }

  /** Runs a subcommand body, turning failures into one line on stderr and the matching exit code. */
  static int guarded(Callable<Integer> body) {
    try {
      return body.call();
    } catch (AgentException e) {
      System.err.println("device-agent: error: " + e.getMessage());
      return e.exitCode();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      System.err.println("device-agent: interrupted");
      return 130;
    } catch (Exception e) {
      System.err.println("device-agent: error: unexpected " + e.getClass().getName());
      return 1;
    }
  }

  /** {@code --version}: the version and git commit the running jar was built from. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"device-agent " + BuildInfo.describe(AgentCommand.class)};
    }
  }

  public static void main(String[] args) {
    try {
      ProductLogLevel.apply(System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.println("device-agent: error: " + e.getMessage());
      System.exit(ExitCodes.CONFIG);
    }
    CommandLine cli = new CommandLine(new AgentCommand());
    cli.setParameterExceptionHandler((ex, a) -> {
      System.err.println("device-agent: error: " + ex.getMessage());
      return ExitCodes.CONFIG;
    });
    System.exit(cli.execute(args));
  }
}
