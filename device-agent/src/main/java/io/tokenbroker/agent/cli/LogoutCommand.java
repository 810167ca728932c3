package io.tokenbroker.agent.cli;

import io.tokenbroker.agent.broker.BrokerException;
import io.tokenbroker.agent.store.AgentState;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code device-agent logout}: revokes the refresh family at the broker (RFC 7009), then wipes local state. */
@Command(name = "logout", description = "Revoke this device's tokens at the broker, then delete its local state "
    + "and keys. Stop 'device-agent run' first.")
final class LogoutCommand implements Callable<Integer> {
  @ParentCommand AgentCommand parent;

  @Option(names = "--local-only", description = "wipe local state without telling the broker (broker unreachable "
      + "for good); the refresh token then stays valid at the broker until it expires or an operator revokes it")
  boolean localOnly;

  @Override
  public Integer call() {
    return AgentCommand.guarded(() -> {
      try (AgentRuntime rt = AgentRuntime.open(parent.config(), true)) {
        Optional<AgentState> state = rt.loadState();
        if (state.isPresent() && state.get().hasRefreshToken() && !localOnly) {
          try {
            rt.brokerClient(rt.proofs(rt.dpopKey(state.get()))).revokeRefreshToken(state.get().refreshToken());
          } catch (BrokerException e) {
            System.err.println("device-agent: error: the broker did not confirm the revocation ("
                + e.getMessage() + "); nothing was deleted. Retry, or use --local-only");
            return e.exitCode();
          }
          System.out.println("Tokens revoked at the broker.");
        }
        rt.wipeEverything();
        System.out.println("Local state and keys deleted.");
        return 0;
      }
    });
  }
}
