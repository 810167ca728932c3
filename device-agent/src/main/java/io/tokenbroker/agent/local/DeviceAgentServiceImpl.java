package io.tokenbroker.agent.local;

import com.google.protobuf.Duration;
import com.google.protobuf.Timestamp;
import io.grpc.stub.StreamObserver;
import io.tokenbroker.agent.dpop.DpopProofs;
import io.tokenbroker.agent.refresh.AgentPhase;
import io.tokenbroker.agent.refresh.TokenKeeper;
import io.tokenbroker.proto.v1.AgentState;
import io.tokenbroker.proto.v1.CreateDpopProofRequest;
import io.tokenbroker.proto.v1.CreateDpopProofResponse;
import io.tokenbroker.proto.v1.DeviceAgentServiceGrpc;
import io.tokenbroker.proto.v1.DeviceState;
import io.tokenbroker.proto.v1.ErrorReason;
import io.tokenbroker.proto.v1.GetAccessTokenRequest;
import io.tokenbroker.proto.v1.GetAccessTokenResponse;
import io.tokenbroker.proto.v1.GetAgentStatusRequest;
import io.tokenbroker.proto.v1.GetAgentStatusResponse;
import io.tokenbroker.proto.v1.TokenType;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The local API (proto {@code DeviceAgentService}): access tokens served from memory, DPoP proofs signed for the
 * calling application, and the agent's health. It never waits for a refresh in flight; when no valid token is
 * held it says why (suspended, revoked, not enrolled, broker unreachable) and wakes the refresh loop.
 */
public final class DeviceAgentServiceImpl extends DeviceAgentServiceGrpc.DeviceAgentServiceImplBase {
  private static final Pattern METHOD = Pattern.compile("[A-Z]{1,16}");
  private static final java.util.Set<String> LOOPBACK = java.util.Set.of("localhost", "127.0.0.1", "[::1]");

  private final TokenKeeper keeper;
  private final DpopProofs proofs;
  private final String brokerUrl;
  private final Runnable nudge;
  private final LocalErrors errors;

  /**
   * @param brokerUrl the broker's external URL: proofs for it are refused so applications cannot act as the
   *     device towards the broker
   * @param nudge wakes the refresh loop
   */
  public DeviceAgentServiceImpl(TokenKeeper keeper, DpopProofs proofs, String brokerUrl, Runnable nudge) {
    this.keeper = keeper;
    this.proofs = proofs;
    this.brokerUrl = brokerUrl;
    this.nudge = nudge;
    this.errors = new LocalErrors(brokerUrl);
  }

  @Override
  public void getAccessToken(GetAccessTokenRequest request, StreamObserver<GetAccessTokenResponse> observer) {
    String audience = request.getAudience();
    if (audience.length() > 512) {
      observer.onError(errors.of(ErrorReason.ERROR_REASON_INVALID_REQUEST, "audience is longer than 512 characters"));
      return;
    }
    Optional<TokenKeeper.CurrentToken> token = keeper.currentToken();
    if (token.isEmpty()) {
      nudge.run();
      observer.onError(whyNoToken());
      return;
    }
    TokenKeeper.CurrentToken t = token.get();
    if (!audience.isEmpty() && !t.audiences().contains(audience)) {
      observer.onError(errors.of(ErrorReason.ERROR_REASON_INVALID_TARGET,
          "the device's token is not issued for this audience"));
      return;
    }
    long left = (t.expiresAtNanos() - System.nanoTime()) / 1_000_000_000L;
    observer.onNext(GetAccessTokenResponse.newBuilder().setAccessToken(t.accessToken())
        .setTokenType(TokenType.TOKEN_TYPE_DPOP).setExpiresIn(Duration.newBuilder().setSeconds(Math.max(0, left)))
        .build());
    observer.onCompleted();
  }

  private io.grpc.StatusRuntimeException whyNoToken() {
    TokenKeeper.Status s = keeper.status();
    if ("revoked".equals(s.deviceState())) {
      return errors.of(ErrorReason.ERROR_REASON_DEVICE_REVOKED, "the device has been revoked");
    }
    if ("suspended".equals(s.deviceState()) && s.phase() == AgentPhase.BLOCKED) {
      return errors.of(ErrorReason.ERROR_REASON_DEVICE_SUSPENDED, "the device is suspended");
    }
    if (s.phase() == AgentPhase.LOGIN_REQUIRED) {
      return errors.of(ErrorReason.ERROR_REASON_AUTHORIZATION_PENDING, "the device is not enrolled; run login");
    }
    return errors.of(ErrorReason.ERROR_REASON_TEMPORARILY_UNAVAILABLE,
        "no valid access token right now; the agent is refreshing");
  }

  @Override
  public void createDpopProof(CreateDpopProofRequest request, StreamObserver<CreateDpopProofResponse> observer) {
    String refusal = check(request);
    if (refusal != null) {
      observer.onError(errors.of(ErrorReason.ERROR_REASON_INVALID_REQUEST, refusal));
      return;
    }
    if (underBroker(request.getUri())) {
      observer.onError(errors.of(ErrorReason.ERROR_REASON_UNAUTHORIZED_CLIENT,
          "proofs for the broker's own URLs are not handed out"));
      return;
    }
    String proof = proofs.create(request.getMethod(), request.getUri(),
        request.getAccessToken().isEmpty() ? null : request.getAccessToken(),
        request.getNonce().isEmpty() ? null : request.getNonce());
    observer.onNext(CreateDpopProofResponse.newBuilder().setProof(proof).setJkt(proofs.key().thumbprint()).build());
    observer.onCompleted();
  }

  private static String check(CreateDpopProofRequest r) {
    if (!METHOD.matcher(r.getMethod()).matches()) {
      return "method must be 1-16 uppercase ASCII letters";
    }
    if (r.getUri().length() > 2048) {
      return "uri is longer than 2048 characters";
    }
    if (r.getAccessToken().length() > 4096) {
      return "access_token is longer than 4096 characters";
    }
    if (r.getNonce().length() > 512) {
      return "nonce is longer than 512 characters";
    }
    try {
      URI uri = new URI(r.getUri());
      if (uri.getHost() == null || !("https".equalsIgnoreCase(uri.getScheme())
          || "http".equalsIgnoreCase(uri.getScheme()) && LOOPBACK.contains(uri.getHost()))) {
        return "uri must be an absolute https URI (http only for loopback development servers)";
      }
      if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
        return "uri must not have a query or fragment (RFC 9449 §4.2 htu)";
      }
    } catch (URISyntaxException e) {
      return "uri is not a valid URI";
    }
    return null;
  }

  private boolean underBroker(String uri) {
    try {
      URI target = new URI(uri);
      URI broker = new URI(brokerUrl);
      return target.getHost().equalsIgnoreCase(broker.getHost()) && port(target) == port(broker);
    } catch (URISyntaxException e) {
      return true;
    }
  }

  private static int port(URI uri) {
    return uri.getPort() == -1 ? 443 : uri.getPort();
  }

  @Override
  public void getAgentStatus(GetAgentStatusRequest request, StreamObserver<GetAgentStatusResponse> observer) {
    observer.onNext(toProto(keeper.status()));
    observer.onCompleted();
  }

  /** The status message (also used by {@code status --json}). */
  public static GetAgentStatusResponse toProto(TokenKeeper.Status s) {
    GetAgentStatusResponse.Builder b = GetAgentStatusResponse.newBuilder()
        .setState(switch (s.phase()) {
          case STARTING -> AgentState.AGENT_STATE_STARTING;
          case READY -> AgentState.AGENT_STATE_READY;
          case RETRYING -> AgentState.AGENT_STATE_RETRYING;
          case BLOCKED -> AgentState.AGENT_STATE_BLOCKED;
          case LOGIN_REQUIRED -> AgentState.AGENT_STATE_UNSPECIFIED;
        })
        .setDeviceState(deviceState(s.deviceState()));
    if (s.accessExpiresIn() != null) {
      b.setAccessTokenExpiresIn(Duration.newBuilder().setSeconds(s.accessExpiresIn().toSeconds()));
    }
    if (s.refreshExpiresIn() != null) {
      b.setRefreshTokenExpiresIn(Duration.newBuilder().setSeconds(s.refreshExpiresIn().toSeconds()));
    }
    if (s.lastRefreshAt() != null) {
      Instant at = s.lastRefreshAt();
      b.setLastRefreshAt(Timestamp.newBuilder().setSeconds(at.getEpochSecond()).setNanos(at.getNano()));
    }
    if (s.lastError() != null) {
      b.setLastError(s.lastError());
    }
    if (s.lastErrorReason() != null) {
      try {
        b.setLastErrorReason(ErrorReason.valueOf("ERROR_REASON_" + s.lastErrorReason()));
      } catch (IllegalArgumentException e) {
        b.setLastErrorReason(ErrorReason.ERROR_REASON_UNSPECIFIED);
      }
    }
    if (s.deviceId() != null) {
      b.setDeviceId(s.deviceId());
    }
    if (s.clientId() != null) {
      b.setClientId(s.clientId());
    }
    return b.build();
  }

  private static DeviceState deviceState(String state) {
    if (state == null) {
      return DeviceState.DEVICE_STATE_UNSPECIFIED;
    }
    try {
      return DeviceState.valueOf("DEVICE_STATE_" + state.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      return DeviceState.DEVICE_STATE_UNSPECIFIED;
    }
  }
}
