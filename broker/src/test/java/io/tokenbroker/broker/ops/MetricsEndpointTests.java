package io.tokenbroker.broker.ops;

import static io.tokenbroker.broker.testing.GrpcErrorAssert.assertOAuthError;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.tokenbroker.broker.client.BindingPolicy;
import io.tokenbroker.broker.client.Client;
import io.tokenbroker.broker.client.ClientRegistry;
import io.tokenbroker.broker.testing.InProcessBroker;
import io.tokenbroker.broker.testing.InProcessBroker.Caller;
import io.tokenbroker.broker.testing.MutableClock;
import io.tokenbroker.broker.testing.PlainHttp;
import io.tokenbroker.broker.testing.PrometheusText;
import io.tokenbroker.broker.testing.SoftHsm;
import io.tokenbroker.broker.testing.SoftHsmTest;
import io.tokenbroker.broker.testing.TestDevice;
import io.tokenbroker.proto.v1.DeviceAuthorizationServiceGrpc;
import io.tokenbroker.proto.v1.DeviceCodeGrant;
import io.tokenbroker.proto.v1.RefreshTokenGrant;
import io.tokenbroker.proto.v1.RevocationServiceGrpc;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationRequest;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationResponse;
import io.tokenbroker.proto.v1.TokenRequest;
import io.tokenbroker.proto.v1.TokenResponse;
import io.tokenbroker.proto.v1.TokenServiceGrpc;
import io.tokenbroker.proto.v1.WatchRevocationsRequest;
import io.tokenbroker.proto.v1.WatchRevocationsResponse;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * /metrics after real traffic: a device flow and refreshes over gRPC with TLS, signed in a real SoftHSM2 token,
 * committed to a real H2 file. Each counter moves by exactly what the traffic did; and the operations listener
 * is reachable on loopback only unless configured otherwise.
 */
@SoftHsmTest
class MetricsEndpointTests {
  private static final String GRANTS = "tokenbroker_token_grants_total";
  private final SoftHsm hsm;
  private final MutableClock clock = new MutableClock(Instant.now());
  private final TestDevice device = new TestDevice();
  @TempDir Path dir;
  private InProcessBroker broker;
  private final List<ManagedChannel> channels = new ArrayList<>();

  MetricsEndpointTests(SoftHsm hsm) {
    this.hsm = hsm;
  }

  private void start(String extraConfig) throws Exception {
    // No periodic HSM probe during the test: every signature counted is one the test asked for.
    broker = InProcessBroker.start(hsm, dir, clock, "hsm.health-interval=PT5M\n" + extraConfig);
    Client draft = ClientRegistry.draft(InProcessBroker.CLIENT, "Demo", Set.of("telemetry:write"),
        Set.of("https://api.example.test"), BindingPolicy.DPOP);
    broker.application().clientRegistry().create(new Client(draft.clientId(), draft.displayName(),
        draft.allowedScopes(), draft.allowedAudiences(), draft.bindingPolicy(), Duration.ofMinutes(5),
        Duration.ofDays(14), Duration.ofDays(90), Duration.ofSeconds(60), null), "test");
  }

  @AfterEach
  void stop() throws Exception {
    for (ManagedChannel c : channels) {
      c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (broker != null) {
      broker.close();
    }
  }

  private ManagedChannel tls(Caller caller) throws Exception {
    ManagedChannel c = broker.tlsChannel(caller);
    channels.add(c);
    return c;
  }

  private TokenServiceGrpc.TokenServiceBlockingStub token(ManagedChannel channel, String proof) {
    Metadata md = new Metadata();
    md.put(Metadata.Key.of("dpop", Metadata.ASCII_STRING_MARSHALLER), proof);
    return TokenServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
  }

  private String proof() {
    return device.proof(InProcessBroker.tokenHtu(), clock.instant(), h -> h, c -> c);
  }

  private TokenResponse poll(ManagedChannel channel, String deviceCode) {
    return token(channel, proof()).token(TokenRequest.newBuilder().setClientId(InProcessBroker.CLIENT)
        .setDeviceCode(DeviceCodeGrant.newBuilder().setDeviceCode(deviceCode)).build());
  }

  private TokenResponse refresh(ManagedChannel channel, String refreshToken, String proof) {
    return token(channel, proof).token(TokenRequest.newBuilder().setClientId(InProcessBroker.CLIENT)
        .setRefreshToken(RefreshTokenGrant.newBuilder().setRefreshToken(refreshToken)).build());
  }

  private PrometheusText scrape() throws Exception {
    PlainHttp.Reply reply = PlainHttp.get("127.0.0.1", broker.operations().port(), OperationsRoutes.METRICS);
    assertThat(reply.status()).isEqualTo(200);
    assertThat(reply.contentType()).startsWith("text/plain; version=0.0.4");
    return new PrometheusText(reply.body());
  }

  /** The change of each counted series between two scrapes. */
  private static double delta(PrometheusText before, PrometheusText after, String name, String... labels) {
    return after.value(name, labels) - before.value(name, labels);
  }

  @Test
  void aDeviceFlowAndRefreshesMoveEachCounterByExactlyWhatHappened() throws Exception {
    start("ops.port=0\nmetrics.device-count-max-age=PT1S\n");
    ManagedChannel channel = tls(Caller.ANONYMOUS);
    // A verifier subscribed to revocations: the stream gauges must see it.
    LinkedBlockingQueue<WatchRevocationsResponse> stream = new LinkedBlockingQueue<>();
    RevocationServiceGrpc.newStub(tls(Caller.BACKEND)).watchRevocations(WatchRevocationsRequest.getDefaultInstance(),
        collector(stream));
    assertThat(stream.poll(10, TimeUnit.SECONDS)).as("snapshot complete").isNotNull();
    PrometheusText before = scrape();

    StartDeviceAuthorizationResponse started = DeviceAuthorizationServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(30, TimeUnit.SECONDS).startDeviceAuthorization(
            StartDeviceAuthorizationRequest.newBuilder().setClientId(InProcessBroker.CLIENT).build());
    assertOAuthError(() -> poll(channel, started.getDeviceCode()), Status.Code.FAILED_PRECONDITION,
        "AUTHORIZATION_PENDING", "authorization_pending");
    broker.application().deviceFlow().approve(started.getUserCode(), "alice", "test");
    clock.advance(Duration.ofSeconds(6)); // past the polling interval, so the next poll is not slow_down
    TokenResponse first = poll(channel, started.getDeviceCode());
    TokenResponse second = refresh(channel, first.getRefreshToken(), proof());
    TokenResponse third = refresh(channel, second.getRefreshToken(), proof());
    // The first refresh token again, after its successor was used: reuse, and the family is revoked.
    assertOAuthError(() -> refresh(channel, first.getRefreshToken(), proof()), Status.Code.UNAUTHENTICATED,
        "INVALID_GRANT", "invalid_grant");
    // A proof for another URI is refused before anything else is looked at.
    String wrongHtu = device.proof("https://elsewhere.test/tokenbroker.v1.TokenService/Token", clock.instant(),
        h -> h, c -> c);
    assertOAuthError(() -> refresh(channel, third.getRefreshToken(), wrongHtu), Status.Code.UNAUTHENTICATED,
        "INVALID_DPOP_PROOF", "invalid_dpop_proof");
    PrometheusText after = scrape();

    assertThat(delta(before, after, GRANTS, "grant_type", "device_code", "outcome", "success")).isEqualTo(1);
    assertThat(delta(before, after, GRANTS, "grant_type", "device_code", "outcome", "authorization_pending",
        "reason", "AUTHORIZATION_PENDING")).isEqualTo(1);
    assertThat(delta(before, after, GRANTS, "grant_type", "refresh_token", "outcome", "success")).isEqualTo(2);
    assertThat(delta(before, after, GRANTS, "grant_type", "refresh_token", "outcome", "invalid_grant",
        "reason", "INVALID_GRANT")).isEqualTo(1);
    assertThat(delta(before, after, GRANTS, "grant_type", "refresh_token", "outcome", "invalid_dpop_proof",
        "reason", "INVALID_DPOP_PROOF")).isEqualTo(1);
    assertThat(delta(before, after, "tokenbroker_token_issuance_seconds_count", "grant_type", "device_code"))
        .isEqualTo(1);
    assertThat(delta(before, after, "tokenbroker_token_issuance_seconds_count", "grant_type", "refresh_token"))
        .isEqualTo(2);
    // A percentile histogram: Prometheus computes quantiles from the buckets; the +Inf bucket holds every sample.
    assertThat(delta(before, after, "tokenbroker_token_issuance_seconds_bucket", "grant_type", "refresh_token",
        "le", "+Inf")).isEqualTo(2);
    assertThat(delta(before, after, "tokenbroker_hsm_sign_seconds_count")).as("three access tokens signed")
        .isEqualTo(3);
    assertThat(after.value("tokenbroker_hsm_sign_seconds_sum")).isPositive();
    assertThat(delta(before, after, "tokenbroker_hsm_sign_errors_total")).isZero();
    assertThat(delta(before, after, "tokenbroker_refresh_token_reuse_total")).isEqualTo(1);
    assertThat(delta(before, after, "tokenbroker_dpop_rejections_total", "reason", "htu")).isEqualTo(1);
    // Micrometer's gRPC binder counts every call per method and status, over the TLS listener too.
    assertThat(delta(before, after, "grpc_server_processing_duration_seconds_count",
        "method", "Token", "statusCode", "OK")).isEqualTo(3);
    assertThat(delta(before, after, "grpc_server_processing_duration_seconds_count",
        "method", "Token", "statusCode", "UNAUTHENTICATED")).isEqualTo(2);
    assertThat(delta(before, after, "grpc_server_processing_duration_seconds_count",
        "method", "Token", "statusCode", "FAILED_PRECONDITION")).isEqualTo(1);

    assertThat(after.value("tokenbroker_revocation_subscribers")).isEqualTo(1);
    assertThat(after.has("tokenbroker_revocation_lag_events")).isTrue();
    assertThat(after.has("tokenbroker_revocation_lag_seconds")).isTrue();
    assertThat(after.value("hikaricp_connections_max", "pool", "tokenbroker-db")).isEqualTo(8);
    assertThat(after.has("hikaricp_connections_active", "pool", "tokenbroker-db")).isTrue();
    assertThat(after.sum("jvm_memory_used_bytes", "area", "heap")).isPositive();
    // The gauge recounts in the background once its count is older than a second.
    PrometheusText counted = after;
    for (int i = 0; i < 100 && counted.value("tokenbroker_devices", "state", "active") != 1; i++) {
      Thread.sleep(100);
      counted = scrape();
    }
    assertThat(counted.value("tokenbroker_devices", "state", "active")).isEqualTo(1);
    assertThat(counted.value("tokenbroker_devices", "state", "revoked")).isZero();
  }

  @Test
  void theOperationsListenerIsOnLoopbackOnlyByDefaultAndServesNothingElse() throws Exception {
    start("ops.port=0\n"); // ops.host left at its default
    OperationsServer ops = broker.operations();
    assertThat(InetAddress.getByName(ops.host()).isLoopbackAddress()).as("bound to %s", ops.host()).isTrue();
    assertThat(PlainHttp.get("127.0.0.1", ops.port(), OperationsRoutes.HEALTHZ).status()).isEqualTo(200);
    PlainHttp.Reply ready = PlainHttp.get("127.0.0.1", ops.port(), OperationsRoutes.READYZ);
    assertThat(ready.status()).isEqualTo(200);
    assertThat(ready.body()).isEqualTo("{\"status\":\"ready\"}\n");
    assertThat(PlainHttp.get("127.0.0.1", ops.port(), "/.well-known/jwks.json").status()).isEqualTo(404);
    assertThat(PlainHttp.send(java.net.http.HttpRequest.newBuilder(
        java.net.URI.create("http://127.0.0.1:" + ops.port() + OperationsRoutes.METRICS))
        .POST(java.net.http.HttpRequest.BodyPublishers.ofString("x"))).status()).isEqualTo(405);
    // From this machine's other addresses, nothing listens on that port.
    for (InetAddress address : nonLoopbackAddresses()) {
      try (Socket s = new Socket()) {
        org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> s.connect(new InetSocketAddress(address, ops.port()), 2_000))
            .as("connecting to %s", address).isInstanceOf(java.net.ConnectException.class);
      }
    }
  }

  private static List<InetAddress> nonLoopbackAddresses() throws Exception {
    List<InetAddress> out = new ArrayList<>();
    for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (nic.isUp() && !nic.isLoopback()) {
        Collections.list(nic.getInetAddresses()).stream().filter(a -> a instanceof Inet4Address).forEach(out::add);
      }
    }
    return out;
  }

  private static StreamObserver<WatchRevocationsResponse> collector(LinkedBlockingQueue<WatchRevocationsResponse> q) {
    return new StreamObserver<>() {
      @Override
      public void onNext(WatchRevocationsResponse value) {
        q.add(value);
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    };
  }
}
