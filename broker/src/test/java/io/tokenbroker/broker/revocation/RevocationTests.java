package io.tokenbroker.broker.revocation;

import static io.tokenbroker.broker.testing.GrpcErrorAssert.assertOAuthError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.tokenbroker.broker.client.BindingPolicy;
import io.tokenbroker.broker.client.ClientRegistry;
import io.tokenbroker.broker.device.Device;
import io.tokenbroker.broker.testing.InProcessBroker;
import io.tokenbroker.broker.testing.InProcessBroker.Caller;
import io.tokenbroker.broker.testing.MutableClock;
import io.tokenbroker.broker.testing.SoftHsm;
import io.tokenbroker.broker.testing.SoftHsmTest;
import io.tokenbroker.broker.testing.TestDevice;
import io.tokenbroker.proto.v1.AdminServiceGrpc;
import io.tokenbroker.proto.v1.DeviceCodeGrant;
import io.tokenbroker.proto.v1.IntrospectTokenRequest;
import io.tokenbroker.proto.v1.IntrospectTokenResponse;
import io.tokenbroker.proto.v1.ListDevicesRequest;
import io.tokenbroker.proto.v1.RefreshTokenGrant;
import io.tokenbroker.proto.v1.RevocationServiceGrpc;
import io.tokenbroker.proto.v1.RevokeDeviceRequest;
import io.tokenbroker.proto.v1.RevokeTokenRequest;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationRequest;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationResponse;
import io.tokenbroker.proto.v1.TokenRequest;
import io.tokenbroker.proto.v1.TokenResponse;
import io.tokenbroker.proto.v1.TokenServiceGrpc;
import io.tokenbroker.proto.v1.TokenTypeHint;
import io.tokenbroker.proto.v1.WatchRevocationsRequest;
import io.tokenbroker.proto.v1.WatchRevocationsResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Operator revocations, RFC 7009, RFC 7662 and the revocation stream, on real SoftHSM2, H2 and TLS. */
@SoftHsmTest
class RevocationTests {
  private final SoftHsm hsm;
  private final MutableClock clock = new MutableClock(Instant.now());
  @TempDir Path dir;
  private InProcessBroker broker;

  RevocationTests(SoftHsm hsm) {
    this.hsm = hsm;
  }

  @BeforeEach
  void start() throws Exception {
    broker = InProcessBroker.start(hsm, dir, clock, "revocation.heartbeat-interval=PT0.2S\n");
    broker.application().clientRegistry().create(ClientRegistry.draft(InProcessBroker.CLIENT, "Demo",
        Set.of("telemetry:write"), Set.of("https://api.example.test"), BindingPolicy.DPOP), "test");
  }

  @AfterEach
  void stop() throws Exception {
    broker.close();
  }

  /** An enrolled device: its key and its first tokens. */
  record Enrolled(TestDevice key, TokenResponse tokens) {}

  private Enrolled enrol() {
    TestDevice device = new TestDevice();
    StartDeviceAuthorizationResponse started = broker.deviceAuthorization().startDeviceAuthorization(
        StartDeviceAuthorizationRequest.newBuilder().setClientId(InProcessBroker.CLIENT).build());
    broker.application().deviceFlow().approve(started.getUserCode(), "alice", "test");
    return new Enrolled(device, broker.token(device.proof(InProcessBroker.tokenHtu(), clock.instant(), h -> h,
        c -> c)).token(TokenRequest.newBuilder().setClientId(InProcessBroker.CLIENT)
        .setDeviceCode(DeviceCodeGrant.newBuilder().setDeviceCode(started.getDeviceCode())).build()));
  }

  private TokenResponse refresh(Enrolled d, String token) {
    return broker.token(d.key().proof(InProcessBroker.tokenHtu(), clock.instant(), h -> h, c -> c)).token(
        TokenRequest.newBuilder().setClientId(InProcessBroker.CLIENT)
            .setRefreshToken(RefreshTokenGrant.newBuilder().setRefreshToken(token)).build());
  }

  private IntrospectTokenResponse introspect(String token) throws Exception {
    ManagedChannel ch = broker.tlsChannel(Caller.BACKEND);
    try {
      return RevocationServiceGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
          .introspectToken(IntrospectTokenRequest.newBuilder().setToken(token).build());
    } finally {
      ch.shutdownNow();
    }
  }

  private void revokeToken(TestDevice as, String token) {
    Metadata md = new Metadata();
    md.put(Metadata.Key.of("dpop", Metadata.ASCII_STRING_MARSHALLER), as.proof(InProcessBroker.htu(
        TokenServiceGrpc.getRevokeTokenMethod().getFullMethodName()), clock.instant(), h -> h, c -> c));
    TokenServiceGrpc.newBlockingStub(broker.channel()).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
        .revokeToken(RevokeTokenRequest.newBuilder().setClientId(InProcessBroker.CLIENT).setToken(token).build());
  }

  @Test
  void introspectionReportsAnActiveTokenWithItsClaimsAndExpiredOrForeignTokensInactive() throws Exception {
    Enrolled d = enrol();
    IntrospectTokenResponse r = introspect(d.tokens().getAccessToken());
    assertThat(r.getActive()).isTrue();
    assertThat(r.getSub()).isEqualTo(d.tokens().getDeviceId());
    assertThat(r.getClientId()).isEqualTo(InProcessBroker.CLIENT);
    assertThat(r.getCnf().getJkt()).isEqualTo(d.key().jkt());
    assertThat(r.getScopeList()).containsExactly("telemetry:write");

    assertThat(introspect("not-a-token").getActive()).isFalse();
    assertThat(introspect(d.tokens().getRefreshToken()).getActive()).isFalse();
    ManagedChannel ch = broker.tlsChannel(Caller.BACKEND);
    try {
      assertThat(RevocationServiceGrpc.newBlockingStub(ch).introspectToken(IntrospectTokenRequest.newBuilder()
          .setToken(d.tokens().getAccessToken()).setTokenTypeHint(TokenTypeHint.TOKEN_TYPE_HINT_REFRESH_TOKEN).build())
          .getActive()).isFalse();
    } finally {
      ch.shutdownNow();
    }
    clock.advance(Duration.ofSeconds(300));
    assertThat(introspect(d.tokens().getAccessToken()).getActive()).isFalse();
  }

  @Test
  void introspectionAndTheStreamRefuseCallersWithoutABackendOrOperatorCertificate() throws Exception {
    ManagedChannel anonymous = broker.tlsChannel(Caller.ANONYMOUS);
    ManagedChannel backend = broker.tlsChannel(Caller.BACKEND);
    try {
      StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, () -> RevocationServiceGrpc
          .newBlockingStub(anonymous).introspectToken(IntrospectTokenRequest.newBuilder().setToken("x").build()));
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
      StatusRuntimeException denied = catchThrowableOfType(StatusRuntimeException.class, () -> AdminServiceGrpc
          .newBlockingStub(backend).listDevices(ListDevicesRequest.getDefaultInstance()));
      assertThat(denied.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    } finally {
      anonymous.shutdownNow();
      backend.shutdownNow();
    }
  }

  @Test
  void revokeDeviceEndsItsRefreshFamilyItsTokensAndItsKey() throws Exception {
    Enrolled d = enrol();
    Device revoked = broker.application().revocations().revokeDevice(d.tokens().getDeviceId(), "stolen", false, "op");

    assertThat(revoked.state()).isEqualTo(Device.State.REVOKED);
    // The device proving its bound key is told it is revoked (so its agent stops rather than re-enrolling).
    assertOAuthError(() -> refresh(d, d.tokens().getRefreshToken()), Status.Code.PERMISSION_DENIED,
        "DEVICE_REVOKED", "invalid_grant");
    // Without the bound key the refresh token reveals nothing about the device.
    assertOAuthError(() -> refresh(new Enrolled(new TestDevice(), d.tokens()), d.tokens().getRefreshToken()),
        Status.Code.UNAUTHENTICATED, "INVALID_GRANT", "invalid_grant");
    assertThat(introspect(d.tokens().getAccessToken()).getActive()).isFalse();
    assertThat(broker.auditCount("device_revoked")).isEqualTo(1);
    // The same key cannot enrol again.
    StartDeviceAuthorizationResponse again = broker.deviceAuthorization().startDeviceAuthorization(
        StartDeviceAuthorizationRequest.newBuilder().setClientId(InProcessBroker.CLIENT).build());
    broker.application().deviceFlow().approve(again.getUserCode(), "alice", "test");
    assertOAuthError(() -> broker.token(d.key().proof(InProcessBroker.tokenHtu(), clock.instant(), h -> h, c -> c))
        .token(TokenRequest.newBuilder().setClientId(InProcessBroker.CLIENT)
            .setDeviceCode(DeviceCodeGrant.newBuilder().setDeviceCode(again.getDeviceCode())).build()),
        Status.Code.UNAUTHENTICATED, "INVALID_GRANT", "invalid_grant");
  }

  @Test
  void suspendRefusesRefreshWithDeviceSuspendedAndResumeRestoresItButNotTheOldTokens() throws Exception {
    Enrolled d = enrol();
    broker.application().revocations().suspendDevice(d.tokens().getDeviceId(), "investigating", "op");
    assertOAuthError(() -> refresh(d, d.tokens().getRefreshToken()), Status.Code.FAILED_PRECONDITION,
        "DEVICE_SUSPENDED", "invalid_grant");
    assertThat(introspect(d.tokens().getAccessToken()).getActive()).isFalse();

    clock.advance(Duration.ofSeconds(2));
    broker.application().revocations().resumeDevice(d.tokens().getDeviceId(), "cleared", "op");
    TokenResponse fresh = refresh(d, d.tokens().getRefreshToken());
    assertThat(introspect(fresh.getAccessToken()).getActive()).isTrue();
    assertThat(introspect(d.tokens().getAccessToken()).getActive()).isFalse();
  }

  @Test
  void revokeClientDevicesRevokesEveryDeviceOfTheClient() {
    Enrolled a = enrol();
    Enrolled b = enrol();
    assertThat(broker.application().revocations().revokeClientDevices(InProcessBroker.CLIENT, "recall", "op"))
        .isEqualTo(2);
    assertOAuthError(() -> refresh(a, a.tokens().getRefreshToken()), Status.Code.PERMISSION_DENIED,
        "DEVICE_REVOKED", "invalid_grant");
    assertOAuthError(() -> refresh(b, b.tokens().getRefreshToken()), Status.Code.PERMISSION_DENIED,
        "DEVICE_REVOKED", "invalid_grant");
  }

  @Test
  void rfc7009RevokeNeedsTheBoundKeyAndSucceedsForUnknownTokens() throws Exception {
    Enrolled d = enrol();
    assertOAuthError(() -> revokeToken(new TestDevice(), d.tokens().getRefreshToken()), Status.Code.UNAUTHENTICATED,
        "INVALID_DPOP_PROOF", "invalid_dpop_proof");
    assertThat(refresh(d, d.tokens().getRefreshToken()).getAccessToken()).isNotBlank();

    revokeToken(d.key(), "A".repeat(43));
    revokeToken(d.key(), "unknown-or-garbage");

    Enrolled e = enrol();
    revokeToken(e.key(), e.tokens().getAccessToken());
    assertThat(introspect(e.tokens().getAccessToken()).getActive()).isFalse();
    revokeToken(e.key(), e.tokens().getRefreshToken());
    assertOAuthError(() -> refresh(e, e.tokens().getRefreshToken()), Status.Code.UNAUTHENTICATED, "INVALID_GRANT",
        "invalid_grant");
    revokeToken(e.key(), e.tokens().getRefreshToken()); // already revoked: still success (RFC 7009 §2.2)
  }

  /** Collects a stream's messages. */
  static final class Collector implements StreamObserver<WatchRevocationsResponse> {
    final BlockingQueue<WatchRevocationsResponse> messages = new LinkedBlockingQueue<>();
    volatile Throwable error;

    @Override
    public void onNext(WatchRevocationsResponse value) {
      messages.add(value);
    }

    @Override
    public void onError(Throwable t) {
      error = t;
    }

    @Override
    public void onCompleted() {}

    /** The next message that is not a heartbeat. */
    WatchRevocationsResponse next() throws InterruptedException {
      while (true) {
        WatchRevocationsResponse m = messages.poll(5, TimeUnit.SECONDS);
        assertThat(m).as("a stream message (error %s)", error).isNotNull();
        if (!m.hasHeartbeat()) {
          return m;
        }
      }
    }
  }

  @Test
  void watchRevocationsSendsSnapshotThenLiveEventsWithinASecondAndResumesFromACursor() throws Exception {
    Enrolled before = enrol();
    broker.application().revocations().revokeDevice(before.tokens().getDeviceId(), "before", false, "op");

    ManagedChannel ch = broker.tlsChannel(Caller.BACKEND);
    Collector first = new Collector();
    var call = io.grpc.Context.current().withCancellation();
    call.run(() -> RevocationServiceGrpc.newStub(ch).watchRevocations(WatchRevocationsRequest.getDefaultInstance(),
        first));
    WatchRevocationsResponse e1 = first.next();
    WatchRevocationsResponse e2 = first.next();
    assertThat(List.of(e1.getEvent().getDeviceId(), e2.getEvent().getJkt()))
        .containsExactly(before.tokens().getDeviceId(), before.key().jkt());
    WatchRevocationsResponse done = first.next();
    assertThat(done.getSnapshotComplete().getFullSnapshot()).isTrue();

    Enrolled live = enrol();
    long revokedAtNanos = System.nanoTime();
    broker.application().revocations().revokeDevice(live.tokens().getDeviceId(), "live", false, "op");
    WatchRevocationsResponse liveEvent = first.messages.poll(1, TimeUnit.SECONDS);
    while (liveEvent != null && liveEvent.hasHeartbeat()) {
      liveEvent = first.messages.poll(1, TimeUnit.SECONDS);
    }
    long elapsedMillis = (System.nanoTime() - revokedAtNanos) / 1_000_000;
    assertThat(liveEvent).as("live event within a second").isNotNull();
    assertThat(elapsedMillis).isLessThan(1_000);
    assertThat(liveEvent.getEvent().getDeviceId()).isEqualTo(live.tokens().getDeviceId());
    String cursor = first.next().getEvent().getCursor(); // the jkt event
    call.cancel(null);

    Enrolled whileAway = enrol();
    broker.application().revocations().revokeDevice(whileAway.tokens().getDeviceId(), "away", false, "op");
    Collector second = new Collector();
    RevocationServiceGrpc.newStub(ch).watchRevocations(WatchRevocationsRequest.newBuilder().setCursor(cursor).build(),
        second);
    assertThat(second.next().getEvent().getDeviceId()).isEqualTo(whileAway.tokens().getDeviceId());
    assertThat(second.next().getEvent().getJkt()).isEqualTo(whileAway.key().jkt());
    WatchRevocationsResponse resumed = second.next();
    assertThat(resumed.getSnapshotComplete().getFullSnapshot()).isFalse();
    WatchRevocationsResponse heartbeat = second.messages.poll(5, TimeUnit.SECONDS);
    assertThat(heartbeat).isNotNull();
    assertThat(heartbeat.hasHeartbeat()).isTrue();
    assertThat(heartbeat.getHeartbeat().getCursor()).isEqualTo(resumed.getSnapshotComplete().getCursor());
    ch.shutdownNow();
  }

  @Test
  void refreshRacingARevocationNeverMintsATokenThatOutlivesIt() throws Exception {
    for (int round = 0; round < 5; round++) {
      Enrolled d = enrol();
      java.util.concurrent.atomic.AtomicReference<String> current =
          new java.util.concurrent.atomic.AtomicReference<>(d.tokens().getRefreshToken());
      List<String> accessTokens = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
      java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
      Thread refresher = new Thread(() -> {
        while (!stop.get()) {
          try {
            TokenResponse r = refresh(d, current.get());
            current.set(r.getRefreshToken());
            accessTokens.add(r.getAccessToken());
          } catch (StatusRuntimeException e) {
            return; // revoked
          }
        }
      });
      refresher.start();
      Thread.sleep(20L * round);
      broker.application().revocations().revokeDevice(d.tokens().getDeviceId(), "race", false, "op");
      stop.set(true);
      refresher.join(10_000);

      int live = broker.context().database().inTransaction(c -> {
        try (var ps = c.prepareStatement("SELECT COUNT(*) FROM refresh_tokens t JOIN refresh_families f "
            + "ON t.family_id = f.family_id WHERE f.device_id = ? AND t.status = 'ACTIVE'")) {
          ps.setString(1, d.tokens().getDeviceId());
          try (var rs = ps.executeQuery()) {
            rs.next();
            return rs.getInt(1);
          }
        }
      });
      assertThat(live).as("live refresh tokens after revocation").isZero();
      // What an offline verifier relies on: the device's revocation event covers every token minted in the race.
      Instant revokedAt = broker.context().database().inTransaction(c -> {
        try (var ps = c.prepareStatement("SELECT revoked_at FROM revocation_events WHERE subject_kind = 'DEVICE_ID' "
            + "AND subject_value = ?")) {
          ps.setString(1, d.tokens().getDeviceId());
          try (var rs = ps.executeQuery()) {
            rs.next();
            return rs.getObject(1, java.time.OffsetDateTime.class).toInstant();
          }
        }
      });
      for (String accessToken : accessTokens) {
        Instant iat = com.nimbusds.jwt.SignedJWT.parse(accessToken).getJWTClaimsSet().getIssueTime().toInstant();
        assertThat(iat).as("iat of a token minted during the race").isBeforeOrEqualTo(revokedAt);
        assertThat(introspect(accessToken).getActive()).as("access token minted during the race").isFalse();
      }
    }
  }

  @Test
  void lastSeenAndLastRefreshAreKeptToTheMinuteAndANewUserAgentAtOnce() throws Exception {
    Enrolled device = enrol();
    Instant first = clock.instant();
    String refreshToken = refresh(device, device.tokens().getRefreshToken(), "agent/1 firmware/1.0");
    clock.advance(Duration.ofSeconds(30));
    refreshToken = refresh(device, refreshToken, "agent/1 firmware/1.0");
    // device.proto: "at most once a minute per device": the second refresh, 30 s later, leaves both times alone.
    assertThat(shownDevice(device).getLastRefreshAt().getSeconds()).isEqualTo(first.getEpochSecond());
    assertThat(shownDevice(device).getLastSeenAt().getSeconds()).isEqualTo(first.getEpochSecond());

    clock.advance(Duration.ofSeconds(10));
    refreshToken = refresh(device, refreshToken, "agent/1 firmware/1.1");
    // New firmware is shown at once, with the time it was seen.
    assertThat(shownDevice(device).getUserAgent()).contains("firmware/1.1");
    assertThat(shownDevice(device).getLastRefreshAt().getSeconds()).isEqualTo(clock.instant().getEpochSecond());

    Instant updated = clock.instant();
    clock.advance(Duration.ofSeconds(61));
    refresh(device, refreshToken, "agent/1 firmware/1.1");
    assertThat(shownDevice(device).getLastRefreshAt().getSeconds()).isEqualTo(clock.instant().getEpochSecond())
        .isGreaterThan(updated.getEpochSecond());
    assertThat(shownDevice(device).getLastSeenAt().getSeconds()).isEqualTo(clock.instant().getEpochSecond());
  }

  /** One DPoP refresh with this user agent; returns the successor refresh token. */
  private String refresh(Enrolled device, String refreshToken, String userAgent) throws Exception {
    ManagedChannel agent = broker.channel(userAgent);
    try {
      Metadata proof = new Metadata();
      proof.put(Metadata.Key.of("dpop", Metadata.ASCII_STRING_MARSHALLER),
          device.key().proof(InProcessBroker.tokenHtu(), clock.instant(), h -> h, c -> c));
      return TokenServiceGrpc.newBlockingStub(agent).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(proof))
          .token(TokenRequest.newBuilder().setClientId(InProcessBroker.CLIENT)
              .setRefreshToken(RefreshTokenGrant.newBuilder().setRefreshToken(refreshToken)).build())
          .getRefreshToken();
    } finally {
      agent.shutdownNow();
    }
  }

  private io.tokenbroker.proto.v1.Device shownDevice(Enrolled device) throws Exception {
    ManagedChannel ch = broker.tlsChannel(Caller.OPERATOR);
    try {
      return AdminServiceGrpc.newBlockingStub(ch).getDevice(io.tokenbroker.proto.v1.GetDeviceRequest.newBuilder()
          .setDeviceId(device.tokens().getDeviceId()).build()).getDevice();
    } finally {
      ch.shutdownNow();
    }
  }

  @Test
  void getDeviceShowsItsFamiliesUserAgentAndLastRefreshAndListFiltersByLastSeen() throws Exception {
    Enrolled quiet = enrol();
    clock.advance(Duration.ofDays(8));
    Enrolled busy = enrol();
    ManagedChannel agent = broker.channel("tokenbroker-agent/0.1 firmware/2.4.1");
    Metadata proof = new Metadata();
    proof.put(Metadata.Key.of("dpop", Metadata.ASCII_STRING_MARSHALLER),
        busy.key().proof(InProcessBroker.tokenHtu(), clock.instant(), h -> h, c -> c));
    TokenServiceGrpc.newBlockingStub(agent).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(proof))
        .token(TokenRequest.newBuilder().setClientId(InProcessBroker.CLIENT)
            .setRefreshToken(RefreshTokenGrant.newBuilder().setRefreshToken(busy.tokens().getRefreshToken())).build());
    agent.shutdownNow();

    ManagedChannel ch = broker.tlsChannel(Caller.OPERATOR);
    try {
      var admin = AdminServiceGrpc.newBlockingStub(ch);
      var device = admin.getDevice(io.tokenbroker.proto.v1.GetDeviceRequest.newBuilder()
          .setDeviceId(busy.tokens().getDeviceId()).build()).getDevice();
      assertThat(device.getUserAgent()).contains("firmware/2.4.1");
      assertThat(device.getLastRefreshAt().getSeconds()).isEqualTo(clock.instant().getEpochSecond());
      assertThat(device.getRefreshFamiliesList()).singleElement().satisfies(f -> {
        assertThat(f.getGenerationCount()).isEqualTo(2);
        assertThat(f.getState().name()).isEqualTo("REFRESH_FAMILY_STATE_ACTIVE");
      });
      var silent = admin.listDevices(ListDevicesRequest.newBuilder().setLastSeenEndTime(
          com.google.protobuf.Timestamp.newBuilder().setSeconds(clock.instant().minus(Duration.ofDays(7))
              .getEpochSecond())).build());
      assertThat(silent.getDevicesList()).extracting(io.tokenbroker.proto.v1.Device::getDeviceId)
          .containsExactly(quiet.tokens().getDeviceId());
      var recent = admin.listDevices(ListDevicesRequest.newBuilder().setLastSeenStartTime(
          com.google.protobuf.Timestamp.newBuilder().setSeconds(clock.instant().minusSeconds(60).getEpochSecond()))
          .setPageSize(100_000).build());
      assertThat(recent.getDevicesList()).extracting(io.tokenbroker.proto.v1.Device::getDeviceId)
          .containsExactly(busy.tokens().getDeviceId());
    } finally {
      ch.shutdownNow();
    }
  }

  @Test
  void operatorRevokeDeviceRpcOverTlsRecordsTheReason() throws Exception {
    Enrolled d = enrol();
    ManagedChannel ch = broker.tlsChannel(Caller.OPERATOR);
    try {
      var device = AdminServiceGrpc.newBlockingStub(ch).revokeDevice(RevokeDeviceRequest.newBuilder()
          .setDeviceId(d.tokens().getDeviceId()).setReason("lost in transit").setKeyCompromise(true).build())
          .getDevice();
      assertThat(device.getState().name()).isEqualTo("DEVICE_STATE_REVOKED");
      assertThat(device.getStateReason()).isEqualTo("lost in transit");
    } finally {
      ch.shutdownNow();
    }
  }
}
