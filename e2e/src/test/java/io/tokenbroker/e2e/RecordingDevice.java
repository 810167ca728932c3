package io.tokenbroker.e2e;

import com.google.protobuf.Any;
import com.google.rpc.ErrorInfo;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.MetadataUtils;
import io.tokenbroker.proto.v1.DeviceAuthorizationServiceGrpc;
import io.tokenbroker.proto.v1.DeviceCodeGrant;
import io.tokenbroker.proto.v1.RefreshTokenGrant;
import io.tokenbroker.proto.v1.RevokeTokenRequest;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationRequest;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationResponse;
import io.tokenbroker.proto.v1.TokenRequest;
import io.tokenbroker.proto.v1.TokenResponse;
import io.tokenbroker.proto.v1.TokenServiceGrpc;
import io.tokenbroker.verifier.testing.DpopTestKey;
import java.util.concurrent.TimeUnit;

/**
 * A device of the test's own, calling the broker over TLS as the agent does (DPoP proofs in {@code dpop}
 * metadata), so that the test knows the device code, refresh tokens and proofs it dealt with: each one is
 * added to {@link IssuedSecrets}, and each refusal it receives (status, description, {@code ErrorInfo}) goes
 * to the {@link Transcript}.
 */
final class RecordingDevice implements AutoCloseable {
  private static final Metadata.Key<String> DPOP = Metadata.Key.of("dpop", Metadata.ASCII_STRING_MARSHALLER);
  /** The broker's {@code broker.external-url} of a home made by {@code init}: base of every {@code htu}. */
  private static final String EXTERNAL_URL = "https://localhost/";

  @FunctionalInterface
  interface Call {
    void run() throws Exception;
  }

  final DpopTestKey key = new DpopTestKey();
  private final ManagedChannel channel;
  private final String clientId;
  private final IssuedSecrets secrets;
  private final Transcript transcript;

  RecordingDevice(BrokerHome broker, String clientId, IssuedSecrets secrets, Transcript transcript)
      throws Exception {
    channel = NettyChannelBuilder.forAddress("localhost", broker.grpcPort, TlsChannelCredentials.newBuilder()
        .trustManager(broker.caFile().toFile()).build()).build();
    this.clientId = clientId;
    this.secrets = secrets;
    this.transcript = transcript;
  }

  StartDeviceAuthorizationResponse start() {
    StartDeviceAuthorizationResponse r = DeviceAuthorizationServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(60, TimeUnit.SECONDS)
        .startDeviceAuthorization(StartDeviceAuthorizationRequest.newBuilder().setClientId(clientId).build());
    secrets.add("device code", r.getDeviceCode());
    secrets.addUserCode("user code", r.getUserCode());
    return r;
  }

  /** A fresh, correct proof of this device's key for {@code method}. */
  String proof(MethodDescriptor<?, ?> method) {
    return secrets.add("DPoP proof", key.proof(EXTERNAL_URL + method.getFullMethodName()));
  }

  /** A proof made elsewhere (another key, a forged one) that this device sends. */
  String sent(String proof) {
    return secrets.add("DPoP proof", proof);
  }

  TokenResponse deviceCode(String deviceCode) {
    return token(TokenRequest.newBuilder().setClientId(clientId)
        .setDeviceCode(DeviceCodeGrant.newBuilder().setDeviceCode(deviceCode)).build(),
        proof(TokenServiceGrpc.getTokenMethod()));
  }

  TokenResponse refresh(String refreshToken) {
    return refresh(refreshToken, proof(TokenServiceGrpc.getTokenMethod()));
  }

  TokenResponse refresh(String refreshToken, String proof) {
    return token(TokenRequest.newBuilder().setClientId(clientId)
        .setRefreshToken(RefreshTokenGrant.newBuilder().setRefreshToken(refreshToken)).build(), proof);
  }

  private TokenResponse token(TokenRequest request, String proof) {
    TokenResponse r = TokenServiceGrpc.newBlockingStub(channel).withInterceptors(withProof(proof))
        .withDeadlineAfter(60, TimeUnit.SECONDS).token(request);
    secrets.add("access token", r.getAccessToken());
    secrets.add("refresh token", r.getRefreshToken());
    return r;
  }

  /** RFC 7009 revocation of one of this device's tokens, with a proof of its key. */
  void revoke(String token) {
    TokenServiceGrpc.newBlockingStub(channel)
        .withInterceptors(withProof(proof(TokenServiceGrpc.getRevokeTokenMethod())))
        .withDeadlineAfter(60, TimeUnit.SECONDS)
        .revokeToken(RevokeTokenRequest.newBuilder().setClientId(clientId).setToken(token).build());
  }

  private static io.grpc.ClientInterceptor withProof(String proof) {
    Metadata md = new Metadata();
    md.put(DPOP, proof);
    return MetadataUtils.newAttachHeadersInterceptor(md);
  }

  /** Runs a call that the broker must refuse; records what the caller was told and returns its reason. */
  String refused(String what, Call call) throws Exception {
    try {
      call.run();
    } catch (StatusRuntimeException e) {
      transcript.add("gRPC error: " + what, describe(e));
      return reason(e);
    }
    throw new AssertionError(what + " was not refused");
  }

  /** Everything a client can read of a refusal: status, description, every detail, the text trailers. */
  static String describe(StatusRuntimeException e) throws Exception {
    StringBuilder b = new StringBuilder().append(e.getStatus().getCode()).append(": ")
        .append(e.getStatus().getDescription());
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    if (status != null) {
      b.append('\n').append(status.getMessage());
      for (Any detail : status.getDetailsList()) {
        if (detail.is(ErrorInfo.class)) {
          ErrorInfo info = detail.unpack(ErrorInfo.class);
          b.append("\nErrorInfo reason=").append(info.getReason()).append(" domain=").append(info.getDomain());
          info.getMetadataMap().forEach((k, v) -> b.append('\n').append(k).append('=').append(v));
        } else {
          b.append('\n').append(detail);
        }
      }
    }
    Metadata trailers = e.getTrailers();
    if (trailers != null) {
      for (String k : trailers.keys()) {
        if (!k.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
          b.append('\n').append(k).append(": ")
              .append(String.join(", ", trailers.getAll(Metadata.Key.of(k, Metadata.ASCII_STRING_MARSHALLER))));
        }
      }
    }
    return b.toString();
  }

  static String reason(StatusRuntimeException e) throws Exception {
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    if (status != null) {
      for (Any detail : status.getDetailsList()) {
        if (detail.is(ErrorInfo.class)) {
          return detail.unpack(ErrorInfo.class).getReason();
        }
      }
    }
    return e.getStatus().getCode().name();
  }

  @Override
  public void close() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
