package io.tokenbroker.broker.devicecert;

import static io.tokenbroker.broker.testing.GrpcErrorAssert.assertOAuthError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.ByteString;
import com.nimbusds.jwt.SignedJWT;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import io.tokenbroker.broker.binding.CertificateThumbprint;
import io.tokenbroker.broker.client.BindingPolicy;
import io.tokenbroker.broker.client.ClientRegistry;
import io.tokenbroker.broker.testing.InProcessBroker;
import io.tokenbroker.broker.testing.InProcessBroker.Caller;
import io.tokenbroker.broker.testing.MutableClock;
import io.tokenbroker.broker.testing.SoftHsm;
import io.tokenbroker.broker.testing.SoftHsmTest;
import io.tokenbroker.broker.testing.TestCertificates;
import io.tokenbroker.broker.testing.TestDevice;
import io.tokenbroker.proto.v1.AdminServiceGrpc;
import io.tokenbroker.proto.v1.CertificateServiceGrpc;
import io.tokenbroker.proto.v1.DeviceCodeGrant;
import io.tokenbroker.proto.v1.GetDeviceCaCertificatesRequest;
import io.tokenbroker.proto.v1.IntrospectTokenRequest;
import io.tokenbroker.proto.v1.IssueDeviceCertificateRequest;
import io.tokenbroker.proto.v1.IssueDeviceCertificateResponse;
import io.tokenbroker.proto.v1.ListDevicesRequest;
import io.tokenbroker.proto.v1.RefreshTokenGrant;
import io.tokenbroker.proto.v1.RenewDeviceCertificateRequest;
import io.tokenbroker.proto.v1.RenewDeviceCertificateResponse;
import io.tokenbroker.proto.v1.RevocationServiceGrpc;
import io.tokenbroker.proto.v1.RevokeDeviceRequest;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationRequest;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationResponse;
import io.tokenbroker.proto.v1.TokenRequest;
import io.tokenbroker.proto.v1.TokenResponse;
import io.tokenbroker.proto.v1.TokenServiceGrpc;
import io.tokenbroker.proto.v1.TokenType;
import io.tokenbroker.proto.v1.WatchRevocationsRequest;
import io.tokenbroker.proto.v1.WatchRevocationsResponse;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RFC 8705 certificate-bound tokens and device certificates over real mutual TLS on loopback, with the device
 * CA key in a real SoftHSM2 token and state in a real H2 file.
 */
@SoftHsmTest
class MutualTlsTests {
  private static final String MTLS_CLIENT = "sensor-mtls";
  private static final String ISSUE_HTU = InProcessBroker.htu(
      CertificateServiceGrpc.getIssueDeviceCertificateMethod().getFullMethodName());

  private final SoftHsm hsm;
  private final MutableClock clock = new MutableClock(Instant.now());
  private final List<ManagedChannel> channels = new ArrayList<>();
  @TempDir Path dir;
  private InProcessBroker broker;

  MutualTlsTests(SoftHsm hsm) {
    this.hsm = hsm;
  }

  @BeforeEach
  void start() throws Exception {
    broker = InProcessBroker.start(hsm, dir, clock, "device.certificate-lifetime=P7D\n");
    // The broker's issuer is an audience, so that the device's token may call CertificateService.
    broker.application().clientRegistry().create(ClientRegistry.draft(MTLS_CLIENT, "mTLS sensor",
        Set.of("telemetry:write"), Set.of("https://api.example.test", InProcessBroker.ISSUER), BindingPolicy.MTLS),
        "test");
    broker.application().clientRegistry().create(ClientRegistry.draft(InProcessBroker.CLIENT, "DPoP sensor",
        Set.of("telemetry:write"), Set.of("https://api.example.test", InProcessBroker.ISSUER), BindingPolicy.DPOP),
        "test");
  }

  @AfterEach
  void stop() throws Exception {
    channels.forEach(ManagedChannel::shutdownNow);
    broker.close();
  }

  // ---- helpers ---------------------------------------------------------------------------------------------

  private ManagedChannel tls(KeyPair key, X509Certificate certificate) throws Exception {
    ManagedChannel ch = broker.tlsChannel(key.getPrivate(), certificate);
    channels.add(ch);
    return ch;
  }

  private ManagedChannel tls(Caller caller) throws Exception {
    ManagedChannel ch = broker.tlsChannel(caller);
    channels.add(ch);
    return ch;
  }

  private static <S extends AbstractStub<S>> S withMetadata(S stub, Map<String, String> values) {
    Metadata md = new Metadata();
    values.forEach((k, v) -> md.put(Metadata.Key.of(k, Metadata.ASCII_STRING_MARSHALLER), v));
    return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md)).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  /** Starts and approves a device authorization; returns its device code. */
  private String approvedDeviceCode(String clientId) {
    StartDeviceAuthorizationResponse started = broker.deviceAuthorization().startDeviceAuthorization(
        StartDeviceAuthorizationRequest.newBuilder().setClientId(clientId).build());
    broker.application().deviceFlow().approve(started.getUserCode(), "alice", "test");
    return started.getDeviceCode();
  }

  private static TokenRequest deviceCodeRequest(String clientId, String deviceCode) {
    return TokenRequest.newBuilder().setClientId(clientId)
        .setDeviceCode(DeviceCodeGrant.newBuilder().setDeviceCode(deviceCode)).build();
  }

  private static TokenRequest refreshRequest(String clientId, String refreshToken) {
    return TokenRequest.newBuilder().setClientId(clientId)
        .setRefreshToken(RefreshTokenGrant.newBuilder().setRefreshToken(refreshToken)).build();
  }

  private TokenServiceGrpc.TokenServiceBlockingStub token(ManagedChannel ch) {
    return TokenServiceGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  private TokenServiceGrpc.TokenServiceBlockingStub token(ManagedChannel ch, TestDevice dpop) {
    return withMetadata(TokenServiceGrpc.newBlockingStub(ch),
        Map.of("dpop", dpop.proof(InProcessBroker.tokenHtu(), clock.instant(), h -> h, c -> c)));
  }

  private static String ath(String accessToken) throws Exception {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(
        MessageDigest.getInstance("SHA-256").digest(accessToken.getBytes(StandardCharsets.US_ASCII)));
  }

  private CertificateServiceGrpc.CertificateServiceBlockingStub certificates(ManagedChannel ch, TestDevice dpop,
      String accessToken) throws Exception {
    String ath = ath(accessToken);
    return withMetadata(CertificateServiceGrpc.newBlockingStub(ch), Map.of("authorization", "DPoP " + accessToken,
        "dpop", dpop.proof(ISSUE_HTU, clock.instant(), h -> h, c -> c.claim("ath", ath))));
  }

  private static X509Certificate certificate(ByteString der) throws Exception {
    return (X509Certificate) CertificateFactory.getInstance("X.509")
        .generateCertificate(new ByteArrayInputStream(der.toByteArray()));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> cnf(String accessToken) throws Exception {
    return (Map<String, Object>) SignedJWT.parse(accessToken).getJWTClaimsSet().getClaim("cnf");
  }

  /** A device of the mTLS client, enrolled with DPoP (bootstrap) over anonymous TLS. */
  private record Bootstrapped(TestDevice dpop, TokenResponse tokens) {}

  private Bootstrapped bootstrap() throws Exception {
    TestDevice dpop = new TestDevice();
    TokenResponse tokens = token(tls(Caller.ANONYMOUS), dpop).token(deviceCodeRequest(MTLS_CLIENT,
        approvedDeviceCode(MTLS_CLIENT)));
    return new Bootstrapped(dpop, tokens);
  }

  /** A device certificate issued for {@code key} to a bootstrapped device. */
  private IssueDeviceCertificateResponse issue(Bootstrapped d, KeyPair key) throws Exception {
    return certificates(tls(Caller.ANONYMOUS), d.dpop(), d.tokens().getAccessToken())
        .issueDeviceCertificate(IssueDeviceCertificateRequest.newBuilder()
            .setCsrDer(ByteString.copyFrom(TestCertificates.csr(key))).build());
  }

  private List<WatchRevocationsResponse> revocationSnapshot() throws Exception {
    ManagedChannel backend = tls(Caller.BACKEND);
    Iterator<WatchRevocationsResponse> it = RevocationServiceGrpc.newBlockingStub(backend)
        .withDeadlineAfter(30, TimeUnit.SECONDS).watchRevocations(WatchRevocationsRequest.getDefaultInstance());
    List<WatchRevocationsResponse> out = new ArrayList<>();
    while (it.hasNext()) {
      WatchRevocationsResponse r = it.next();
      if (r.hasSnapshotComplete()) {
        break;
      }
      out.add(r);
    }
    backend.shutdownNow();
    return out;
  }

  @Test
  void theDeviceCaKeyIsASensitiveSignOnlyHsmObjectAndSurvivesARestart() throws Exception {
    X509Certificate ca = broker.context().deviceCa().certificate();
    assertThat(ca.getBasicConstraints()).isZero();
    ca.verify(ca.getPublicKey());

    // pkcs11-tool (OpenSC) reads the attributes independently of SunPKCS11.
    String objects = hsm.pkcs11ToolObjects();
    String aliasHex = java.util.HexFormat.of().formatHex(
        DeviceCertificateAuthority.ALIAS.getBytes(StandardCharsets.US_ASCII));
    List<String> caKey = java.util.Arrays.stream(objects.split("(?=\\n\\S)")).map(String::strip)
        .filter(b -> b.startsWith("Private Key Object"))
        .filter(b -> b.contains(DeviceCertificateAuthority.ALIAS) || b.toLowerCase().contains(aliasHex))
        .toList();
    assertThat(caKey).as("the device CA key among:%n%s", objects).hasSize(1);
    assertThat(caKey.get(0)).contains("EC").contains("sensitive").contains("always sensitive")
        .contains("never extractable").containsPattern("Usage:\\s+sign\\s*\\n")
        .doesNotContain("decrypt").doesNotContain("unwrap").doesNotContain("derive");

    broker.close();
    broker = InProcessBroker.start(hsm, dir, clock, "");
    assertThat(broker.context().deviceCa().certificate()).isEqualTo(ca);
  }

  // ---- role authentication is independent of what the TLS layer accepted ------------------------------------

  @Test
  void aSelfSignedCertificateClaimingTheOperatorsUnitIsNotAnOperator() throws Exception {
    KeyPair key = TestCertificates.p256();
    X509Certificate forged = TestCertificates.selfSigned(key, "CN=mallory,OU=operators,O=tokenbroker dev");
    ManagedChannel ch = tls(key, forged);

    StatusRuntimeException admin = catchThrowableOfType(StatusRuntimeException.class, () -> AdminServiceGrpc
        .newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS)
        .listDevices(ListDevicesRequest.getDefaultInstance()));
    assertThat(admin.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    StatusRuntimeException backend = catchThrowableOfType(StatusRuntimeException.class, () -> RevocationServiceGrpc
        .newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS)
        .introspectToken(IntrospectTokenRequest.newBuilder().setToken("x").build()));
    assertThat(backend.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    // The real operator certificate still works on the same listener.
    assertThat(AdminServiceGrpc.newBlockingStub(tls(Caller.OPERATOR)).withDeadlineAfter(30, TimeUnit.SECONDS)
        .listDevices(ListDevicesRequest.getDefaultInstance()).getDevicesList()).isEmpty();
  }

  @Test
  void aDeviceCertificateFromTheDeviceCaGrantsNoOperatorOrBackendRole() throws Exception {
    Bootstrapped d = bootstrap();
    KeyPair key = TestCertificates.p256();
    X509Certificate deviceCertificate = certificate(issue(d, key).getCertificateChain(0));
    ManagedChannel ch = tls(key, deviceCertificate);

    StatusRuntimeException admin = catchThrowableOfType(StatusRuntimeException.class, () -> AdminServiceGrpc
        .newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS)
        .listDevices(ListDevicesRequest.getDefaultInstance()));
    assertThat(admin.getStatus().getCode()).isIn(Status.Code.UNAUTHENTICATED, Status.Code.PERMISSION_DENIED);
    StatusRuntimeException watch = catchThrowableOfType(StatusRuntimeException.class, () -> RevocationServiceGrpc
        .newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS)
        .introspectToken(IntrospectTokenRequest.newBuilder().setToken("x").build()));
    assertThat(watch.getStatus().getCode()).isIn(Status.Code.UNAUTHENTICATED, Status.Code.PERMISSION_DENIED);
  }

  // ---- route 1: self-signed certificate ---------------------------------------------------------------------

  @Test
  void selfSignedRouteBindsTokensToTheCertificateAndOnlyThatCertificateCanRefresh() throws Exception {
    KeyPair key = TestCertificates.p256();
    X509Certificate selfSigned = TestCertificates.selfSigned(key, "CN=sensor-42");
    ManagedChannel mtls = tls(key, selfSigned);

    TokenResponse first = token(mtls).token(deviceCodeRequest(MTLS_CLIENT, approvedDeviceCode(MTLS_CLIENT)));
    String thumbprint = CertificateThumbprint.x5tS256(selfSigned);
    assertThat(first.getTokenType()).isEqualTo(TokenType.TOKEN_TYPE_BEARER);
    assertThat(cnf(first.getAccessToken())).containsExactly(Map.entry("x5t#S256", thumbprint));
    String recorded = broker.context().database().inTransaction(c -> {
      try (var ps = c.prepareStatement("SELECT x5t_s256, jkt FROM devices WHERE device_id = ?")) {
        ps.setString(1, first.getDeviceId());
        try (var rs = ps.executeQuery()) {
          rs.next();
          return rs.getString(1) + "|" + rs.getString(2);
        }
      }
    });
    assertThat(recorded).isEqualTo(thumbprint + "|null");

    TokenResponse second = token(mtls).token(refreshRequest(MTLS_CLIENT, first.getRefreshToken()));
    assertThat(cnf(second.getAccessToken())).containsExactly(Map.entry("x5t#S256", thumbprint));

    // Another certificate (even with the same subject) cannot use the refresh token; nothing changes.
    KeyPair other = TestCertificates.p256();
    ManagedChannel thief = tls(other, TestCertificates.selfSigned(other, "CN=sensor-42"));
    Map<String, List<String>> before = broker.grantState();
    assertOAuthError(() -> token(thief).token(refreshRequest(MTLS_CLIENT, second.getRefreshToken())),
        Status.Code.UNAUTHENTICATED, "INVALID_GRANT", "invalid_grant");
    // Without a certificate at all, an mTLS client is not even authenticated.
    assertOAuthError(() -> token(tls(Caller.ANONYMOUS)).token(refreshRequest(MTLS_CLIENT, second.getRefreshToken())),
        Status.Code.UNAUTHENTICATED, "INVALID_CLIENT", "invalid_client");
    assertThat(broker.grantState()).isEqualTo(before);
    // The rightful certificate still works afterwards.
    assertThat(token(mtls).token(refreshRequest(MTLS_CLIENT, second.getRefreshToken())).getAccessToken()).isNotBlank();
  }

  @Test
  void mixedFleetDpopAndMtlsClientsOnOnePort() throws Exception {
    TestDevice dpop = new TestDevice();
    ManagedChannel anonymous = tls(Caller.ANONYMOUS);
    TokenResponse dpopTokens = token(anonymous, dpop).token(deviceCodeRequest(InProcessBroker.CLIENT,
        approvedDeviceCode(InProcessBroker.CLIENT)));
    KeyPair key = TestCertificates.p256();
    ManagedChannel mtls = tls(key, TestCertificates.selfSigned(key, "CN=sensor-7"));
    TokenResponse mtlsTokens = token(mtls).token(deviceCodeRequest(MTLS_CLIENT, approvedDeviceCode(MTLS_CLIENT)));

    assertThat(dpopTokens.getTokenType()).isEqualTo(TokenType.TOKEN_TYPE_DPOP);
    assertThat(cnf(dpopTokens.getAccessToken())).containsExactly(Map.entry("jkt", dpop.jkt()));
    assertThat(mtlsTokens.getTokenType()).isEqualTo(TokenType.TOKEN_TYPE_BEARER);
    // A DPoP client keeps refreshing with DPoP, also when its TLS connection happens to carry a certificate.
    TokenResponse refreshed = token(mtls, dpop).token(refreshRequest(InProcessBroker.CLIENT,
        dpopTokens.getRefreshToken()));
    assertThat(cnf(refreshed.getAccessToken())).containsExactly(Map.entry("jkt", dpop.jkt()));
    // Introspection reports the certificate binding of the mTLS token.
    var introspected = RevocationServiceGrpc.newBlockingStub(tls(Caller.BACKEND)).introspectToken(
        IntrospectTokenRequest.newBuilder().setToken(mtlsTokens.getAccessToken()).build());
    assertThat(introspected.getActive()).isTrue();
    assertThat(introspected.getTokenType()).isEqualTo(TokenType.TOKEN_TYPE_BEARER);
    assertThat(introspected.getCnf().getX5TS256()).isEqualTo(cnf(mtlsTokens.getAccessToken()).get("x5t#S256"));
  }

  // ---- route 2: broker-issued device certificate --------------------------------------------------------------

  @Test
  void deviceCertificateRouteIssuesFromTheHsmCaMovesTheFamilyToTheCertificateAndRenews() throws Exception {
    Bootstrapped d = bootstrap();
    assertThat(d.tokens().getTokenType()).isEqualTo(TokenType.TOKEN_TYPE_DPOP);
    KeyPair key = TestCertificates.p256();
    IssueDeviceCertificateResponse issued = issue(d, key);
    X509Certificate deviceCertificate = certificate(issued.getCertificateChain(0));
    X509Certificate ca = certificate(CertificateServiceGrpc.newBlockingStub(tls(Caller.ANONYMOUS))
        .getDeviceCaCertificates(GetDeviceCaCertificatesRequest.getDefaultInstance()).getCaCertificates(0));

    // The certificate chains to the published device CA; subject, SAN and extensions are the broker's.
    deviceCertificate.verify(ca.getPublicKey());
    assertThat(deviceCertificate.getSubjectX500Principal().getName()).isEqualTo("CN=" + d.tokens().getDeviceId());
    assertThat(deviceCertificate.getBasicConstraints()).isEqualTo(-1);
    assertThat(deviceCertificate.getKeyUsage()[0]).isTrue();
    assertThat(deviceCertificate.getKeyUsage()[5]).isFalse();
    assertThat(deviceCertificate.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.2");
    assertThat(deviceCertificate.getSubjectAlternativeNames().stream().map(l -> (Object) l.get(1)))
        .containsExactly(DeviceCertificateAuthority.DEVICE_URI_PREFIX + d.tokens().getDeviceId());
    assertThat(issued.getSerialNumber()).isEqualTo(deviceCertificate.getSerialNumber().toString(16));
    Duration lifetime = Duration.between(deviceCertificate.getNotBefore().toInstant(),
        deviceCertificate.getNotAfter().toInstant());
    assertThat(lifetime).isBetween(Duration.ofDays(7), Duration.ofDays(7).plusMinutes(6));
    assertThat(issued.getRenewAfter().getSeconds()).isBetween(issued.getNotBefore().getSeconds(),
        issued.getNotAfter().getSeconds());

    // First mTLS refresh: the certificate plus a proof from the bootstrap key move the family to the certificate.
    ManagedChannel mtls = tls(key, deviceCertificate);
    TokenResponse bound = token(mtls, d.dpop()).token(refreshRequest(MTLS_CLIENT, d.tokens().getRefreshToken()));
    String thumbprint = CertificateThumbprint.x5tS256(deviceCertificate);
    assertThat(bound.getTokenType()).isEqualTo(TokenType.TOKEN_TYPE_BEARER);
    assertThat(cnf(bound.getAccessToken())).containsExactly(Map.entry("x5t#S256", thumbprint));
    // From then on the certificate alone is enough.
    TokenResponse next = token(mtls).token(refreshRequest(MTLS_CLIENT, bound.getRefreshToken()));

    // Renewal over mTLS with the current certificate and a new key; the family follows the renewed certificate.
    KeyPair newKey = TestCertificates.p256();
    RenewDeviceCertificateResponse renewed = CertificateServiceGrpc.newBlockingStub(mtls)
        .withDeadlineAfter(30, TimeUnit.SECONDS).renewDeviceCertificate(RenewDeviceCertificateRequest.newBuilder()
            .setCsrDer(ByteString.copyFrom(TestCertificates.csr(newKey))).build());
    X509Certificate renewedCertificate = certificate(renewed.getCertificateChain(0));
    assertThat(renewed.getSerialNumber()).isNotEqualTo(issued.getSerialNumber());
    renewedCertificate.verify(ca.getPublicKey());
    TokenResponse afterRenewal = token(tls(newKey, renewedCertificate)).token(refreshRequest(MTLS_CLIENT,
        next.getRefreshToken()));
    assertThat(cnf(afterRenewal.getAccessToken()))
        .containsExactly(Map.entry("x5t#S256", CertificateThumbprint.x5tS256(renewedCertificate)));
    // Operators see both unexpired certificates on the device.
    assertThat(AdminServiceGrpc.newBlockingStub(tls(Caller.OPERATOR)).withDeadlineAfter(30, TimeUnit.SECONDS)
        .getDevice(io.tokenbroker.proto.v1.GetDeviceRequest.newBuilder().setDeviceId(d.tokens().getDeviceId()).build())
        .getDevice().getCertificateSerialsList())
        .containsExactlyInAnyOrder(issued.getSerialNumber(), renewed.getSerialNumber());
  }

  @Test
  void aDeviceCertificateOfAnotherDeviceCannotTakeOverAFamily() throws Exception {
    Bootstrapped a = bootstrap();
    Bootstrapped b = bootstrap();
    KeyPair keyB = TestCertificates.p256();
    X509Certificate certificateB = certificate(issue(b, keyB).getCertificateChain(0));
    Map<String, List<String>> before = broker.grantState();
    // Device A's key proves, but the certificate is B's: refused, nothing moves.
    assertOAuthError(() -> token(tls(keyB, certificateB), a.dpop()).token(refreshRequest(MTLS_CLIENT,
        a.tokens().getRefreshToken())), Status.Code.UNAUTHENTICATED, "INVALID_GRANT", "invalid_grant");
    assertThat(broker.grantState()).isEqualTo(before);
  }

  @Test
  void rfc7009RevocationOfACertificateBoundTokenNeedsItsCertificate() throws Exception {
    KeyPair key = TestCertificates.p256();
    ManagedChannel mtls = tls(key, TestCertificates.selfSigned(key, "CN=sensor-5"));
    TokenResponse tokens = token(mtls).token(deviceCodeRequest(MTLS_CLIENT, approvedDeviceCode(MTLS_CLIENT)));
    io.tokenbroker.proto.v1.RevokeTokenRequest revoke = io.tokenbroker.proto.v1.RevokeTokenRequest.newBuilder()
        .setClientId(MTLS_CLIENT).setToken(tokens.getRefreshToken()).build();

    // Someone else's certificate, or a DPoP proof from any key, cannot revoke it; nothing changes.
    KeyPair other = TestCertificates.p256();
    Map<String, List<String>> before = broker.grantState();
    assertOAuthError(() -> TokenServiceGrpc.newBlockingStub(tls(other, TestCertificates.selfSigned(other,
        "CN=sensor-5"))).revokeToken(revoke), Status.Code.UNAUTHENTICATED, "INVALID_CLIENT", "invalid_client");
    TestDevice stranger = new TestDevice();
    assertOAuthError(() -> withMetadata(TokenServiceGrpc.newBlockingStub(tls(Caller.ANONYMOUS)), Map.of("dpop",
        stranger.proof(InProcessBroker.htu(TokenServiceGrpc.getRevokeTokenMethod().getFullMethodName()),
            clock.instant(), h -> h, c -> c))).revokeToken(revoke),
        Status.Code.UNAUTHENTICATED, "INVALID_CLIENT", "invalid_client");
    assertThat(broker.grantState()).isEqualTo(before);

    // Over mTLS with the bound certificate it works, and the family is gone.
    TokenServiceGrpc.newBlockingStub(mtls).withDeadlineAfter(30, TimeUnit.SECONDS).revokeToken(revoke);
    assertOAuthError(() -> token(mtls).token(refreshRequest(MTLS_CLIENT, tokens.getRefreshToken())),
        Status.Code.UNAUTHENTICATED, "INVALID_GRANT", "invalid_grant");
  }

  // ---- revocation ---------------------------------------------------------------------------------------------

  @Test
  void revokingADeviceRevokesItsCertificatesInTheStreamAndAtTheTokenEndpoint() throws Exception {
    Bootstrapped d = bootstrap();
    KeyPair key = TestCertificates.p256();
    IssueDeviceCertificateResponse issued = issue(d, key);
    X509Certificate deviceCertificate = certificate(issued.getCertificateChain(0));
    ManagedChannel mtls = tls(key, deviceCertificate);
    TokenResponse bound = token(mtls, d.dpop()).token(refreshRequest(MTLS_CLIENT, d.tokens().getRefreshToken()));

    AdminServiceGrpc.newBlockingStub(tls(Caller.OPERATOR)).withDeadlineAfter(30, TimeUnit.SECONDS).revokeDevice(
        RevokeDeviceRequest.newBuilder().setDeviceId(d.tokens().getDeviceId()).setReason("stolen").build());

    List<WatchRevocationsResponse> events = revocationSnapshot();
    assertThat(events).extracting(r -> r.getEvent().getSubjectCase().name() + "=" + subject(r))
        .contains("CERTIFICATE_SERIAL=" + issued.getSerialNumber(),
            "X5T_S256=" + CertificateThumbprint.x5tS256(deviceCertificate),
            "DEVICE_ID=" + d.tokens().getDeviceId());

    assertOAuthError(() -> token(mtls).token(refreshRequest(MTLS_CLIENT, bound.getRefreshToken())),
        Status.Code.UNAUTHENTICATED, "INVALID_CLIENT", "invalid_client");
    assertOAuthError(() -> CertificateServiceGrpc.newBlockingStub(mtls).withDeadlineAfter(30, TimeUnit.SECONDS)
        .renewDeviceCertificate(RenewDeviceCertificateRequest.newBuilder()
            .setCsrDer(ByteString.copyFrom(TestCertificates.csr(key))).build()),
        Status.Code.UNAUTHENTICATED, "INVALID_CLIENT", "invalid_client");
    // A revoked certificate cannot enrol a new device either.
    assertOAuthError(() -> token(mtls).token(deviceCodeRequest(MTLS_CLIENT, approvedDeviceCode(MTLS_CLIENT))),
        Status.Code.UNAUTHENTICATED, "INVALID_CLIENT", "invalid_client");
  }

  @Test
  void revokingASelfSignedDevicePublishesItsThumbprintAndTheCertificateCannotEnrolAgain() throws Exception {
    KeyPair key = TestCertificates.p256();
    X509Certificate selfSigned = TestCertificates.selfSigned(key, "CN=sensor-9");
    ManagedChannel mtls = tls(key, selfSigned);
    TokenResponse tokens = token(mtls).token(deviceCodeRequest(MTLS_CLIENT, approvedDeviceCode(MTLS_CLIENT)));
    broker.application().revocations().revokeDevice(tokens.getDeviceId(), "lost", false, "test");

    assertThat(revocationSnapshot()).extracting(MutualTlsTests::subject)
        .contains(CertificateThumbprint.x5tS256(selfSigned));
    String deviceCode = approvedDeviceCode(MTLS_CLIENT);
    Map<String, List<String>> before = broker.grantState();
    assertOAuthError(() -> token(mtls).token(deviceCodeRequest(MTLS_CLIENT, deviceCode)),
        Status.Code.UNAUTHENTICATED, "INVALID_CLIENT", "invalid_client");
    assertThat(broker.grantState()).isEqualTo(before);
  }

  private static String subject(WatchRevocationsResponse r) {
    var e = r.getEvent();
    return switch (e.getSubjectCase()) {
      case CERTIFICATE_SERIAL -> e.getCertificateSerial();
      case X5T_S256 -> e.getX5TS256();
      case DEVICE_ID -> e.getDeviceId();
      default -> e.getSubjectCase().name();
    };
  }
}
