package io.tokenbroker.broker.devicecert;

import static io.tokenbroker.broker.testing.GrpcErrorAssert.assertOAuthError;
import static io.tokenbroker.broker.testing.GrpcErrorAssert.errorInfo;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.tokenbroker.broker.client.BindingPolicy;
import io.tokenbroker.broker.client.ClientRegistry;
import io.tokenbroker.broker.testing.InProcessBroker;
import io.tokenbroker.broker.testing.InProcessBroker.Caller;
import io.tokenbroker.broker.testing.MutableClock;
import io.tokenbroker.broker.testing.SoftHsm;
import io.tokenbroker.broker.testing.SoftHsmTest;
import io.tokenbroker.broker.testing.TestCertificates;
import io.tokenbroker.broker.testing.TestDevice;
import io.tokenbroker.proto.v1.CertificateServiceGrpc;
import io.tokenbroker.proto.v1.DeviceCodeGrant;
import io.tokenbroker.proto.v1.IssueDeviceCertificateRequest;
import io.tokenbroker.proto.v1.RefreshTokenGrant;
import io.tokenbroker.proto.v1.RenewDeviceCertificateRequest;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationRequest;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationResponse;
import io.tokenbroker.proto.v1.TokenRequest;
import io.tokenbroker.proto.v1.TokenResponse;
import io.tokenbroker.proto.v1.TokenServiceGrpc;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad certificates and bad CSRs, over real mutual TLS: each is refused with a clear OAuth error and leaves every
 * grant table (including device_certificates) exactly as it was.
 */
@SoftHsmTest
class DeviceCertificateRefusalTests {
  private static final String MTLS_CLIENT = "sensor-mtls";
  private static final String ISSUE_HTU = InProcessBroker.htu(
      CertificateServiceGrpc.getIssueDeviceCertificateMethod().getFullMethodName());

  private final SoftHsm hsm;
  private final MutableClock clock = new MutableClock(Instant.now());
  private final List<ManagedChannel> channels = new ArrayList<>();
  @TempDir Path dir;
  private InProcessBroker broker;

  DeviceCertificateRefusalTests(SoftHsm hsm) {
    this.hsm = hsm;
  }

  @BeforeEach
  void start() throws Exception {
    broker = InProcessBroker.start(hsm, dir, clock, "device.certificate-lifetime=P7D\n");
    broker.application().clientRegistry().create(ClientRegistry.draft(MTLS_CLIENT, "mTLS sensor",
        Set.of("telemetry:write"), Set.of(InProcessBroker.ISSUER), BindingPolicy.MTLS), "test");
    broker.application().clientRegistry().create(ClientRegistry.draft(InProcessBroker.CLIENT, "DPoP sensor",
        Set.of("telemetry:write"), Set.of(InProcessBroker.ISSUER), BindingPolicy.DPOP), "test");
  }

  @AfterEach
  void stop() throws Exception {
    channels.forEach(ManagedChannel::shutdownNow);
    broker.close();
  }

  private ManagedChannel tls(KeyPair key, X509Certificate certificate) throws Exception {
    ManagedChannel ch = broker.tlsChannel(key.getPrivate(), certificate);
    channels.add(ch);
    return ch;
  }

  private ManagedChannel anonymous() throws Exception {
    ManagedChannel ch = broker.tlsChannel(Caller.ANONYMOUS);
    channels.add(ch);
    return ch;
  }

  private String approvedDeviceCode(String clientId) {
    StartDeviceAuthorizationResponse started = broker.deviceAuthorization().startDeviceAuthorization(
        StartDeviceAuthorizationRequest.newBuilder().setClientId(clientId).build());
    broker.application().deviceFlow().approve(started.getUserCode(), "alice", "test");
    return started.getDeviceCode();
  }

  private static TokenRequest deviceCode(String clientId, String code) {
    return TokenRequest.newBuilder().setClientId(clientId)
        .setDeviceCode(DeviceCodeGrant.newBuilder().setDeviceCode(code)).build();
  }

  private TokenServiceGrpc.TokenServiceBlockingStub token(ManagedChannel ch, Map<String, String> metadata) {
    Metadata md = new Metadata();
    metadata.forEach((k, v) -> md.put(Metadata.Key.of(k, Metadata.ASCII_STRING_MARSHALLER), v));
    return TokenServiceGrpc.newBlockingStub(ch).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
        .withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  private CertificateServiceGrpc.CertificateServiceBlockingStub certificates(Map<String, String> metadata)
      throws Exception {
    Metadata md = new Metadata();
    metadata.forEach((k, v) -> md.put(Metadata.Key.of(k, Metadata.ASCII_STRING_MARSHALLER), v));
    return CertificateServiceGrpc.newBlockingStub(anonymous())
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md)).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  /** authorization + a fresh proof with ath for the token, from {@code key}. */
  private Map<String, String> dpopAuth(TestDevice key, String accessToken) throws Exception {
    String ath = Base64.getUrlEncoder().withoutPadding().encodeToString(
        MessageDigest.getInstance("SHA-256").digest(accessToken.getBytes(StandardCharsets.US_ASCII)));
    Map<String, String> md = new LinkedHashMap<>();
    md.put("authorization", "DPoP " + accessToken);
    md.put("dpop", key.proof(ISSUE_HTU, clock.instant(), h -> h, c -> c.claim("ath", ath)));
    return md;
  }

  private record Enrolled(TestDevice key, TokenResponse tokens) {}

  private Enrolled enrolWithDpop(String clientId) throws Exception {
    TestDevice key = new TestDevice();
    TokenResponse tokens = token(anonymous(), Map.of("dpop", key.proof(InProcessBroker.tokenHtu(), clock.instant(),
        h -> h, c -> c))).token(deviceCode(clientId, approvedDeviceCode(clientId)));
    return new Enrolled(key, tokens);
  }

  private static IssueDeviceCertificateRequest csr(byte[] der) {
    return IssueDeviceCertificateRequest.newBuilder().setCsrDer(ByteString.copyFrom(der)).build();
  }

  private static X509Certificate certificate(ByteString der) throws Exception {
    return (X509Certificate) CertificateFactory.getInstance("X.509")
        .generateCertificate(new ByteArrayInputStream(der.toByteArray()));
  }

  private int issuedCertificates() {
    return broker.grantState().get("device_certificates").size();
  }

  @Test
  void badClientCertificatesAreRefusedAtTheTokenEndpointWithInvalidClientAndChangeNothing() throws Exception {
    Instant now = Instant.now();
    KeyPair key = TestCertificates.p256();
    KeyPair foreignCa = TestCertificates.p256();
    KeyPair weak = TestCertificates.rsa(1024);
    Map<String, X509Certificate> bad = new LinkedHashMap<>();
    bad.put("expired", TestCertificates.selfSigned(key, "CN=old", now.minus(Duration.ofDays(30)),
        now.minus(Duration.ofHours(1))));
    bad.put("not yet valid", TestCertificates.selfSigned(key, "CN=future", now.plus(Duration.ofHours(1)),
        now.plus(Duration.ofDays(30))));
    bad.put("wrong CA", TestCertificates.issuedBy(foreignCa, "CN=someone else's CA", key.getPublic(), "CN=dev"));
    Map<String, String> expectedWords = Map.of("expired", "expired", "not yet valid", "not valid yet",
        "wrong CA", "neither self-signed nor issued");

    String code = approvedDeviceCode(MTLS_CLIENT);
    Map<String, List<String>> before = broker.grantState();
    for (Map.Entry<String, X509Certificate> e : bad.entrySet()) {
      StatusRuntimeException refused = assertOAuthError(() -> token(tls(key, e.getValue()), Map.of())
          .token(deviceCode(MTLS_CLIENT, code)), Status.Code.UNAUTHENTICATED, "INVALID_CLIENT", "invalid_client");
      assertThat(errorInfo(refused).getMetadataMap().get("error_description")).as(e.getKey())
          .contains(expectedWords.get(e.getKey()));
    }
    StatusRuntimeException weakKey = assertOAuthError(() -> token(tls(weak, TestCertificates.selfSigned(weak,
        "CN=weak")), Map.of()).token(deviceCode(MTLS_CLIENT, code)), Status.Code.UNAUTHENTICATED,
        "INVALID_CLIENT", "invalid_client");
    assertThat(errorInfo(weakKey).getMetadataMap().get("error_description")).contains("at least 2048 bits");
    // The broker's own operator certificate is not a device certificate either.
    assertOAuthError(() -> token(broker.tlsChannel(Caller.OPERATOR), Map.of()).token(deviceCode(MTLS_CLIENT, code)),
        Status.Code.UNAUTHENTICATED, "INVALID_CLIENT", "invalid_client");
    assertThat(broker.grantState()).isEqualTo(before);

    // The same device code still works with a good certificate afterwards: the refusals consumed nothing.
    assertThat(token(tls(key, TestCertificates.selfSigned(key, "CN=good")), Map.of())
        .token(deviceCode(MTLS_CLIENT, code)).getAccessToken()).isNotBlank();
  }

  @Test
  void badCsrsAreRefusedWithInvalidCsrAndIssueNothing() throws Exception {
    Enrolled device = enrolWithDpop(MTLS_CLIENT);
    KeyPair p256 = TestCertificates.p256();
    Map<String, byte[]> bad = new LinkedHashMap<>();
    bad.put("bad signature", TestCertificates.badSignatureCsr(p256));
    bad.put("RSA 1024", TestCertificates.csr(TestCertificates.rsa(1024)));
    bad.put("curve P-521", TestCertificates.csr(TestCertificates.ec("secp521r1")));
    bad.put("oversized", TestCertificates.oversizedCsr(p256));
    bad.put("CA extensions", TestCertificates.caCsr(p256));
    bad.put("not DER", "-----BEGIN CERTIFICATE REQUEST-----".getBytes(StandardCharsets.US_ASCII));
    bad.put("empty", new byte[0]);
    Map<String, String> expectedWords = Map.of("bad signature", "signature", "RSA 1024", "at least 2048 bits",
        "curve P-521", "P-256 or P-384", "oversized", "larger than 8192", "CA extensions", "CA certificate",
        "not DER", "not a DER-encoded PKCS#10", "empty", "required");

    Map<String, List<String>> before = broker.grantState();
    for (Map.Entry<String, byte[]> e : bad.entrySet()) {
      StatusRuntimeException refused = assertOAuthError(() -> certificates(dpopAuth(device.key(),
          device.tokens().getAccessToken())).issueDeviceCertificate(csr(e.getValue())),
          Status.Code.INVALID_ARGUMENT, "INVALID_CSR", "invalid_request");
      assertThat(errorInfo(refused).getMetadataMap().get("error_description")).as(e.getKey())
          .contains(expectedWords.get(e.getKey()));
    }
    assertThat(broker.grantState()).isEqualTo(before);
    assertThat(issuedCertificates()).isZero();

    // Allowed keys: EC P-384 and RSA 2048 (P-256 is the default elsewhere).
    certificates(dpopAuth(device.key(), device.tokens().getAccessToken()))
        .issueDeviceCertificate(csr(TestCertificates.csr(TestCertificates.ec("secp384r1"))));
    certificates(dpopAuth(device.key(), device.tokens().getAccessToken()))
        .issueDeviceCertificate(csr(TestCertificates.csr(TestCertificates.rsa(2048))));
    assertThat(issuedCertificates()).isEqualTo(2);
  }

  @Test
  void issuanceRefusesCallersWithoutAValidDpopBoundTokenOfAnMtlsDevice() throws Exception {
    Enrolled device = enrolWithDpop(MTLS_CLIENT);
    Enrolled dpopDevice = enrolWithDpop(InProcessBroker.CLIENT);
    byte[] good = TestCertificates.csr(TestCertificates.p256());
    Map<String, List<String>> before = broker.grantState();

    assertOAuthError(() -> certificates(Map.of()).issueDeviceCertificate(csr(good)),
        Status.Code.UNAUTHENTICATED, "INVALID_TOKEN", "invalid_token");
    assertOAuthError(() -> certificates(Map.of("authorization", "Bearer " + device.tokens().getAccessToken()))
        .issueDeviceCertificate(csr(good)), Status.Code.UNAUTHENTICATED, "INVALID_TOKEN", "invalid_token");
    // A proof from a key other than the token's bound key.
    assertOAuthError(() -> certificates(dpopAuth(new TestDevice(), device.tokens().getAccessToken()))
        .issueDeviceCertificate(csr(good)), Status.Code.UNAUTHENTICATED, "INVALID_DPOP_PROOF", "invalid_dpop_proof");
    // A proof without ath.
    assertOAuthError(() -> certificates(Map.of("authorization", "DPoP " + device.tokens().getAccessToken(), "dpop",
        device.key().proof(ISSUE_HTU, clock.instant(), h -> h, c -> c))).issueDeviceCertificate(csr(good)),
        Status.Code.UNAUTHENTICATED, "INVALID_DPOP_PROOF", "invalid_dpop_proof");
    // A device of a DPoP client has no use for a device certificate.
    assertOAuthError(() -> certificates(dpopAuth(dpopDevice.key(), dpopDevice.tokens().getAccessToken()))
        .issueDeviceCertificate(csr(good)), Status.Code.PERMISSION_DENIED, "UNAUTHORIZED_CLIENT",
        "unauthorized_client");
    assertThat(broker.grantState()).isEqualTo(before);

    // An expired access token.
    clock.advance(Duration.ofMinutes(6));
    assertOAuthError(() -> certificates(dpopAuth(device.key(), device.tokens().getAccessToken()))
        .issueDeviceCertificate(csr(good)), Status.Code.UNAUTHENTICATED, "INVALID_TOKEN", "invalid_token");
    assertThat(issuedCertificates()).isZero();
  }

  @Test
  void anExpiredDeviceCertificateNeitherRefreshesNorRenewsAndRenewalNeedsADeviceCaCertificate() throws Exception {
    Enrolled device = enrolWithDpop(MTLS_CLIENT);
    KeyPair key = TestCertificates.p256();
    X509Certificate issued = certificate(certificates(dpopAuth(device.key(), device.tokens().getAccessToken()))
        .issueDeviceCertificate(csr(TestCertificates.csr(key))).getCertificateChain(0));
    ManagedChannel mtls = tls(key, issued);
    TokenResponse bound = token(mtls, Map.of("dpop", device.key().proof(InProcessBroker.tokenHtu(), clock.instant(),
        h -> h, c -> c))).token(TokenRequest.newBuilder().setClientId(MTLS_CLIENT)
        .setRefreshToken(RefreshTokenGrant.newBuilder().setRefreshToken(device.tokens().getRefreshToken())).build());

    // Renewal with a self-signed certificate or without any is refused.
    KeyPair other = TestCertificates.p256();
    RenewDeviceCertificateRequest renewal = RenewDeviceCertificateRequest.newBuilder()
        .setCsrDer(ByteString.copyFrom(TestCertificates.csr(other))).build();
    Map<String, List<String>> before = broker.grantState();
    assertOAuthError(() -> CertificateServiceGrpc.newBlockingStub(tls(other, TestCertificates.selfSigned(other,
        "CN=" + bound.getDeviceId()))).renewDeviceCertificate(renewal), Status.Code.UNAUTHENTICATED,
        "INVALID_CLIENT", "invalid_client");
    assertOAuthError(() -> CertificateServiceGrpc.newBlockingStub(anonymous()).renewDeviceCertificate(renewal),
        Status.Code.UNAUTHENTICATED, "INVALID_CLIENT", "invalid_client");
    assertThat(broker.grantState()).isEqualTo(before);

    // Eight days later the seven-day certificate has expired: no refresh, no renewal.
    clock.advance(Duration.ofDays(8));
    StatusRuntimeException refresh = assertOAuthError(() -> token(mtls, Map.of()).token(TokenRequest.newBuilder()
        .setClientId(MTLS_CLIENT).setRefreshToken(RefreshTokenGrant.newBuilder()
            .setRefreshToken(bound.getRefreshToken())).build()), Status.Code.UNAUTHENTICATED, "INVALID_CLIENT",
        "invalid_client");
    assertThat(errorInfo(refresh).getMetadataMap().get("error_description")).contains("expired");
    assertOAuthError(() -> CertificateServiceGrpc.newBlockingStub(mtls).renewDeviceCertificate(renewal),
        Status.Code.UNAUTHENTICATED, "INVALID_CLIENT", "invalid_client");
    assertThat(broker.grantState()).isEqualTo(before);
  }
}
