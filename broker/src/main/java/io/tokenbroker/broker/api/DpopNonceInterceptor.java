package io.tokenbroker.broker.api;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.tokenbroker.verifier.dpop.DpopNonces;

/** RFC 9449 §8.2: with server nonces on, every response carries a fresh nonce in {@code dpop-nonce}. */
public final class DpopNonceInterceptor implements ServerInterceptor {
  private final DpopNonces nonces;

  public DpopNonceInterceptor(DpopNonces nonces) {
    this.nonces = nonces;
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call, Metadata headers,
      ServerCallHandler<ReqT, RespT> next) {
    return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
      @Override
      public void sendHeaders(Metadata responseHeaders) {
        responseHeaders.put(GrpcErrors.DPOP_NONCE, nonces.issue());
        super.sendHeaders(responseHeaders);
      }
    }, headers);
  }
}
