package io.tokenbroker.verifier.testing;

import com.nimbusds.jose.jwk.JWKSet;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.tokenbroker.proto.v1.GetJwksRequest;
import io.tokenbroker.proto.v1.GetJwksResponse;
import io.tokenbroker.proto.v1.JwksServiceGrpc;
import java.util.concurrent.atomic.AtomicInteger;

/** The broker's {@code JwksService} as the proto defines it, serving a JWK Set the test sets, or down. */
public final class FakeJwksService extends JwksServiceGrpc.JwksServiceImplBase {
  private volatile JWKSet keys;
  private volatile boolean down;
  private final AtomicInteger calls = new AtomicInteger();

  public FakeJwksService(JWKSet keys) {
    this.keys = keys;
  }

  public void publish(JWKSet keys) {
    this.keys = keys;
  }

  /** While down, every call fails with UNAVAILABLE, as an unreachable broker does. */
  public void down(boolean down) {
    this.down = down;
  }

  public int calls() {
    return calls.get();
  }

  @Override
  public void getJwks(GetJwksRequest request, StreamObserver<GetJwksResponse> observer) {
    calls.incrementAndGet();
    if (down) {
      observer.onError(Status.UNAVAILABLE.withDescription("broker down").asRuntimeException());
      return;
    }
    observer.onNext(GetJwksResponse.newBuilder().setJwksJson(keys.toPublicJWKSet().toString()).build());
    observer.onCompleted();
  }
}
