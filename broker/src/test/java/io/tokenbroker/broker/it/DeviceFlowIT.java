package io.tokenbroker.broker.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.SignedJWT;
import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.tokenbroker.broker.testing.TestDevice;
import io.tokenbroker.broker.tls.DevCertificates;
import io.tokenbroker.proto.v1.AdminServiceGrpc;
import io.tokenbroker.proto.v1.DeviceAuthorizationServiceGrpc;
import io.tokenbroker.proto.v1.DeviceCodeGrant;
import io.tokenbroker.proto.v1.ListDevicesRequest;
import io.tokenbroker.proto.v1.RefreshTokenGrant;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationRequest;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationResponse;
import io.tokenbroker.proto.v1.TokenRequest;
import io.tokenbroker.proto.v1.TokenResponse;
import io.tokenbroker.proto.v1.TokenServiceGrpc;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The device flow end to end against the packaged broker as a separate process: gRPC over TLS on loopback, a
 * real SoftHSM2 token, a real H2 file, approval through the operator CLI, and crashes with SIGKILL.
 */
// One broker home for the class: 'init' (a SoftHSM2 token, keys, TLS material) and a JVM start per test cost more
// than the tests themselves; every test uses device codes, devices and clients of its own.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DeviceFlowIT {
  /** 'broker init --grpc-port 0' makes the issuer, and so the DPoP htu base, https://localhost. */
  private static final String HTU = "https://localhost/" + TokenServiceGrpc.getTokenMethod().getFullMethodName();

  @TempDir static Path tmp;
  private Path home;
  private BrokerProcess broker;
  private ManagedChannel channel;
  private TestDevice device;

  @BeforeEach
  void newDevice() {
    device = new TestDevice();
  }

  @BeforeAll
  void initAndServe() throws Exception {
    home = tmp.resolve("home");
    BrokerProcess.Result init = BrokerProcess.run("init", "--home", home.toString(), "--grpc-port", "0",
        "--https-port", "0");
    assertThat(init.exitCode()).as(init.stderr()).isZero();
    serve();
  }

  private void serve() throws Exception {
    broker = BrokerProcess.serve(home);
    channel = BrokerClients.grpcChannel(home, broker.grpcPort());
  }

  private void crashAndRestart() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    broker.kill();
    serve();
  }

  @AfterAll
  void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    broker.close();
  }

  private StartDeviceAuthorizationResponse start() {
    return DeviceAuthorizationServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
        .startDeviceAuthorization(StartDeviceAuthorizationRequest.newBuilder().setClientId("demo-device").build());
  }

  private TokenResponse token(TokenRequest.Builder request) {
    Metadata md = new Metadata();
    md.put(Metadata.Key.of("dpop", Metadata.ASCII_STRING_MARSHALLER), device.proof(HTU));
    return TokenServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
        .token(request.setClientId("demo-device").build());
  }

  private TokenResponse poll(String deviceCode) {
    return token(TokenRequest.newBuilder().setDeviceCode(DeviceCodeGrant.newBuilder().setDeviceCode(deviceCode)));
  }

  private TokenResponse refresh(String refreshToken) {
    return token(TokenRequest.newBuilder().setRefreshToken(RefreshTokenGrant.newBuilder()
        .setRefreshToken(refreshToken)));
  }

  private BrokerProcess.Result admin(String... args) throws Exception {
    List<String> all = new java.util.ArrayList<>(List.of("admin"));
    all.addAll(List.of(args));
    all.addAll(List.of("--home", home.toString(), "--target", "localhost:" + broker.grpcPort()));
    return BrokerProcess.run(all.toArray(String[]::new));
  }

  @Test
  void deviceFlowOverTlsFromStartToRefreshWithApprovalByTheOperatorCli() throws Exception {
    StartDeviceAuthorizationResponse started = start();
    // https.port=0 in this home: the page devices send people to is on the port the broker actually bound.
    assertThat(started.getVerificationUri()).isEqualTo("https://localhost:" + broker.httpsPort() + "/device");
    StatusRuntimeException pending = catchThrowableOfType(StatusRuntimeException.class,
        () -> poll(started.getDeviceCode()));
    assertThat(pending.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(pending.getStatus().getDescription()).contains("authorization_pending");

    BrokerProcess.Result approved = admin("approve", started.getUserCode().toLowerCase(), "--owner", "alice");
    assertThat(approved.exitCode()).as(approved.stderr()).isZero();
    assertThat(approved.stdout()).contains("approved: device").contains("for alice");

    Thread.sleep(5_000); // honour the polling interval
    TokenResponse tokens = poll(started.getDeviceCode());
    SignedJWT jwt = SignedJWT.parse(tokens.getAccessToken());
    JWKSet jwks = JWKSet.parse(BrokerClients.httpsGet(home, broker.httpsPort(), "/.well-known/jwks.json").body());
    assertThat(jwt.verify(new ECDSAVerifier(jwks.getKeyByKeyId(jwt.getHeader().getKeyID()).toECKey()))).isTrue();
    assertThat(jwt.getJWTClaimsSet().getJSONObjectClaim("cnf")).isEqualTo(Map.of("jkt", device.jkt()));
    assertThat(jwt.getJWTClaimsSet().getSubject()).isEqualTo(tokens.getDeviceId());

    TokenResponse refreshed = refresh(tokens.getRefreshToken());
    assertThat(SignedJWT.parse(refreshed.getAccessToken()).getJWTClaimsSet().getSubject())
        .isEqualTo(tokens.getDeviceId());
    assertThat(broker.output()).doesNotContain(tokens.getRefreshToken()).doesNotContain(refreshed.getRefreshToken())
        .doesNotContain(started.getDeviceCode()).doesNotContain(started.getUserCode());
  }

  @Test
  void refreshTokenReceivedJustBeforeASigkillStillWorksAfterRestart() throws Exception {
    StartDeviceAuthorizationResponse started = start();
    assertThat(admin("approve", started.getUserCode(), "--owner", "bob").exitCode()).isZero();
    TokenResponse tokens = poll(started.getDeviceCode());
    crashAndRestart();

    TokenResponse refreshed = refresh(tokens.getRefreshToken());
    assertThat(refreshed.getDeviceId()).isEqualTo(tokens.getDeviceId());

    // The rotation acknowledged just before the next crash is durable too: the new token works, the old does not.
    crashAndRestart();
    assertThat(refresh(refreshed.getRefreshToken()).getAccessToken()).isNotBlank();
    StatusRuntimeException spent = catchThrowableOfType(StatusRuntimeException.class,
        () -> refresh(tokens.getRefreshToken()));
    assertThat(spent.getStatus().getDescription()).contains("invalid_grant");
  }

  @Test
  void approvalAcknowledgedBeforeASigkillSurvivesIt() throws Exception {
    StartDeviceAuthorizationResponse started = start();
    assertThat(admin("approve", started.getUserCode(), "--owner", "carol").exitCode()).isZero();
    crashAndRestart();
    assertThat(poll(started.getDeviceCode()).getAccessToken()).isNotBlank();
  }

  @Test
  void operatorApiRefusesCallersWithoutAnOperatorCertificate() throws Exception {
    StatusRuntimeException anonymous = catchThrowableOfType(StatusRuntimeException.class,
        () -> AdminServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
            .listDevices(ListDevicesRequest.getDefaultInstance()));
    assertThat(anonymous.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);

    // A client certificate from another CA passes the TLS handshake (device certificates may be self-signed)
    // but the operator API's PKIX check against the home CA refuses it.
    Path foreign = tmp.resolve("foreign");
    DevCertificates.Written other = new DevCertificates(Clock.systemUTC()).write(foreign, List.of());
    ChannelCredentials credentials = TlsChannelCredentials.newBuilder()
        .keyManager(other.operatorCertificate().toFile(), other.operatorKey().toFile())
        .trustManager(home.resolve("tls/ca.crt").toFile()).build();
    ManagedChannel foreignChannel = NettyChannelBuilder.forAddress("localhost", broker.grpcPort(), credentials).build();
    try {
      StatusRuntimeException refused = catchThrowableOfType(StatusRuntimeException.class,
          () -> AdminServiceGrpc.newBlockingStub(foreignChannel).withDeadlineAfter(10, TimeUnit.SECONDS)
              .listDevices(ListDevicesRequest.getDefaultInstance()));
      assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    } finally {
      foreignChannel.shutdownNow();
    }

    BrokerProcess.Result cli = admin("approve", "BCDF-GHJK", "--owner", "mallory", "--cert",
        other.operatorCertificate().toString(), "--key", other.operatorKey().toString());
    // Exit 5: refused by the broker (the handshake succeeds; the PKIX check refuses the certificate).
    assertThat(cli.exitCode()).as(cli.stderr()).isEqualTo(5);
    assertThat(cli.stderr()).contains("UNAUTHENTICATED");

    BrokerProcess.Result operator = admin("clients", "list");
    assertThat(operator.exitCode()).as(operator.stderr()).isZero();
    assertThat(operator.stdout()).contains("demo-device");
  }

  @Test
  void oversizedMetadataIsRefusedAndTheListenerKeepsServing() {
    // A header the broker ignores, so only the listener's 16 KiB metadata limit can refuse it (a dpop value has
    // its own 8 KiB rule). 15 KiB would be refused under Netty's default 8 KiB; 17 KiB is over the broker's 16 KiB.
    assertThat(startWithPadding(15 * 1024).getUserCode()).hasSize(9);
    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, () -> startWithPadding(17 * 1024));
    assertThat(e).isNotNull();
    // The broker announces the limit in its HTTP/2 SETTINGS; grpc-java refuses to send more, naming it.
    assertThat(e.getStatus().getCode()).as(e.toString()).isEqualTo(Status.Code.INTERNAL);
    StringBuilder causes = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      causes.append(t).append('\n');
    }
    assertThat(causes.toString()).contains("max allowed size (16384)");
    assertThat(start().getUserCode()).hasSize(9);
  }

  private StartDeviceAuthorizationResponse startWithPadding(int bytes) {
    Metadata md = new Metadata();
    md.put(Metadata.Key.of("x-padding", Metadata.ASCII_STRING_MARSHALLER), "p".repeat(bytes));
    return DeviceAuthorizationServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
        .startDeviceAuthorization(StartDeviceAuthorizationRequest.newBuilder().setClientId("demo-device").build());
  }

  @Test
  void adminCreatesAClientWhoseDevicesCanThenStartTheFlow() throws Exception {
    BrokerProcess.Result created = admin("clients", "create", "--client-id", "thermostat-v2", "--name", "Thermostat",
        "--scope", "telemetry:write", "--audience", "https://telemetry.example");
    assertThat(created.exitCode()).as(created.stderr()).isZero();
    assertThat(admin("clients", "create", "--client-id", "thermostat-v2", "--name", "Again", "--scope", "a",
        "--audience", "https://x.example").stderr()).contains("ALREADY_EXISTS");
    StartDeviceAuthorizationResponse started = DeviceAuthorizationServiceGrpc.newBlockingStub(channel)
        .startDeviceAuthorization(StartDeviceAuthorizationRequest.newBuilder().setClientId("thermostat-v2").build());
    assertThat(started.getUserCode()).hasSize(9);
  }
}
