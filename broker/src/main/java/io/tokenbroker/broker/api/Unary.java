package io.tokenbroker.broker.api;

import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs a unary handler: the response after the use case returned (and committed), or one mapped error. */
final class Unary {
  private static final Logger log = LoggerFactory.getLogger(Unary.class);

  private Unary() {}

  static <T> void run(StreamObserver<T> observer, GrpcErrors errors, Supplier<T> handler) {
    T response;
    try {
      response = handler.get();
    } catch (RuntimeException e) {
      errors.recordRefusal(e);
      StatusRuntimeException status = errors.toStatus(e);
      // What the caller is told, no more: a description never carries request data that could be a secret.
      log.debug("{} refused: {}", RequestContext.FULL_METHOD.get(), status.getStatus().getDescription());
      observer.onError(status);
      return;
    }
    observer.onNext(response);
    observer.onCompleted();
  }
}
