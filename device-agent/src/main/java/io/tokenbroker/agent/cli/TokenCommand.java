package io.tokenbroker.agent.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code device-agent token}: prints a valid access token (for scripts; applications use the socket). */
@Command(name = "token", description = "Print a valid access token on stdout.")
final class TokenCommand implements Callable<Integer> {
  @ParentCommand AgentCommand parent;

  @Option(names = "--audience", paramLabel = "URI", description = "the audience the token must be valid for")
  String audience = "";

  @Override
  public Integer call() {
    return AgentCommand.guarded(() -> {
      System.out.println(TokenSource.get(parent.config(), audience, null).accessToken());
      return 0;
    });
  }
}
