package io.tokenbroker.broker.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.tokenbroker.broker.client.BindingPolicy;
import io.tokenbroker.broker.client.ClientRegistry;
import io.tokenbroker.broker.testing.InProcessBroker;
import io.tokenbroker.broker.testing.InProcessBroker.Caller;
import io.tokenbroker.broker.testing.MutableClock;
import io.tokenbroker.broker.testing.PlainHttp;
import io.tokenbroker.broker.testing.PrometheusText;
import io.tokenbroker.broker.testing.SoftHsm;
import io.tokenbroker.broker.testing.SoftHsmTest;
import io.tokenbroker.broker.testing.TokenFileLock;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationRequest;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.security.AuthProvider;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.h2.tools.Server;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Readiness falls when a dependency fails and rises when it returns, on /readyz and on the gRPC health service
 * (over TLS) alike, with the broker left running throughout: the database server goes away and comes back (a
 * real H2 server over TCP, stopped and started again), and the HSM loses its login while its token cannot be
 * logged into (a real SoftHSM2 token whose files another process holds locked).
 */
@SoftHsmTest
class ReadinessTests {
  private static final Duration LIMIT = Duration.ofSeconds(60);
  private static final Predicate<PlainHttp.Reply> READY = r -> r.status() == 200;
  private static final Predicate<PlainHttp.Reply> NOT_READY = r -> r.status() == 503;
  private final SoftHsm hsm;
  private final MutableClock clock = new MutableClock(Instant.now());
  @TempDir Path dir;
  private InProcessBroker broker;
  private ManagedChannel channel;
  private Server database;
  private TokenFileLock lock;

  ReadinessTests(SoftHsm hsm) {
    this.hsm = hsm;
  }

  private void start(String extraConfig) throws Exception {
    broker = InProcessBroker.start(hsm, dir, clock, "ops.port=0\nhealth.check-interval=PT0.2S\n" + extraConfig);
    broker.application().clientRegistry().create(ClientRegistry.draft(InProcessBroker.CLIENT, "Demo",
        Set.of("telemetry:write"), Set.of("https://api.example.test"), BindingPolicy.DPOP), "test");
    channel = broker.tlsChannel(Caller.ANONYMOUS);
  }

  @AfterEach
  void stop() throws Exception {
    if (lock != null) {
      lock.close();
    }
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (broker != null) {
      broker.close();
    }
    if (database != null) {
      database.stop();
    }
  }

  private PlainHttp.Reply readyz(Predicate<PlainHttp.Reply> until) throws Exception {
    return PlainHttp.await("127.0.0.1", broker.operations().port(), OperationsRoutes.READYZ, until, LIMIT);
  }

  private ServingStatus grpcHealth() {
    return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
        .check(HealthCheckRequest.getDefaultInstance()).getStatus();
  }

  private void startDatabaseServer(int port) throws Exception {
    database = Server.createTcpServer("-tcpPort", Integer.toString(port), "-baseDir", dir.resolve("db").toString(),
        "-ifNotExists").start();
  }

  @Test
  void aDatabaseThatGoesAwayMakesTheBrokerUnreadyAndItIsReadyAgainWhenTheDatabaseReturns() throws Exception {
    int port;
    try (ServerSocket probe = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort();
    }
    startDatabaseServer(port);
    start("database.url=jdbc:h2:tcp://127.0.0.1:" + port + "/broker;WRITE_DELAY=0\n");
    assertThat(readyz(READY).status()).isEqualTo(200);
    assertThat(grpcHealth()).isEqualTo(ServingStatus.SERVING);

    database.stop(); // the database server goes away, with the broker's pooled connections

    // (A check that queried just before the stop may pass once; the database check fails from then on.)
    PlainHttp.Reply down = readyz(NOT_READY.and(r -> r.body().contains("\"database\"")));
    assertThat(down.status()).isEqualTo(503);
    assertThat(down.contentType()).startsWith("application/json");
    assertThat(down.body()).startsWith("{\"status\":\"not ready\",\"failed\":[").contains("\"database\"")
        .doesNotContain("\"hsm\"").doesNotContain("jdbc").doesNotContain(dir.toString());
    assertThat(grpcHealth()).isEqualTo(ServingStatus.NOT_SERVING);
    PrometheusText metrics = new PrometheusText(broker.metrics().scrape());
    assertThat(metrics.value("tokenbroker_ready")).isZero();
    assertThat(metrics.value("tokenbroker_readiness_check", "check", "database")).isZero();
    assertThat(metrics.value("tokenbroker_readiness_check", "check", "hsm")).isEqualTo(1);

    startDatabaseServer(port); // it comes back on the same address

    assertThat(readyz(READY).body()).isEqualTo("{\"status\":\"ready\"}\n");
    assertThat(grpcHealth()).isEqualTo(ServingStatus.SERVING);
    assertThat(new PrometheusText(broker.metrics().scrape()).value("tokenbroker_ready")).isEqualTo(1);
    // And the broker works again without a restart.
    assertThat(broker.deviceAuthorization().startDeviceAuthorization(StartDeviceAuthorizationRequest.newBuilder()
        .setClientId(InProcessBroker.CLIENT).build()).getUserCode()).isNotEmpty();
  }

  @Test
  void anHsmThatLosesItsLoginAndCannotBeLoggedIntoMakesTheBrokerUnreadyUntilItAnswersAgain() throws Exception {
    start("hsm.health-interval=PT0.2S\n");
    assertThat(readyz(READY).status()).isEqualTo(200);
    assertThat(grpcHealth()).isEqualTo(ServingStatus.SERVING);
    double errorsBefore = new PrometheusText(broker.metrics().scrape()).value("tokenbroker_hsm_sign_errors_total");

    lock = TokenFileLock.acquire(); // logins to the token now block, as with an unreachable network HSM
    ((AuthProvider) broker.context().token().provider()).logout(); // and the session is gone

    // The monitor's probe fails (no login) and its re-login blocks, or the probe itself blocks on the token
    // files and counts as failed once it has hung for HsmHealthMonitor.HANG_LIMIT: either way, not ready.
    PlainHttp.Reply down = readyz(NOT_READY);
    assertThat(down.status()).isEqualTo(503);
    assertThat(down.body()).contains("\"hsm\"").doesNotContain("\"database\"");
    assertThat(grpcHealth()).isEqualTo(ServingStatus.NOT_SERVING);

    lock.close(); // the token answers again: the broker's pending login goes through
    lock = null;

    assertThat(readyz(READY).body()).isEqualTo("{\"status\":\"ready\"}\n");
    assertThat(grpcHealth()).isEqualTo(ServingStatus.SERVING);
    assertThat(new PrometheusText(broker.metrics().scrape()).value("tokenbroker_hsm_sign_errors_total"))
        .as("the probe signature that failed during the outage is counted").isGreaterThan(errorsBefore);
  }
}
