package io.tokenbroker.verifier.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.tokenbroker.proto.v1.GetJwksRequest;
import io.tokenbroker.proto.v1.GetJwksResponse;
import io.tokenbroker.proto.v1.JwksServiceGrpc;
import io.tokenbroker.verifier.TokenVerifier;
import io.tokenbroker.verifier.testing.DpopTestKey;
import io.tokenbroker.verifier.testing.FakeBroker;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The interceptor in front of a service on in-process gRPC. The protected service here is any generated service
 * (JwksService) whose handler answers with the device id it finds in the Context.
 */
class AccessTokenInterceptorTest {
  private static final String BASE = "https://api.example.test";
  private static final String HTU = BASE + "/" + JwksServiceGrpc.getGetJwksMethod().getFullMethodName();
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  private static final Metadata.Key<String> DPOP = Metadata.Key.of("dpop", Metadata.ASCII_STRING_MARSHALLER);

  private FakeBroker broker;
  private TokenVerifier verifier;
  private Server server;
  private ManagedChannel channel;
  private final DpopTestKey device = new DpopTestKey();

  /** The protected service: echoes the caller it was given. */
  static final class WhoAmI extends JwksServiceGrpc.JwksServiceImplBase {
    @Override
    public void getJwks(GetJwksRequest request, StreamObserver<GetJwksResponse> observer) {
      observer.onNext(GetJwksResponse.newBuilder().setJwksJson(AccessTokenInterceptor.currentPrincipal()
          .map(p -> p.deviceId() + " " + p.clientId()).orElse("nobody")).build());
      observer.onCompleted();
    }
  }

  private void serve(TokenVerifier v, String... scopes) throws Exception {
    String name = InProcessServerBuilder.generateName();
    AccessTokenInterceptor interceptor = AccessTokenInterceptor.builder(v, BASE)
        .requireScopes(JwksServiceGrpc.getGetJwksMethod(), scopes).build();
    server = InProcessServerBuilder.forName(name).directExecutor()
        .addService(ServerInterceptors.intercept(new WhoAmI(), interceptor)).build().start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
  }

  @BeforeEach
  void start() throws Exception {
    broker = new FakeBroker();
    verifier = broker.readyVerifier();
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    verifier.close();
    broker.close();
  }

  private String call(Metadata md) {
    return JwksServiceGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
        .getJwks(GetJwksRequest.getDefaultInstance()).getJwksJson();
  }

  private Metadata dpop(String token, String proof) {
    Metadata md = new Metadata();
    md.put(AUTHORIZATION, "DPoP " + token);
    if (proof != null) {
      md.put(DPOP, proof);
    }
    return md;
  }

  @Test
  void callWhenTokenAndProofAreGoodThenTheServiceSeesThePrincipal() throws Exception {
    serve(verifier, "telemetry:write");
    String token = broker.issuer().dpopToken("device-1", device.jkt(), Instant.now());
    assertThat(call(dpop(token, device.proof(HTU, token, Instant.now())))).isEqualTo("device-1 demo-device");
  }

  @Test
  void callWithoutTokenIsUnauthenticatedWithAChallengeWithoutErrorCode() throws Exception {
    serve(verifier);
    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, () -> call(new Metadata()));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(e.getTrailers().getAll(AccessTokenInterceptor.WWW_AUTHENTICATE))
        .containsExactly("DPoP algs=\"ES256 ES384 PS256 EdDSA\"", "Bearer");
  }

  @Test
  void callWithABadTokenIsUnauthenticatedWithAnRfc9449ChallengeThatNeverEchoesTheToken() throws Exception {
    serve(verifier);
    String expired = broker.issuer().dpopToken("device-1", device.jkt(), Instant.now().minusSeconds(3600));
    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
        () -> call(dpop(expired, device.proof(HTU, expired, Instant.now()))));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(e.getStatus().getDescription()).isEqualTo("invalid_token: the access token has expired");
    List<String> challenges = toList(e.getTrailers().getAll(AccessTokenInterceptor.WWW_AUTHENTICATE));
    assertThat(challenges).containsExactly("DPoP error=\"invalid_token\", error_description=\"the access token has "
        + "expired\", algs=\"ES256 ES384 PS256 EdDSA\"");
    assertThat(e.getTrailers().toString()).doesNotContain(expired.substring(expired.length() - 20));
  }

  private static List<String> toList(Iterable<String> values) {
    List<String> out = new java.util.ArrayList<>();
    values.forEach(out::add);
    return out;
  }

  @Test
  void callWithABadProofIsUnauthenticatedWithInvalidDpopProof() throws Exception {
    serve(verifier);
    String token = broker.issuer().dpopToken("device-1", device.jkt(), Instant.now());
    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
        () -> call(dpop(token, device.proof("https://elsewhere.example/x", token, Instant.now()))));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(e.getTrailers().get(AccessTokenInterceptor.WWW_AUTHENTICATE))
        .startsWith("DPoP error=\"invalid_dpop_proof\"").contains("htu");
  }

  @Test
  void callWithoutTheRequiredScopeIsPermissionDeniedWithInsufficientScope() throws Exception {
    serve(verifier, "firmware:write");
    String token = broker.issuer().dpopToken("device-1", device.jkt(), Instant.now());
    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
        () -> call(dpop(token, device.proof(HTU, token, Instant.now()))));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(e.getTrailers().get(AccessTokenInterceptor.WWW_AUTHENTICATE))
        .isEqualTo("DPoP error=\"insufficient_scope\", error_description=\"the access token lacks a required scope\", "
            + "scope=\"firmware:write\"");
  }

  @Test
  void callOfAMethodWithoutAnEntryIsRefusedByDefault() throws Exception {
    String name = InProcessServerBuilder.generateName();
    AccessTokenInterceptor interceptor = AccessTokenInterceptor.builder(verifier, BASE).build();
    server = InProcessServerBuilder.forName(name).directExecutor()
        .addService(ServerInterceptors.intercept(new WhoAmI(), interceptor)).build().start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    String token = broker.issuer().dpopToken("device-1", device.jkt(), Instant.now());
    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
        () -> call(dpop(token, device.proof(HTU, token, Instant.now()))));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
  }

  @Test
  void callWithoutANonceWhenNoncesAreRequiredGetsUseDpopNonceAndAFreshNonce() throws Exception {
    try (TokenVerifier withNonces = FakeBroker.ready(broker.verifierBuilder().dpopNonces(Duration.ofMinutes(1))
        .build())) {
      serve(withNonces);
      String token = broker.issuer().dpopToken("device-1", device.jkt(), Instant.now());
      StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
          () -> call(dpop(token, device.proof(HTU, token, Instant.now()))));
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(e.getTrailers().get(AccessTokenInterceptor.WWW_AUTHENTICATE)).startsWith("DPoP error=\"use_dpop_nonce\"");
      String nonce = e.getTrailers().get(AccessTokenInterceptor.DPOP_NONCE);
      assertThat(nonce).isNotBlank();
      String proof = device.proof(HTU, Instant.now(), h -> h, c -> c.claim("ath", TokenVerifier.ath(token))
          .claim("nonce", nonce));
      assertThat(call(dpop(token, proof))).isEqualTo("device-1 demo-device");
    }
  }
}
