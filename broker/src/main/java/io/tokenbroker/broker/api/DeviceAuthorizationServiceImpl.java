package io.tokenbroker.broker.api;

import io.grpc.stub.StreamObserver;
import io.tokenbroker.broker.device.DeviceFlow;
import io.tokenbroker.proto.v1.DeviceAuthorizationServiceGrpc;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationRequest;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationResponse;

/** gRPC adapter for RFC 8628 §3.1-3.2. */
public final class DeviceAuthorizationServiceImpl extends DeviceAuthorizationServiceGrpc.DeviceAuthorizationServiceImplBase {
  private final DeviceFlow flow;
  private final GrpcErrors errors;

  public DeviceAuthorizationServiceImpl(DeviceFlow flow, GrpcErrors errors) {
    this.flow = flow;
    this.errors = errors;
  }

  @Override
  public void startDeviceAuthorization(StartDeviceAuthorizationRequest request,
      StreamObserver<StartDeviceAuthorizationResponse> observer) {
    Unary.run(observer, errors, () -> {
      DeviceFlow.Started s = flow.start(request.getClientId(), request.getScopeList(), request.getAudienceList());
      return StartDeviceAuthorizationResponse.newBuilder()
          .setDeviceCode(s.deviceCode())
          .setUserCode(s.userCode())
          .setVerificationUri(s.verificationUri().toString())
          .setVerificationUriComplete(s.verificationUriComplete().toString())
          .setExpiresIn(Protos.duration(s.expiresIn()))
          .setInterval(Protos.duration(s.interval()))
          .build();
    });
  }
}
