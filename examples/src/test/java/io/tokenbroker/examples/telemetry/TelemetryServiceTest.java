package io.tokenbroker.examples.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.tokenbroker.examples.telemetry.v1.IngestTelemetryResponse;
import io.tokenbroker.verifier.TokenVerifier;
import io.tokenbroker.verifier.grpc.AccessTokenInterceptor;
import io.tokenbroker.verifier.testing.DpopTestKey;
import io.tokenbroker.verifier.testing.FakeBroker;
import io.tokenbroker.verifier.testing.TestCertificates;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The example service over real TLS on loopback, verifying tokens against in-process fakes of the broker's key
 * and revocation services (the broker itself is exercised by the broker module's VerifierIT).
 */
class TelemetryServiceTest {
  @TempDir Path tmp;
  private final TestCertificates.Issued serverCert = TestCertificates.selfSigned("localhost", BigInteger.ONE);
  private final DpopTestKey device = new DpopTestKey();
  private FakeBroker broker;
  private TokenVerifier verifier;
  private TelemetryServer server;
  private ManagedChannel channel;
  private Path caFile;
  private String htu;

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }

  @BeforeEach
  void start() throws Exception {
    broker = new FakeBroker();
    verifier = broker.readyVerifier();
    caFile = Files.writeString(tmp.resolve("server.crt"), pem("CERTIFICATE", serverCert.certificate().getEncoded()));
    Path keyFile = Files.writeString(tmp.resolve("server.key"), pem("PRIVATE KEY",
        serverCert.keys().getPrivate().getEncoded()));
    TlsServerCredentials.Builder tls = TlsServerCredentials.newBuilder().keyManager(caFile.toFile(), keyFile.toFile());
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0), tls.build());
    // The external URL is fixed before the port is known; the test's proofs use the same one.
    server = new TelemetryServer(builder, verifier, "https://localhost:9443").start();
    htu = TelemetryServer.ingestHtu("https://localhost:9443");
    channel = NettyChannelBuilder.forAddress("localhost", server.port(), TlsChannelCredentials.newBuilder()
        .trustManager(caFile.toFile()).build()).build();
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.close();
    verifier.close();
    broker.close();
  }

  @Test
  void ingestWithADpopBoundTokenWithTheScopeStoresTheRecordForTheTokensDevice() {
    String token = broker.issuer().dpopToken("device-1", device.jkt(), Instant.now());
    TelemetryClient client = new TelemetryClient(channel);
    IngestTelemetryResponse first = client.send(token, device.proof(htu, token, Instant.now()), "temperature", 21.5);
    IngestTelemetryResponse second = client.send(token, device.proof(htu, token, Instant.now()), "temperature", 22);
    assertThat(first.getDeviceId()).isEqualTo("device-1");
    assertThat(second.getRecordsFromDevice()).isEqualTo(2);
  }

  @Test
  void ingestWithoutTheTelemetryScopeIsPermissionDenied() {
    String token = broker.issuer().token(h -> h, broker.issuer().claims("device-1", Map.of("jkt", device.jkt()),
        Instant.now()).claim("scope", "firmware:read").build());
    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, () -> new TelemetryClient(channel)
        .send(token, device.proof(htu, token, Instant.now()), "temperature", 1));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(e.getTrailers().get(AccessTokenInterceptor.WWW_AUTHENTICATE)).contains("scope=\"telemetry:write\"");
  }

  @Test
  void ingestAfterTheDeviceIsRevokedIsUnauthenticated() throws Exception {
    String token = broker.issuer().dpopToken("device-1", device.jkt(), Instant.now());
    TelemetryClient client = new TelemetryClient(channel);
    client.send(token, device.proof(htu, token, Instant.now()), "temperature", 1);
    broker.revocations().revoke(b -> b.setDeviceId("device-1"), Instant.now());
    StatusRuntimeException refused = null;
    for (int i = 0; i < 100 && refused == null; i++) {
      try {
        client.send(token, device.proof(htu, token, Instant.now()), "temperature", 1);
        Thread.sleep(10);
      } catch (StatusRuntimeException e) {
        refused = e;
      }
    }
    assertThat(refused).isNotNull();
    assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(refused.getStatus().getDescription()).contains("revoked");
  }

  @Test
  void sendCommandPrintsTheStoredRecordOrTheRefusalAndExitsAccordingly() {
    String token = broker.issuer().dpopToken("device-9", device.jkt(), Instant.now());
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new TelemetryCommand()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
    String target = "localhost:" + server.port();
    int ok = cli.execute("send", "--target", target, "--ca", caFile.toString(), "--token", token,
        "--proof", device.proof(htu, token, Instant.now()));
    assertThat(ok).as(err.toString()).isZero();
    assertThat(out.toString()).contains("accepted: stored").contains("for device device-9");

    int refused = cli.execute("send", "--target", target, "--ca", caFile.toString(), "--token", token,
        "--proof", device.proof("https://localhost:1/wrong", token, Instant.now()));
    assertThat(refused).isEqualTo(TelemetryCommand.EXIT_REFUSED);
    assertThat(err.toString()).contains("refused: UNAUTHENTICATED: invalid_dpop_proof")
        .contains("www-authenticate: DPoP error=\"invalid_dpop_proof\"").doesNotContain(token);
  }

  @Test
  void htuCommandPrintsTheMethodsUrl() {
    StringWriter out = new StringWriter();
    new CommandLine(new TelemetryCommand()).setOut(new PrintWriter(out)).execute("htu", "--external-url",
        "https://telemetry.example:9443/");
    assertThat(out.toString().strip())
        .isEqualTo("https://telemetry.example:9443/telemetry.v1.TelemetryService/IngestTelemetry");
  }
}
