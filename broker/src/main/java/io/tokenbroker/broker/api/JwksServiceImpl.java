package io.tokenbroker.broker.api;

import io.grpc.stub.StreamObserver;
import io.tokenbroker.broker.keys.SigningKeyManager;
import io.tokenbroker.proto.v1.GetJwksRequest;
import io.tokenbroker.proto.v1.GetJwksResponse;
import io.tokenbroker.proto.v1.JwksServiceGrpc;

/** gRPC adapter: the published signing keys as a JWK Set (RFC 7517 §5). Public keys only. */
public final class JwksServiceImpl extends JwksServiceGrpc.JwksServiceImplBase {
  private final SigningKeyManager keys;

  public JwksServiceImpl(SigningKeyManager keys) {
    this.keys = keys;
  }

  @Override
  public void getJwks(GetJwksRequest request, StreamObserver<GetJwksResponse> responseObserver) {
    // JWKSet.toString() serialises public members only.
    responseObserver.onNext(GetJwksResponse.newBuilder().setJwksJson(keys.publishedKeys().toString()).build());
    responseObserver.onCompleted();
  }
}
