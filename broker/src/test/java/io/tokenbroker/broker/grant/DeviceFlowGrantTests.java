package io.tokenbroker.broker.grant;

import static io.tokenbroker.broker.testing.GrpcErrorAssert.assertOAuthError;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.tokenbroker.broker.keys.Pkcs11SigningKeyStore;
import io.tokenbroker.broker.testing.InProcessBroker;
import io.tokenbroker.broker.testing.MutableClock;
import io.tokenbroker.broker.testing.SoftHsm;
import io.tokenbroker.broker.testing.SoftHsmTest;
import io.tokenbroker.broker.testing.TestDevice;
import io.tokenbroker.proto.v1.DeviceCodeGrant;
import io.tokenbroker.proto.v1.GetJwksRequest;
import io.tokenbroker.proto.v1.JwksServiceGrpc;
import io.tokenbroker.proto.v1.RefreshTokenGrant;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationRequest;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationResponse;
import io.tokenbroker.proto.v1.TokenRequest;
import io.tokenbroker.proto.v1.TokenResponse;
import io.tokenbroker.proto.v1.TokenType;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** RFC 8628 device flow to DPoP-bound tokens, through the gRPC services, on real SoftHSM2 and H2. */
@SoftHsmTest
class DeviceFlowGrantTests {
  private final SoftHsm hsm;
  private final MutableClock clock = new MutableClock(Instant.now());
  private final TestDevice device = new TestDevice();
  @TempDir Path dir;
  private InProcessBroker broker;

  DeviceFlowGrantTests(SoftHsm hsm) {
    this.hsm = hsm;
  }

  @BeforeEach
  void startBroker() throws Exception {
    broker = InProcessBroker.start(hsm, dir, clock, "");
    broker.application().clientRegistry().create(io.tokenbroker.broker.client.ClientRegistry.draft(
        InProcessBroker.CLIENT, "Demo", java.util.Set.of("telemetry:write", "firmware:read"),
        java.util.Set.of("https://api.example.test", "https://other.example.test"),
        io.tokenbroker.broker.client.BindingPolicy.DPOP), "test");
  }

  @AfterEach
  void stopBroker() throws Exception {
    broker.close();
  }

  private StartDeviceAuthorizationResponse start() {
    return broker.deviceAuthorization().startDeviceAuthorization(
        StartDeviceAuthorizationRequest.newBuilder().setClientId(InProcessBroker.CLIENT).build());
  }

  private TokenResponse poll(String deviceCode, TestDevice as) {
    return broker.token(as.proof(InProcessBroker.tokenHtu(), clock.instant(), h -> h, c -> c)).token(
        TokenRequest.newBuilder().setClientId(InProcessBroker.CLIENT)
            .setDeviceCode(DeviceCodeGrant.newBuilder().setDeviceCode(deviceCode)).build());
  }

  private TokenResponse refresh(String refreshToken, TestDevice as) {
    return broker.refresh(refreshToken, as);
  }

  private void approve(String userCode) {
    broker.application().deviceFlow().approve(userCode, "alice", "test-operator");
  }

  private TokenResponse approvedTokens() {
    StartDeviceAuthorizationResponse started = start();
    approve(started.getUserCode());
    return poll(started.getDeviceCode(), device);
  }

  @Test
  void startReturnsRfc8628CodesWithDefaultsAndConsonantUserCode() {
    StartDeviceAuthorizationResponse r = start();

    assertThat(r.getDeviceCode()).matches("[A-Za-z0-9_-]{43}");
    assertThat(r.getUserCode()).matches("[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}");
    assertThat(r.getVerificationUri()).isEqualTo("https://broker.test:8444/device");
    assertThat(r.getVerificationUriComplete()).isEqualTo(r.getVerificationUri() + "?user_code=" + r.getUserCode());
    assertThat(r.getExpiresIn().getSeconds()).isEqualTo(600);
    assertThat(r.getInterval().getSeconds()).isEqualTo(5);
  }

  @Test
  void codesAreStoredOnlyAsHashes() {
    StartDeviceAuthorizationResponse r = start();
    String state = broker.grantState().toString();
    assertThat(state).doesNotContain(r.getDeviceCode()).doesNotContain(r.getUserCode())
        .doesNotContain(r.getUserCode().replace("-", ""));
  }

  @Test
  void tokenWhenApprovedThenDpopBoundRfc9068AccessTokenVerifiesAgainstJwks() throws Exception {
    StartDeviceAuthorizationResponse started = start();
    approve(started.getUserCode().toLowerCase().replace("-", " "));

    TokenResponse tokens = poll(started.getDeviceCode(), device);

    assertThat(tokens.getTokenType()).isEqualTo(TokenType.TOKEN_TYPE_DPOP);
    assertThat(tokens.getExpiresIn().getSeconds()).isEqualTo(300);
    assertThat(tokens.getRefreshToken()).matches("[A-Za-z0-9_-]{43}");
    SignedJWT jwt = SignedJWT.parse(tokens.getAccessToken());
    assertThat(jwt.getHeader().getType().getType()).isEqualTo("at+jwt");
    JWKSet jwks = JWKSet.parse(JwksServiceGrpc.newBlockingStub(broker.channel())
        .getJwks(GetJwksRequest.getDefaultInstance()).getJwksJson());
    assertThat(jwt.verify(new ECDSAVerifier(jwks.getKeyByKeyId(jwt.getHeader().getKeyID()).toECKey()))).isTrue();
    JWTClaimsSet claims = jwt.getJWTClaimsSet();
    assertThat(claims.getIssuer()).isEqualTo(InProcessBroker.ISSUER);
    assertThat(claims.getSubject()).isEqualTo(tokens.getDeviceId());
    assertThat(claims.getAudience()).containsExactlyInAnyOrder("https://api.example.test", "https://other.example.test");
    assertThat(claims.getStringClaim("client_id")).isEqualTo(InProcessBroker.CLIENT);
    assertThat(claims.getStringClaim("scope")).isEqualTo("firmware:read telemetry:write");
    assertThat(claims.getJWTID()).isNotBlank();
    assertThat(Duration.between(claims.getIssueTime().toInstant(), claims.getExpirationTime().toInstant()))
        .isEqualTo(Duration.ofSeconds(300));
    assertThat(claims.getJSONObjectClaim("cnf")).isEqualTo(Map.of("jkt", device.jkt()));
    assertThat(broker.grantState().toString()).doesNotContain(tokens.getRefreshToken());
  }

  @Test
  void tokenWhenNotYetApprovedThenAuthorizationPendingAndFasterPollingThenSlowDownGrowingTheInterval() {
    StartDeviceAuthorizationResponse started = start();
    assertOAuthError(() -> poll(started.getDeviceCode(), device), Status.Code.FAILED_PRECONDITION,
        "AUTHORIZATION_PENDING", "authorization_pending");

    clock.advance(Duration.ofSeconds(4));
    StatusRuntimeException slow = assertOAuthError(() -> poll(started.getDeviceCode(), device),
        Status.Code.RESOURCE_EXHAUSTED, "SLOW_DOWN", "slow_down");
    assertThat(slow.getStatus().getDescription()).contains("every 10 s");

    // RFC 8628 §3.5: the +5 s holds "for this and all subsequent requests": 6 s later is still too fast.
    clock.advance(Duration.ofSeconds(6));
    assertOAuthError(() -> poll(started.getDeviceCode(), device), Status.Code.RESOURCE_EXHAUSTED, "SLOW_DOWN",
        "slow_down");
    clock.advance(Duration.ofSeconds(15));
    assertOAuthError(() -> poll(started.getDeviceCode(), device), Status.Code.FAILED_PRECONDITION,
        "AUTHORIZATION_PENDING", "authorization_pending");
  }

  @Test
  void tokenWhenDeniedThenAccessDenied() {
    StartDeviceAuthorizationResponse started = start();
    broker.application().deviceFlow().deny(started.getUserCode(), "test-operator", "not mine");
    assertOAuthError(() -> poll(started.getDeviceCode(), device), Status.Code.PERMISSION_DENIED, "ACCESS_DENIED",
        "access_denied");
  }

  @Test
  void tokenWhenCodeExpiredThenExpiredTokenEvenIfApprovedLate() {
    StartDeviceAuthorizationResponse started = start();
    clock.advance(Duration.ofSeconds(600));
    assertOAuthError(() -> poll(started.getDeviceCode(), device), Status.Code.FAILED_PRECONDITION, "EXPIRED_TOKEN",
        "expired_token");
  }

  @Test
  void tokenWhenDeviceCodeRedeemedTwiceThenInvalidGrant() {
    StartDeviceAuthorizationResponse started = start();
    approve(started.getUserCode());
    poll(started.getDeviceCode(), device);
    clock.advance(Duration.ofSeconds(5));
    assertOAuthError(() -> poll(started.getDeviceCode(), device), Status.Code.UNAUTHENTICATED, "INVALID_GRANT",
        "invalid_grant");
    assertThat(broker.auditCount("device_code_reuse")).isEqualTo(1);
  }

  @Test
  void tokenWhenUnknownDeviceCodeThenInvalidGrant() {
    start();
    assertOAuthError(() -> poll("A".repeat(43), device), Status.Code.UNAUTHENTICATED, "INVALID_GRANT",
        "invalid_grant");
    assertOAuthError(() -> poll("short", device), Status.Code.UNAUTHENTICATED, "INVALID_GRANT", "invalid_grant");
  }

  @Test
  void tokenWhenDeviceCodeOrRefreshTokenOversizedThenInvalidRequestAndNothingStored() {
    start();
    Map<String, List<String>> before = broker.grantState();
    assertOAuthError(() -> poll("A".repeat(10_000), device), Status.Code.INVALID_ARGUMENT, "INVALID_REQUEST",
        "invalid_request");
    assertOAuthError(() -> refresh("A".repeat(129), device), Status.Code.INVALID_ARGUMENT, "INVALID_REQUEST",
        "invalid_request");
    assertThat(broker.grantState()).isEqualTo(before);
  }

  @Test
  void startWhenUnknownClientThenInvalidClient() {
    assertOAuthError(() -> broker.deviceAuthorization().startDeviceAuthorization(
        StartDeviceAuthorizationRequest.newBuilder().setClientId("nobody").build()),
        Status.Code.UNAUTHENTICATED, "INVALID_CLIENT", "invalid_client");
  }

  @Test
  void startWhenScopeNotAllowedThenInvalidScopeAndAudienceNotAllowedThenInvalidTarget() {
    assertOAuthError(() -> broker.deviceAuthorization().startDeviceAuthorization(
        StartDeviceAuthorizationRequest.newBuilder().setClientId(InProcessBroker.CLIENT).addScope("admin").build()),
        Status.Code.INVALID_ARGUMENT, "INVALID_SCOPE", "invalid_scope");
    assertOAuthError(() -> broker.deviceAuthorization().startDeviceAuthorization(
        StartDeviceAuthorizationRequest.newBuilder().setClientId(InProcessBroker.CLIENT)
            .addAudience("https://evil.example").build()),
        Status.Code.INVALID_ARGUMENT, "INVALID_TARGET", "invalid_target");
  }

  @Test
  void startWhenFieldsOversizedThenInvalidRequestAndNothingStored() {
    Map<String, List<String>> before = broker.grantState();
    assertOAuthError(() -> broker.deviceAuthorization().startDeviceAuthorization(
        StartDeviceAuthorizationRequest.newBuilder().setClientId("x".repeat(129)).build()),
        Status.Code.INVALID_ARGUMENT, "INVALID_REQUEST", "invalid_request");
    StartDeviceAuthorizationRequest.Builder many = StartDeviceAuthorizationRequest.newBuilder()
        .setClientId(InProcessBroker.CLIENT);
    for (int i = 0; i < 33; i++) {
      many.addScope("telemetry:write");
    }
    assertOAuthError(() -> broker.deviceAuthorization().startDeviceAuthorization(many.build()),
        Status.Code.INVALID_ARGUMENT, "INVALID_REQUEST", "invalid_request");
    assertThat(broker.grantState()).isEqualTo(before);
  }

  @Test
  void startWithNarrowerScopeAndAudienceThenTokenCarriesOnlyThose() throws Exception {
    StartDeviceAuthorizationResponse started = broker.deviceAuthorization().startDeviceAuthorization(
        StartDeviceAuthorizationRequest.newBuilder().setClientId(InProcessBroker.CLIENT).addScope("telemetry:write")
            .addAudience("https://api.example.test").build());
    approve(started.getUserCode());
    JWTClaimsSet claims = SignedJWT.parse(poll(started.getDeviceCode(), device).getAccessToken()).getJWTClaimsSet();
    assertThat(claims.getStringClaim("scope")).isEqualTo("telemetry:write");
    assertThat(claims.getAudience()).containsExactly("https://api.example.test");
  }

  @Test
  void tokenWithoutGrantThenUnsupportedGrantType() {
    assertOAuthError(() -> broker.token(device.proof(InProcessBroker.tokenHtu())).token(
        TokenRequest.newBuilder().setClientId(InProcessBroker.CLIENT).build()),
        Status.Code.INVALID_ARGUMENT, "UNSUPPORTED_GRANT_TYPE", "unsupported_grant_type");
  }

  @Test
  void refreshWithProofFromTheSameKeyThenNewBoundTokensAndTheOldRefreshTokenIsSpent() throws Exception {
    TokenResponse first = approvedTokens();
    clock.advance(Duration.ofSeconds(30));

    TokenResponse second = refresh(first.getRefreshToken(), device);

    assertThat(second.getRefreshToken()).isNotEqualTo(first.getRefreshToken());
    assertThat(second.getDeviceId()).isEqualTo(first.getDeviceId());
    JWTClaimsSet claims = SignedJWT.parse(second.getAccessToken()).getJWTClaimsSet();
    assertThat(claims.getJSONObjectClaim("cnf")).isEqualTo(Map.of("jkt", device.jkt()));
    assertThat(claims.getJWTID()).isNotEqualTo(SignedJWT.parse(first.getAccessToken()).getJWTClaimsSet().getJWTID());
    assertThat(refresh(second.getRefreshToken(), device).getRefreshToken()).isNotBlank();
  }

  @Test
  void refreshWithProofFromAnotherKeyThenInvalidGrantAndTheTokenStillWorksForItsKey() {
    TokenResponse first = approvedTokens();
    Map<String, List<String>> before = broker.grantState();

    assertOAuthError(() -> refresh(first.getRefreshToken(), new TestDevice()), Status.Code.UNAUTHENTICATED,
        "INVALID_GRANT", "invalid_grant");

    assertThat(broker.grantState()).isEqualTo(before);
    assertThat(refresh(first.getRefreshToken(), device).getAccessToken()).isNotBlank();
  }

  @Test
  void refreshWhenScopeWidenedThenInvalidScope() {
    TokenResponse first = approvedTokens();
    assertOAuthError(() -> broker.token(device.proof(InProcessBroker.tokenHtu())).token(TokenRequest.newBuilder()
        .setClientId(InProcessBroker.CLIENT).setRefreshToken(RefreshTokenGrant.newBuilder()
            .setRefreshToken(first.getRefreshToken()).addScope("admin")).build()),
        Status.Code.INVALID_ARGUMENT, "INVALID_SCOPE", "invalid_scope");
  }

  @Test
  void refreshWhenIdleLifetimeOverThenInvalidGrant() {
    TokenResponse first = approvedTokens();
    clock.advance(Duration.ofDays(14));
    assertOAuthError(() -> refresh(first.getRefreshToken(), device), Status.Code.UNAUTHENTICATED, "INVALID_GRANT",
        "invalid_grant");
  }

  @Test
  void tokenWhenHsmCannotSignThenUnavailableAndNothingWritten() {
    StartDeviceAuthorizationResponse started = start();
    approve(started.getUserCode());
    String active = broker.context().keys().activeKey().kid();
    // The key disappears from the token under the running broker, as when an HSM loses its objects.
    new Pkcs11SigningKeyStore(broker.context().token(), clock)
        .destroy(active);
    Map<String, List<String>> before = broker.grantState();

    assertOAuthError(() -> poll(started.getDeviceCode(), device), Status.Code.UNAVAILABLE,
        "TEMPORARILY_UNAVAILABLE", "temporarily_unavailable");

    assertThat(broker.grantState()).isEqualTo(before);
  }

  @Test
  void approveWhenCodeMalformedUnknownOrUsedThenClearRefusals() {
    StartDeviceAuthorizationResponse started = start();
    org.assertj.core.api.Assertions.assertThatThrownBy(
        () -> broker.application().deviceFlow().approve("AEIO-UAEI", "alice", "op"))
        .hasMessageContaining("8 letters from BCDFGHJKLMNPQRSTVWXZ");
    org.assertj.core.api.Assertions.assertThatThrownBy(
        () -> broker.application().deviceFlow().approve("BBBB-BBBB", "alice", "op"))
        .hasMessageContaining("no device authorization has this user code");
    approve(started.getUserCode());
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> approve(started.getUserCode()))
        .hasMessageContaining("already used");
  }
}
