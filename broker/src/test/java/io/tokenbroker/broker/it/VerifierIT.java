package io.tokenbroker.broker.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.tokenbroker.broker.testing.TestDevice;
import io.tokenbroker.broker.tls.AnyClientCertificateTrustManager;
import io.tokenbroker.proto.v1.AdminServiceGrpc;
import io.tokenbroker.proto.v1.ApproveDeviceAuthorizationRequest;
import io.tokenbroker.proto.v1.BindingPolicy;
import io.tokenbroker.proto.v1.Client;
import io.tokenbroker.proto.v1.CreateClientRequest;
import io.tokenbroker.proto.v1.DeviceAuthorizationServiceGrpc;
import io.tokenbroker.proto.v1.DeviceCodeGrant;
import io.tokenbroker.proto.v1.GetJwksRequest;
import io.tokenbroker.proto.v1.GetJwksResponse;
import io.tokenbroker.proto.v1.JwksServiceGrpc;
import io.tokenbroker.proto.v1.RevokeDeviceRequest;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationRequest;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationResponse;
import io.tokenbroker.proto.v1.TokenRequest;
import io.tokenbroker.proto.v1.TokenResponse;
import io.tokenbroker.proto.v1.TokenServiceGrpc;
import io.tokenbroker.verifier.TokenVerifier;
import io.tokenbroker.verifier.grpc.AccessTokenInterceptor;
import io.tokenbroker.verifier.revocation.RevocationStatus;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The verifier library against the packaged broker as a separate process: a backend service on loopback TLS,
 * protected by the interceptor, fed by the broker's JWKS and revocation stream over mutual TLS with the backend
 * certificate of the broker home; devices enrolled through the device flow with DPoP keys, and an mTLS device
 * (RFC 8705) with a self-signed openssl certificate calling with {@code Bearer} over mutual TLS. Revocations
 * reach the service within a second, also across a SIGKILL and restart of the broker during the stream.
 */
class VerifierIT {
  private static final String AUDIENCE = "https://api.example.test";
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  private static final Metadata.Key<String> DPOP = Metadata.Key.of("dpop", Metadata.ASCII_STRING_MARSHALLER);
  /** How long a revocation may take to reach the service. */
  private static final Duration WITHIN = Duration.ofSeconds(1);

  @TempDir Path tmp;
  private Path home;
  private int brokerPort;
  private String issuer;
  private BrokerProcess broker;
  private ManagedChannel deviceChannel;
  private ManagedChannel operatorChannel;
  private ManagedChannel backendChannel;
  private TokenVerifier verifier;
  private Server service;
  private Server mtlsService;
  private final List<ManagedChannel> extraChannels = new ArrayList<>();
  private ManagedChannel serviceChannel;
  private String serviceHtu;

  /** The protected service: answers with the device id the interceptor verified. */
  static final class WhoAmI extends JwksServiceGrpc.JwksServiceImplBase {
    @Override
    public void getJwks(GetJwksRequest request, StreamObserver<GetJwksResponse> observer) {
      observer.onNext(GetJwksResponse.newBuilder().setJwksJson(AccessTokenInterceptor.currentPrincipal()
          .orElseThrow().deviceId()).build());
      observer.onCompleted();
    }
  }

  record Enrolled(TestDevice key, String deviceId, String accessToken) {}

  @BeforeEach
  void start() throws Exception {
    home = tmp.resolve("home");
    // A fixed port, so that the restarted broker is found where the verifier's channel looks.
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      brokerPort = s.getLocalPort();
    }
    BrokerProcess.Result init = BrokerProcess.run("init", "--home", home.toString(), "--grpc-port",
        Integer.toString(brokerPort), "--https-port", "0");
    assertThat(init.exitCode()).as(init.stderr()).isZero();
    issuer = "https://localhost:" + brokerPort;
    serveBroker();

    backendChannel = NettyChannelBuilder.forAddress("localhost", brokerPort, TlsChannelCredentials.newBuilder()
        .keyManager(home.resolve("tls/backend.crt").toFile(), home.resolve("tls/backend.key").toFile())
        .trustManager(home.resolve("tls/ca.crt").toFile()).build()).build();
    // A slow first reconnect, so that a revocation made right after the broker's restart is made while the
    // verifier is still away and must come with the resume.
    verifier = TokenVerifier.builder().issuer(issuer).audience(AUDIENCE).brokerChannel(backendChannel)
        .reconnectBackoff(Duration.ofSeconds(3), Duration.ofSeconds(3)).build();
    assertThat(verifier.awaitReady(Duration.ofSeconds(30))).isTrue();

    AccessTokenInterceptor interceptor = AccessTokenInterceptor.builder(verifier, "https://localhost:9443")
        .requireScopes(JwksServiceGrpc.getGetJwksMethod(), "telemetry:write").build();
    service = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0), TlsServerCredentials.create(
        home.resolve("tls/server.crt").toFile(), home.resolve("tls/server.key").toFile()))
        .addService(ServerInterceptors.intercept(new WhoAmI(), interceptor)).build().start();
    // The same service on a listener that asks for client certificates (any issuer: the token's x5t#S256 binding
    // decides), as a backend terminating mutual TLS for certificate-bound tokens does.
    mtlsService = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0), TlsServerCredentials
        .newBuilder().keyManager(home.resolve("tls/server.crt").toFile(), home.resolve("tls/server.key").toFile())
        .trustManager(new AnyClientCertificateTrustManager())
        .clientAuth(TlsServerCredentials.ClientAuth.OPTIONAL).build())
        .addService(ServerInterceptors.intercept(new WhoAmI(), interceptor)).build().start();
    serviceHtu = "https://localhost:9443/" + JwksServiceGrpc.getGetJwksMethod().getFullMethodName();
    serviceChannel = NettyChannelBuilder.forAddress("localhost", service.getPort(), TlsChannelCredentials.newBuilder()
        .trustManager(home.resolve("tls/ca.crt").toFile()).build()).build();
  }

  private void serveBroker() throws Exception {
    broker = BrokerProcess.serve(home);
    assertThat(broker.grpcPort()).isEqualTo(brokerPort);
    deviceChannel = BrokerClients.grpcChannel(home, brokerPort);
    operatorChannel = NettyChannelBuilder.forAddress("localhost", brokerPort, TlsChannelCredentials.newBuilder()
        .keyManager(home.resolve("tls/operator.crt").toFile(), home.resolve("tls/operator.key").toFile())
        .trustManager(home.resolve("tls/ca.crt").toFile()).build()).build();
  }

  private void closeBrokerChannels() throws InterruptedException {
    deviceChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    operatorChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    if (serviceChannel != null) {
      serviceChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (service != null) {
      service.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    extraChannels.forEach(ManagedChannel::shutdownNow);
    if (mtlsService != null) {
      mtlsService.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (verifier != null) {
      verifier.close();
    }
    if (backendChannel != null) {
      backendChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    closeBrokerChannels();
    broker.close();
  }

  /** The device flow as a device runs it, approved through the operator API. */
  private Enrolled enrol(String owner) {
    TestDevice key = new TestDevice();
    StartDeviceAuthorizationResponse started = DeviceAuthorizationServiceGrpc.newBlockingStub(deviceChannel)
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .startDeviceAuthorization(StartDeviceAuthorizationRequest.newBuilder().setClientId("demo-device").build());
    AdminServiceGrpc.newBlockingStub(operatorChannel).withDeadlineAfter(10, TimeUnit.SECONDS)
        .approveDeviceAuthorization(ApproveDeviceAuthorizationRequest.newBuilder()
            .setUserCode(started.getUserCode()).setOwner(owner).build());
    Metadata md = new Metadata();
    md.put(DPOP, key.proof(issuer + "/" + TokenServiceGrpc.getTokenMethod().getFullMethodName()));
    TokenResponse tokens = TokenServiceGrpc.newBlockingStub(deviceChannel).withDeadlineAfter(10, TimeUnit.SECONDS)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
        .token(TokenRequest.newBuilder().setClientId("demo-device")
            .setDeviceCode(DeviceCodeGrant.newBuilder().setDeviceCode(started.getDeviceCode())).build());
    return new Enrolled(key, tokens.getDeviceId(), tokens.getAccessToken());
  }

  private void revoke(Enrolled device) {
    AdminServiceGrpc.newBlockingStub(operatorChannel).withDeadlineAfter(10, TimeUnit.SECONDS)
        .revokeDevice(RevokeDeviceRequest.newBuilder().setDeviceId(device.deviceId()).setReason("test").build());
  }

  /** One call to the protected service as {@code device}, with a fresh proof. */
  private String call(Enrolled device) {
    Metadata md = new Metadata();
    md.put(AUTHORIZATION, "DPoP " + device.accessToken());
    md.put(DPOP, device.key().proof(serviceHtu, device.accessToken(), Instant.now()));
    return JwksServiceGrpc.newBlockingStub(serviceChannel).withDeadlineAfter(10, TimeUnit.SECONDS)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
        .getJwks(GetJwksRequest.getDefaultInstance()).getJwksJson();
  }

  /** Calls until the service refuses {@code device} or {@code within} has passed; returns the refusal, or null. */
  private StatusRuntimeException refusalWithin(Enrolled device, Duration within) throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    do {
      try {
        call(device);
      } catch (StatusRuntimeException e) {
        return e;
      }
      Thread.sleep(20);
    } while (System.nanoTime() < deadline);
    return null;
  }

  private static void awaitUpTo(Duration bound, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + bound.toNanos();
    while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(condition.getAsBoolean()).isTrue();
  }

  private static void assertRevokedRefusal(StatusRuntimeException refusal) {
    assertThat(refusal).as("refused within " + WITHIN).isNotNull();
    assertThat(refusal.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(refusal.getStatus().getDescription()).contains("invalid_token").contains("revoked");
  }

  @Test
  void aDpopDeviceIsServedUntilTheOperatorRevokesItThenRefusedWithinASecond() throws Exception {
    Enrolled alice = enrol("alice");
    Enrolled bob = enrol("bob");
    assertThat(call(alice)).isEqualTo(alice.deviceId());
    assertThat(call(bob)).isEqualTo(bob.deviceId());

    revoke(alice);
    assertRevokedRefusal(refusalWithin(alice, WITHIN));
    assertThat(call(bob)).isEqualTo(bob.deviceId());
  }

  @Test
  void afterTheBrokerIsKilledAndRestartedTheVerifierResumesFromItsCursorAndMissesNothing() throws Exception {
    Enrolled before = enrol("before");
    Enrolled whileAway = enrol("while-away");
    Enrolled after = enrol("after");
    revoke(before);
    assertRevokedRefusal(refusalWithin(before, WITHIN));
    RevocationStatus connected = verifier.revocationStatus().orElseThrow();
    assertThat(connected.connected()).isTrue();

    closeBrokerChannels();
    broker.kill();
    serveBroker();
    // The verifier waits 1.5-3 s between attempts: this revocation is normally committed before it is back.
    revoke(whileAway);
    awaitUpTo(Duration.ofSeconds(30), () -> {
      RevocationStatus s = verifier.revocationStatus().orElseThrow();
      return s.connected() && s.streamsOpened() > connected.streamsOpened();
    });
    assertThat(verifier.revocationStatus().orElseThrow().lastCatchUpWasFullSnapshot())
        .as("resumed with its cursor, not a full snapshot").isFalse();
    assertRevokedRefusal(refusalWithin(whileAway, WITHIN));

    assertThat(call(after)).isEqualTo(after.deviceId());
    revoke(after);
    assertRevokedRefusal(refusalWithin(after, WITHIN));
    assertRevokedRefusal(refusalWithin(before, WITHIN));
  }

  /** A self-signed device certificate and key made by openssl (RFC 8705 §2.2), as PEM files in tmp. */
  private Path[] selfSignedCertificate(String name) throws Exception {
    Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
        "ec_paramgen_curve:P-256", "-nodes", "-keyout", name + ".key", "-out", name + ".crt", "-days", "2",
        "-subj", "/CN=" + name).directory(tmp.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(out).isZero();
    return new Path[] {tmp.resolve(name + ".crt"), tmp.resolve(name + ".key")};
  }

  private ManagedChannel mtlsChannel(int port, Path[] certificate) throws Exception {
    ManagedChannel channel = NettyChannelBuilder.forAddress("localhost", port, TlsChannelCredentials.newBuilder()
        .keyManager(certificate[0].toFile(), certificate[1].toFile())
        .trustManager(home.resolve("tls/ca.crt").toFile()).build()).build();
    extraChannels.add(channel);
    return channel;
  }

  private String callWithCertificate(ManagedChannel channel, String accessToken) {
    Metadata md = new Metadata();
    md.put(AUTHORIZATION, "Bearer " + accessToken);
    return JwksServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
        .getJwks(GetJwksRequest.getDefaultInstance()).getJwksJson();
  }

  @Test
  void anMtlsDeviceIsServedWithItsCertificateOnlyAndRefusedWithinASecondOfItsRevocation() throws Exception {
    AdminServiceGrpc.newBlockingStub(operatorChannel).withDeadlineAfter(10, TimeUnit.SECONDS).createClient(
        CreateClientRequest.newBuilder().setClient(Client.newBuilder().setClientId("sensor-mtls")
            .setDisplayName("mTLS sensor").addAllowedScopes("telemetry:write").addAllowedAudiences(AUDIENCE)
            .setBindingPolicy(BindingPolicy.BINDING_POLICY_MTLS)).build());
    Path[] certificate = selfSignedCertificate("sensor-1");
    ManagedChannel toBroker = mtlsChannel(brokerPort, certificate);
    StartDeviceAuthorizationResponse started = DeviceAuthorizationServiceGrpc.newBlockingStub(toBroker)
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .startDeviceAuthorization(StartDeviceAuthorizationRequest.newBuilder().setClientId("sensor-mtls").build());
    AdminServiceGrpc.newBlockingStub(operatorChannel).withDeadlineAfter(10, TimeUnit.SECONDS)
        .approveDeviceAuthorization(ApproveDeviceAuthorizationRequest.newBuilder()
            .setUserCode(started.getUserCode()).setOwner("carol").build());
    TokenResponse tokens = TokenServiceGrpc.newBlockingStub(toBroker).withDeadlineAfter(10, TimeUnit.SECONDS)
        .token(TokenRequest.newBuilder().setClientId("sensor-mtls")
            .setDeviceCode(DeviceCodeGrant.newBuilder().setDeviceCode(started.getDeviceCode())).build());

    ManagedChannel withCertificate = mtlsChannel(mtlsService.getPort(), certificate);
    assertThat(callWithCertificate(withCertificate, tokens.getAccessToken())).isEqualTo(tokens.getDeviceId());
    // The same token from a connection with another certificate: the binding fails.
    ManagedChannel withOtherCertificate = mtlsChannel(mtlsService.getPort(), selfSignedCertificate("sensor-2"));
    StatusRuntimeException stolen = org.assertj.core.api.Assertions.catchThrowableOfType(
        StatusRuntimeException.class, () -> callWithCertificate(withOtherCertificate, tokens.getAccessToken()));
    assertThat(stolen.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);

    AdminServiceGrpc.newBlockingStub(operatorChannel).withDeadlineAfter(10, TimeUnit.SECONDS)
        .revokeDevice(RevokeDeviceRequest.newBuilder().setDeviceId(tokens.getDeviceId()).setReason("test").build());
    long deadline = System.nanoTime() + WITHIN.toNanos();
    StatusRuntimeException refusal = null;
    while (refusal == null && System.nanoTime() < deadline) {
      try {
        callWithCertificate(withCertificate, tokens.getAccessToken());
        Thread.sleep(20);
      } catch (StatusRuntimeException e) {
        refusal = e;
      }
    }
    assertRevokedRefusal(refusal);
  }
}
