package io.tokenbroker.agent.cli;

import io.grpc.StatusRuntimeException;
import io.tokenbroker.agent.AgentException;
import io.tokenbroker.agent.ExitCodes;
import io.tokenbroker.agent.broker.BrokerException;
import io.tokenbroker.agent.config.AgentConfig;
import io.tokenbroker.agent.dpop.DpopProofs;
import io.tokenbroker.agent.local.LocalApiClient;
import io.tokenbroker.agent.refresh.TokenKeeper;
import io.tokenbroker.agent.store.AgentState;
import io.tokenbroker.proto.v1.CreateDpopProofRequest;
import io.tokenbroker.proto.v1.GetAccessTokenRequest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Access tokens and proofs for the CLI: from the running daemon over its socket when there is one, otherwise
 * from the store directly under the state lock (refreshing first if the stored token is close to expiry).
 */
final class TokenSource {
  private static final Duration MIN_LEFT = Duration.ofSeconds(30);

  private TokenSource() {}

  /** What the CLI prints. */
  record Result(String accessToken, String proof) {}

  static Result get(AgentConfig config, String audience, ProofSpec proof) {
    Optional<LocalApiClient> daemon = LocalApiClient.connect(config.socketPath());
    if (daemon.isPresent()) {
      try (LocalApiClient c = daemon.get()) {
        String token = null;
        if (proof == null || proof.withToken()) {
          token = c.stub().getAccessToken(GetAccessTokenRequest.newBuilder().setAudience(audience).build())
              .getAccessToken();
        }
        String dpop = null;
        if (proof != null) {
          CreateDpopProofRequest.Builder r = CreateDpopProofRequest.newBuilder().setMethod(proof.method())
              .setUri(proof.uri());
          if (token != null) {
            r.setAccessToken(token);
          }
          if (proof.nonce() != null) {
            r.setNonce(proof.nonce());
          }
          dpop = c.stub().createDpopProof(r.build()).getProof();
        }
        return new Result(token, dpop);
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() != io.grpc.Status.Code.UNAVAILABLE || !daemonGone(e)) {
          BrokerException why = BrokerException.of(e);
          throw new AgentException(why.exitCode(), "the running agent refused: " + why.getMessage()
              .replace("broker refused: ", ""));
        }
        // A stale socket of a crashed daemon: fall through to the store.
      }
    }
    try (AgentRuntime rt = AgentRuntime.open(config, true)) {
      AgentState state = rt.requireEnrolled();
      DpopProofs proofs = rt.proofs(rt.dpopKey(state));
      String token = null;
      if (proof == null || proof.withToken()) {
        token = storedToken(state);
        if (token == null) {
          TokenKeeper keeper = new TokenKeeper(rt.store(false), state, rt.brokerClient(proofs), config.audiences(),
              Clock.systemUTC(), System::nanoTime);
          TokenKeeper.Outcome outcome = keeper.refresh();
          if (outcome != TokenKeeper.Outcome.REFRESHED) {
            throw new AgentException(exitOf(outcome), "cannot refresh the access token: "
                + keeper.status().lastErrorReason() + " " + keeper.status().lastError());
          }
          state = keeper.state();
          token = state.accessToken();
        }
        if (!audience.isEmpty() && !state.audiences().contains(audience)) {
          throw new AgentException(ExitCodes.REFUSED, "the device's token is not issued for audience " + audience);
        }
      }
      String dpop = proof == null ? null : proofs.create(proof.method(), proof.uri(), token, proof.nonce());
      return new Result(token, dpop);
    }
  }

  private static boolean daemonGone(StatusRuntimeException e) {
    // A refusal from a live daemon carries ErrorInfo; a dead socket gives a bare UNAVAILABLE.
    return io.grpc.protobuf.StatusProto.fromThrowable(e) == null
        || io.grpc.protobuf.StatusProto.fromThrowable(e).getDetailsCount() == 0;
  }

  private static String storedToken(AgentState state) {
    if (state.accessToken() == null || state.accessExpiresAt() == null || state.rotationStartedAt() != null) {
      return null;
    }
    return Instant.now().plus(MIN_LEFT).isBefore(state.accessExpiresAt()) ? state.accessToken() : null;
  }

  private static int exitOf(TokenKeeper.Outcome outcome) {
    return switch (outcome) {
      case REVOKED -> ExitCodes.REVOKED;
      case SUSPENDED -> ExitCodes.SUSPENDED;
      case LOGIN_REQUIRED -> ExitCodes.LOGIN_REQUIRED;
      default -> ExitCodes.UNREACHABLE;
    };
  }

  /** The proof asked for on the command line. */
  record ProofSpec(String method, String uri, String nonce, boolean withToken) {}
}
