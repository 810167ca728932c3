package io.tokenbroker.agent.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code device-agent proof}: prints a DPoP proof (RFC 9449 §4) with {@code ath} for the current token. */
@Command(name = "proof", description = "Print a DPoP proof for one request (with ath for the current token).")
final class ProofCommand implements Callable<Integer> {
  @ParentCommand AgentCommand parent;

  @Option(names = "--method", required = true, paramLabel = "M", description = "HTTP method, e.g. POST")
  String method;

  @Option(names = "--uri", required = true, paramLabel = "U", description = "target URI without query/fragment")
  String uri;

  @Option(names = "--audience", paramLabel = "A", description = "audience of the token the proof accompanies")
  String audience = "";

  @Option(names = "--nonce", paramLabel = "N", description = "server-provided DPoP nonce")
  String nonce;

  @Option(names = "--no-ath", description = "a proof without an access token (no ath)")
  boolean noAth;

  @Option(names = "--with-token", description = "print the access token on a second line")
  boolean withToken;

  @Override
  public Integer call() {
    return AgentCommand.guarded(() -> {
      TokenSource.Result r = TokenSource.get(parent.config(), audience,
          new TokenSource.ProofSpec(method, uri, nonce, !noAth));
      System.out.println(r.proof());
      if (withToken && r.accessToken() != null) {
        System.out.println(r.accessToken());
      }
      return 0;
    });
  }
}
