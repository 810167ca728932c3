package io.tokenbroker.agent.testing;

import com.google.protobuf.Any;
import com.google.rpc.ErrorInfo;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import io.tokenbroker.proto.v1.DeviceAuthorizationServiceGrpc;
import io.tokenbroker.proto.v1.ErrorReason;
import io.tokenbroker.proto.v1.ErrorReasonProto;
import io.tokenbroker.proto.v1.RevokeTokenRequest;
import io.tokenbroker.proto.v1.RevokeTokenResponse;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationRequest;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationResponse;
import io.tokenbroker.proto.v1.TokenRequest;
import io.tokenbroker.proto.v1.TokenResponse;
import io.tokenbroker.proto.v1.TokenServiceGrpc;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * A broker whose answers a test scripts, over the in-process transport: each call takes the next scripted
 * answer (a response, or an error in the broker's ErrorInfo model). It records what the agent sent. The real
 * broker is exercised by the e2e module; this one makes every refusal reproducible in a unit test.
 */
public final class ScriptedBroker implements AutoCloseable {
  public static final Metadata.Key<String> DPOP = Metadata.Key.of("dpop", Metadata.ASCII_STRING_MARSHALLER);
  public static final Metadata.Key<String> NONCE = Metadata.Key.of("dpop-nonce", Metadata.ASCII_STRING_MARSHALLER);

  /** A recorded call: the request and its {@code dpop} proof. */
  public record Call(Object request, String proof) {}

  public final Queue<Supplier<Object>> answers = new ConcurrentLinkedQueue<>();
  public final List<Call> calls = new CopyOnWriteArrayList<>();
  private final Server server;
  private final ManagedChannel channel;
  private final ThreadLocal<String> proof = new ThreadLocal<>();

  public ScriptedBroker() throws Exception {
    String name = InProcessServerBuilder.generateName();
    ServerInterceptor capture = new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        String p = headers.get(DPOP);
        return new io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener<>(
            next.startCall(call, headers)) {
          @Override
          public void onHalfClose() {
            proof.set(p);
            super.onHalfClose();
          }
        };
      }
    };
    server = InProcessServerBuilder.forName(name).directExecutor()
        .addService(ServerInterceptors.intercept(new TokenServiceGrpc.TokenServiceImplBase() {
          @Override
          public void token(TokenRequest request, StreamObserver<TokenResponse> observer) {
            answer(request, observer);
          }

          @Override
          public void revokeToken(RevokeTokenRequest request, StreamObserver<RevokeTokenResponse> observer) {
            answer(request, observer);
          }
        }, capture))
        .addService(ServerInterceptors.intercept(new DeviceAuthorizationServiceGrpc.DeviceAuthorizationServiceImplBase() {
          @Override
          public void startDeviceAuthorization(StartDeviceAuthorizationRequest request,
              StreamObserver<StartDeviceAuthorizationResponse> observer) {
            answer(request, observer);
          }
        }, capture))
        .build().start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
  }

  public ManagedChannel channel() {
    return channel;
  }

  @SuppressWarnings("unchecked")
  private <R> void answer(Object request, StreamObserver<R> observer) {
    calls.add(new Call(request, proof.get()));
    Supplier<Object> next = answers.poll();
    Object a = next == null ? error(ErrorReason.ERROR_REASON_SERVER_ERROR, "no scripted answer", null) : next.get();
    if (a instanceof StatusRuntimeException e) {
      observer.onError(e);
    } else {
      observer.onNext((R) a);
      observer.onCompleted();
    }
  }

  /** An error as the broker's GrpcErrors builds it. */
  public static StatusRuntimeException error(ErrorReason reason, String description, String nonce) {
    var options = reason.getValueDescriptor().getOptions();
    ErrorInfo info = ErrorInfo.newBuilder().setReason(reason.name().substring("ERROR_REASON_".length()))
        .setDomain("https://broker.test").putMetadata("error", options.getExtension(ErrorReasonProto.oauthError))
        .putMetadata("error_description", description).build();
    Metadata trailers = new Metadata();
    if (nonce != null) {
      trailers.put(NONCE, nonce);
    }
    return StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
        .setCode(options.getExtension(ErrorReasonProto.grpcCode).getNumber()).setMessage(description)
        .addDetails(Any.pack(info)).build(), trailers);
  }

  /** Tokens as the broker answers a grant. */
  public static TokenResponse tokens(String access, String refresh, long lifetimeSeconds) {
    return TokenResponse.newBuilder().setAccessToken(access).setRefreshToken(refresh).setDeviceId("dev-1")
        .setExpiresIn(com.google.protobuf.Duration.newBuilder().setSeconds(lifetimeSeconds))
        .setRefreshTokenExpiresIn(com.google.protobuf.Duration.newBuilder().setSeconds(3600))
        .addAudience("https://api.example").addScope("telemetry:write").build();
  }

  @Override
  public void close() {
    channel.shutdownNow();
    server.shutdownNow();
  }
}
