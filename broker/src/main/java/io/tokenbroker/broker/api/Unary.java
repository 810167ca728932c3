package io.tokenbroker.broker.api;

import io.grpc.stub.StreamObserver;
import java.util.function.Supplier;

/** Runs a unary handler: the response after the use case returned (and committed), or one mapped error. */
final class Unary {
  private Unary() {}

  static <T> void run(StreamObserver<T> observer, GrpcErrors errors, Supplier<T> handler) {
    T response;
    try {
      response = handler.get();
    } catch (RuntimeException e) {
      errors.recordRefusal(e);
      observer.onError(errors.toStatus(e));
      return;
    }
    observer.onNext(response);
    observer.onCompleted();
  }
}
