package io.tokenbroker.bench;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.tokenbroker.proto.v1.AdminServiceGrpc;
import io.tokenbroker.proto.v1.ApproveDeviceAuthorizationRequest;
import io.tokenbroker.proto.v1.DeviceAuthorizationServiceGrpc;
import io.tokenbroker.proto.v1.DeviceCodeGrant;
import io.tokenbroker.proto.v1.RefreshTokenGrant;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationRequest;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationResponse;
import io.tokenbroker.proto.v1.TokenRequest;
import io.tokenbroker.proto.v1.TokenResponse;
import io.tokenbroker.proto.v1.TokenServiceGrpc;
import java.util.concurrent.TimeUnit;

/**
 * One device of the fleet: its own P-256 DPoP key, enrolled through the real RFC 8628 device flow (start, the
 * operator approves over mutual TLS, the first token poll), then refreshing with the rotated refresh token each
 * time and a fresh proof per call.
 *
 * <p>Thread-safety: one worker thread at a time.
 */
final class VirtualDevice {
  static final long DEADLINE_SECONDS = 15;

  private final TokenServiceGrpc.TokenServiceBlockingStub tokens;
  private final DeviceAuthorizationServiceGrpc.DeviceAuthorizationServiceBlockingStub authorizations;
  private final AdminServiceGrpc.AdminServiceBlockingStub admin;
  private final String clientId;
  private final String htu;
  private DpopKey key;
  private String refreshToken;
  private String deviceId;

  VirtualDevice(ManagedChannel channel, ManagedChannel operatorChannel, String clientId, String htu) {
    this.tokens = TokenServiceGrpc.newBlockingStub(channel);
    this.authorizations = DeviceAuthorizationServiceGrpc.newBlockingStub(channel);
    this.admin = AdminServiceGrpc.newBlockingStub(operatorChannel);
    this.clientId = clientId;
    this.htu = htu;
  }

  /** The whole device flow with a new key: start, approve (as the operator), first token. */
  void enrol() {
    key = new DpopKey();
    StartDeviceAuthorizationResponse started = authorizations.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
        .startDeviceAuthorization(StartDeviceAuthorizationRequest.newBuilder().setClientId(clientId).build());
    admin.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS).approveDeviceAuthorization(
        ApproveDeviceAuthorizationRequest.newBuilder().setUserCode(started.getUserCode()).setOwner("bench").build());
    TokenResponse issued = withProof().token(TokenRequest.newBuilder().setClientId(clientId)
        .setDeviceCode(DeviceCodeGrant.newBuilder().setDeviceCode(started.getDeviceCode())).build());
    accept(issued);
    deviceId = issued.getDeviceId();
  }

  /** One refresh grant; on success the rotated refresh token replaces the spent one. */
  void refresh() {
    TokenResponse issued = withProof().token(TokenRequest.newBuilder().setClientId(clientId)
        .setRefreshToken(RefreshTokenGrant.newBuilder().setRefreshToken(refreshToken)).build());
    accept(issued);
  }

  /**
   * One refresh; after a failure the refresh chain may be broken (a spent or unknown token), so the device
   * enrols again before the failure is reported (the failure is counted, its time is not a latency sample).
   */
  void refreshOrReenrol() {
    try {
      refresh();
    } catch (RuntimeException e) {
      try {
        enrol();
      } catch (RuntimeException again) {
        e.addSuppressed(again);
      }
      throw e;
    }
  }

  private void accept(TokenResponse issued) {
    if (issued.getAccessToken().isEmpty() || issued.getRefreshToken().isEmpty()) {
      throw new IllegalStateException("token response without access or refresh token");
    }
    refreshToken = issued.getRefreshToken();
  }

  private TokenServiceGrpc.TokenServiceBlockingStub withProof() {
    Metadata md = new Metadata();
    md.put(GrpcSupport.DPOP, key.proof(htu));
    return tokens.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
  }

  String deviceId() {
    return deviceId;
  }
}
