package io.tokenbroker.broker.api;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.tokenbroker.broker.logging.RequestIds;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * First in the chain: gives every call a request id ({@code x-request-id} from the caller when it is short and
 * safe, else a new one), returns it in the response headers (or in the trailers of a call closed without
 * headers), and holds it in the SLF4J MDC while the call's code runs: around the handler's start (the
 * interceptors after this one and the service's set-up) and around every listener callback, each of which may
 * run on a different thread. The end of each call is logged at DEBUG with its status code.
 *
 * <p>Thread-safety: stateless.
 */
public final class RequestIdInterceptor implements ServerInterceptor {
  static final Metadata.Key<String> REQUEST_ID =
      Metadata.Key.of(RequestIds.HEADER, Metadata.ASCII_STRING_MARSHALLER);
  private static final Logger log = LoggerFactory.getLogger(RequestIdInterceptor.class);

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call, Metadata headers,
      ServerCallHandler<ReqT, RespT> next) {
    String id = RequestIds.acceptOrCreate(headers.get(REQUEST_ID));
    String method = call.getMethodDescriptor().getFullMethodName();
    ServerCall<ReqT, RespT> tagged = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
      private boolean headersSent;

      @Override
      public void sendHeaders(Metadata responseHeaders) {
        responseHeaders.put(REQUEST_ID, id);
        headersSent = true;
        super.sendHeaders(responseHeaders);
      }

      @Override
      public void close(Status status, Metadata trailers) {
        if (!headersSent) {
          // A call refused before any response (e.g. by the authorization check) is trailers-only.
          trailers.put(REQUEST_ID, id);
        }
        try (RequestIds.Scope ignored = RequestIds.enter(id)) {
          log.debug("{} {}", method, status.getCode());
        }
        super.close(status, trailers);
      }
    };
    ServerCall.Listener<ReqT> listener;
    try (RequestIds.Scope ignored = RequestIds.enter(id)) {
      listener = next.startCall(tagged, headers);
    }
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onMessage(ReqT message) {
        try (RequestIds.Scope ignored = RequestIds.enter(id)) {
          super.onMessage(message);
        }
      }

      @Override
      public void onHalfClose() {
        try (RequestIds.Scope ignored = RequestIds.enter(id)) {
          super.onHalfClose();
        }
      }

      @Override
      public void onCancel() {
        try (RequestIds.Scope ignored = RequestIds.enter(id)) {
          super.onCancel();
        }
      }

      @Override
      public void onComplete() {
        try (RequestIds.Scope ignored = RequestIds.enter(id)) {
          super.onComplete();
        }
      }

      @Override
      public void onReady() {
        try (RequestIds.Scope ignored = RequestIds.enter(id)) {
          super.onReady();
        }
      }
    };
  }
}
