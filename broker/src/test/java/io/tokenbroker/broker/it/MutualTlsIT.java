package io.tokenbroker.broker.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.ByteString;
import com.nimbusds.jwt.SignedJWT;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import io.tokenbroker.broker.testing.GrpcErrorAssert;
import io.tokenbroker.broker.testing.TestDevice;
import io.tokenbroker.proto.v1.CertificateServiceGrpc;
import io.tokenbroker.proto.v1.DeviceAuthorizationServiceGrpc;
import io.tokenbroker.proto.v1.DeviceCodeGrant;
import io.tokenbroker.proto.v1.GetDeviceCaCertificatesRequest;
import io.tokenbroker.proto.v1.IssueDeviceCertificateRequest;
import io.tokenbroker.proto.v1.IssueDeviceCertificateResponse;
import io.tokenbroker.proto.v1.RefreshTokenGrant;
import io.tokenbroker.proto.v1.RevocationServiceGrpc;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationRequest;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationResponse;
import io.tokenbroker.proto.v1.TokenRequest;
import io.tokenbroker.proto.v1.TokenResponse;
import io.tokenbroker.proto.v1.TokenServiceGrpc;
import io.tokenbroker.proto.v1.TokenType;
import io.tokenbroker.proto.v1.WatchRevocationsRequest;
import io.tokenbroker.proto.v1.WatchRevocationsResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * RFC 8705 end to end against the shaded broker jar, with certificates, keys and CSRs made by the openssl command
 * line tool and thumbprints computed by it: what a device integrator would do by hand.
 */
// One broker home for the class ('init' and a JVM start per test cost more than the tests); each test enrols
// devices of its own under the mTLS client made once here.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MutualTlsIT {
  private static final String ISSUER = "https://localhost";
  private static final String CLIENT = "sensor-mtls";

  @TempDir static Path tmp;
  private Path home;
  private BrokerProcess broker;
  private final List<ManagedChannel> channels = new ArrayList<>();

  @BeforeAll
  void initAndServe() throws Exception {
    home = tmp.resolve("home");
    BrokerProcess.Result init = BrokerProcess.run("init", "--home", home.toString(), "--grpc-port", "0",
        "--https-port", "0");
    assertThat(init.exitCode()).as(init.stderr()).isZero();
    broker = BrokerProcess.serve(home);
    BrokerProcess.Result created = admin("clients", "create", "--client-id", CLIENT, "--name", "mTLS sensor",
        "--scope", "telemetry:write", "--audience", "https://api.example.test", "--audience", ISSUER,
        "--binding", "mtls");
    assertThat(created.exitCode()).as(created.stderr()).isZero();
    assertThat(created.stdout()).contains("binding MTLS");
  }

  @AfterAll
  void stop() throws Exception {
    channels.forEach(ManagedChannel::shutdownNow);
    broker.close();
  }

  private BrokerProcess.Result admin(String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of("admin"));
    all.addAll(List.of(args));
    all.addAll(List.of("--home", home.toString(), "--target", "localhost:" + broker.grpcPort()));
    return BrokerProcess.run(all.toArray(String[]::new));
  }

  /** Runs a shell pipeline (openssl) in tmp; fails the test on a non-zero exit. Returns stdout, trimmed. */
  private String sh(String command) throws Exception {
    Process p = new ProcessBuilder("bash", "-c", "set -euo pipefail; " + command).directory(tmp.toFile())
        .redirectErrorStream(false).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("%s\n%s", command, err).isZero();
    return out.strip();
  }

  /** x5t#S256 computed by openssl alone from a PEM certificate file. */
  private String opensslThumbprint(String pemFile) throws Exception {
    return sh("openssl x509 -in " + pemFile + " -outform der | openssl dgst -sha256 -binary | base64 -w0"
        + " | tr '+/' '-_' | tr -d '='");
  }

  private ManagedChannel channel(Path certificate, Path key) throws Exception {
    TlsChannelCredentials.Builder creds = TlsChannelCredentials.newBuilder()
        .trustManager(home.resolve("tls/ca.crt").toFile());
    if (certificate != null) {
      creds.keyManager(certificate.toFile(), key.toFile());
    }
    ManagedChannel ch = NettyChannelBuilder.forAddress("localhost", broker.grpcPort(), creds.build()).build();
    channels.add(ch);
    return ch;
  }

  private static <S extends AbstractStub<S>> S with(S stub, Map<String, String> metadata) {
    Metadata md = new Metadata();
    metadata.forEach((k, v) -> md.put(Metadata.Key.of(k, Metadata.ASCII_STRING_MARSHALLER), v));
    return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md)).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  /** Starts a device authorization and approves it with the operator CLI; returns the device code. */
  private String approvedDeviceCode() throws Exception {
    StartDeviceAuthorizationResponse started = DeviceAuthorizationServiceGrpc.newBlockingStub(channel(null, null))
        .withDeadlineAfter(30, TimeUnit.SECONDS)
        .startDeviceAuthorization(StartDeviceAuthorizationRequest.newBuilder().setClientId(CLIENT).build());
    BrokerProcess.Result approved = admin("approve", started.getUserCode(), "--owner", "bob");
    assertThat(approved.exitCode()).as(approved.stderr()).isZero();
    return started.getDeviceCode();
  }

  private static TokenRequest deviceCode(String code) {
    return TokenRequest.newBuilder().setClientId(CLIENT).setDeviceCode(DeviceCodeGrant.newBuilder().setDeviceCode(code))
        .build();
  }

  private static TokenRequest refresh(String token) {
    return TokenRequest.newBuilder().setClientId(CLIENT)
        .setRefreshToken(RefreshTokenGrant.newBuilder().setRefreshToken(token)).build();
  }

  private static Object x5t(String accessToken) throws Exception {
    Map<String, Object> cnf = SignedJWT.parse(accessToken).getJWTClaimsSet().getJSONObjectClaim("cnf");
    return cnf.get("x5t#S256");
  }

  private static String pem(ByteString der) {
    return "-----BEGIN CERTIFICATE-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
        .encodeToString(der.toByteArray()) + "\n-----END CERTIFICATE-----\n";
  }

  @Test
  void selfSignedOpensslCertificateBindsTokensToTheThumbprintOpensslComputes() throws Exception {
    sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout self.key -out self.crt"
        + " -days 2 -subj /CN=sensor-openssl 2>/dev/null");
    ManagedChannel mtls = channel(tmp.resolve("self.crt"), tmp.resolve("self.key"));

    TokenResponse tokens = TokenServiceGrpc.newBlockingStub(mtls).withDeadlineAfter(30, TimeUnit.SECONDS)
        .token(deviceCode(approvedDeviceCode()));
    assertThat(tokens.getTokenType()).isEqualTo(TokenType.TOKEN_TYPE_BEARER);
    assertThat(x5t(tokens.getAccessToken())).isEqualTo(opensslThumbprint("self.crt"));
    TokenResponse refreshed = TokenServiceGrpc.newBlockingStub(mtls).withDeadlineAfter(30, TimeUnit.SECONDS)
        .token(refresh(tokens.getRefreshToken()));
    assertThat(x5t(refreshed.getAccessToken())).isEqualTo(opensslThumbprint("self.crt"));

    // Another openssl certificate with the same subject is a different certificate: invalid_grant.
    sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key -out other.crt"
        + " -days 2 -subj /CN=sensor-openssl 2>/dev/null");
    StatusRuntimeException refused = catchThrowableOfType(StatusRuntimeException.class, () -> TokenServiceGrpc
        .newBlockingStub(channel(tmp.resolve("other.crt"), tmp.resolve("other.key")))
        .withDeadlineAfter(30, TimeUnit.SECONDS).token(refresh(refreshed.getRefreshToken())));
    assertThat(GrpcErrorAssert.errorInfo(refused).getReason()).isEqualTo("INVALID_GRANT");
  }

  @Test
  void deviceCertificateFromAnOpensslCsrChainsToThePublishedCaAndRevocationReachesTheStream() throws Exception {
    // Bootstrap with DPoP over server-authenticated TLS.
    TestDevice dpop = new TestDevice();
    String tokenHtu = ISSUER + "/" + TokenServiceGrpc.getTokenMethod().getFullMethodName();
    TokenResponse bootstrap = with(TokenServiceGrpc.newBlockingStub(channel(null, null)),
        Map.of("dpop", dpop.proof(tokenHtu))).token(deviceCode(approvedDeviceCode()));
    assertThat(bootstrap.getTokenType()).isEqualTo(TokenType.TOKEN_TYPE_DPOP);

    // The device's key and CSR come from openssl; the CSR asks for a subject the broker ignores.
    sh("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout device.key -outform DER"
        + " -out device.csr -subj /CN=admin/OU=operators 2>/dev/null");
    String ath = Base64.getUrlEncoder().withoutPadding().encodeToString(MessageDigest.getInstance("SHA-256")
        .digest(bootstrap.getAccessToken().getBytes(StandardCharsets.US_ASCII)));
    String issueHtu = ISSUER + "/" + CertificateServiceGrpc.getIssueDeviceCertificateMethod().getFullMethodName();
    IssueDeviceCertificateResponse issued = with(CertificateServiceGrpc.newBlockingStub(channel(null, null)),
        Map.of("authorization", "DPoP " + bootstrap.getAccessToken(),
            "dpop", dpop.proof(issueHtu, java.time.Instant.now(), h -> h, c -> c.claim("ath", ath))))
        .issueDeviceCertificate(IssueDeviceCertificateRequest.newBuilder()
            .setCsrDer(ByteString.copyFrom(Files.readAllBytes(tmp.resolve("device.csr")))).build());
    Files.writeString(tmp.resolve("device.crt"), pem(issued.getCertificateChain(0)));
    Files.writeString(tmp.resolve("device-ca.crt"), pem(CertificateServiceGrpc.newBlockingStub(channel(null, null))
        .getDeviceCaCertificates(GetDeviceCaCertificatesRequest.getDefaultInstance()).getCaCertificates(0)));

    // openssl verifies the chain to the published CA, for client authentication, and sees the broker's subject.
    assertThat(sh("openssl verify -purpose sslclient -CAfile device-ca.crt device.crt")).endsWith("OK");
    assertThat(sh("openssl x509 -in device.crt -noout -subject")).isEqualTo("subject=CN = " + bootstrap.getDeviceId());
    assertThat(sh("openssl x509 -in device.crt -noout -serial")).isEqualToIgnoringCase(
        "serial=" + (issued.getSerialNumber().length() % 2 == 1 ? "0" : "") + issued.getSerialNumber());

    // First mTLS refresh (certificate + bootstrap proof) moves the binding to the certificate.
    ManagedChannel mtls = channel(tmp.resolve("device.crt"), tmp.resolve("device.key"));
    TokenResponse bound = with(TokenServiceGrpc.newBlockingStub(mtls), Map.of("dpop", dpop.proof(tokenHtu)))
        .token(refresh(bootstrap.getRefreshToken()));
    assertThat(bound.getTokenType()).isEqualTo(TokenType.TOKEN_TYPE_BEARER);
    assertThat(x5t(bound.getAccessToken())).isEqualTo(opensslThumbprint("device.crt"));

    BrokerProcess.Result shown = admin("devices", "get", bootstrap.getDeviceId());
    assertThat(shown.exitCode()).as(shown.stderr()).isZero();
    assertThat(shown.stdout()).contains("device certificate serial: " + issued.getSerialNumber())
        .contains("x5t#S256 " + opensslThumbprint("device.crt"));

    // The operator revokes the device: its serial and thumbprint reach verifiers, the broker refuses it.
    BrokerProcess.Result revoked = admin("devices", "revoke", bootstrap.getDeviceId(), "--reason", "stolen");
    assertThat(revoked.exitCode()).as(revoked.stderr()).isZero();
    List<String> subjects = new ArrayList<>();
    Iterator<WatchRevocationsResponse> stream = RevocationServiceGrpc.newBlockingStub(
        channel(home.resolve("tls/backend.crt"), home.resolve("tls/backend.key")))
        .withDeadlineAfter(30, TimeUnit.SECONDS).watchRevocations(WatchRevocationsRequest.getDefaultInstance());
    while (stream.hasNext()) {
      WatchRevocationsResponse r = stream.next();
      if (r.hasSnapshotComplete()) {
        break;
      }
      subjects.add(r.getEvent().getCertificateSerial() + r.getEvent().getX5TS256());
    }
    assertThat(subjects).contains(issued.getSerialNumber(), opensslThumbprint("device.crt"));
    StatusRuntimeException refused = catchThrowableOfType(StatusRuntimeException.class, () -> TokenServiceGrpc
        .newBlockingStub(mtls).withDeadlineAfter(30, TimeUnit.SECONDS).token(refresh(bound.getRefreshToken())));
    assertThat(GrpcErrorAssert.errorInfo(refused).getReason()).isEqualTo("INVALID_CLIENT");
  }
}
