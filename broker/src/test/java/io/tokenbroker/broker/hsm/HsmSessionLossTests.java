package io.tokenbroker.broker.hsm;

import static io.tokenbroker.broker.testing.GrpcErrorAssert.assertOAuthError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import io.tokenbroker.broker.client.BindingPolicy;
import io.tokenbroker.broker.client.Client;
import io.tokenbroker.broker.client.ClientRegistry;
import io.tokenbroker.broker.devicecert.DeviceCertificateAuthority;
import io.tokenbroker.broker.keys.KeyOperationException;
import io.tokenbroker.broker.testing.InProcessBroker;
import io.tokenbroker.broker.testing.MutableClock;
import io.tokenbroker.broker.testing.SoftHsm;
import io.tokenbroker.broker.testing.SoftHsmTest;
import io.tokenbroker.broker.testing.TestDevice;
import io.tokenbroker.proto.v1.TokenResponse;
import java.nio.file.Path;
import java.security.AuthProvider;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HSM login vanishes under a running broker (as with network HSMs and idle YubiHSMs; here the token is
 * logged out behind the broker's back on a real SoftHSM2 token): requests in flight fail with UNAVAILABLE and
 * change nothing, health says NOT_SERVING, the broker logs in again by itself and carries on, with the signing
 * keys and the device CA key alike.
 */
@SoftHsmTest
class HsmSessionLossTests {
  private final SoftHsm hsm;
  private final MutableClock clock = new MutableClock(Instant.now());
  private final TestDevice device = new TestDevice();
  @TempDir Path dir;
  private InProcessBroker broker;

  HsmSessionLossTests(SoftHsm hsm) {
    this.hsm = hsm;
  }

  private void start(Duration healthInterval) throws Exception {
    broker = InProcessBroker.start(hsm, dir, clock, "hsm.health-interval=" + healthInterval + "\n");
    Client draft = ClientRegistry.draft(InProcessBroker.CLIENT, "Demo", Set.of("telemetry:write"),
        Set.of("https://api.example.test"), BindingPolicy.DPOP);
    broker.application().clientRegistry().create(new Client(draft.clientId(), draft.displayName(),
        draft.allowedScopes(), draft.allowedAudiences(), draft.bindingPolicy(), Duration.ofMinutes(5),
        Duration.ofDays(14), Duration.ofDays(90), Duration.ofSeconds(60), null), "test");
  }

  @AfterEach
  void stop() throws Exception {
    broker.close();
  }

  private TokenResponse enrol() {
    return broker.enrol(device);
  }

  private TokenResponse refresh(String token) {
    return broker.refresh(token, device);
  }

  private void logOutBehindTheBrokersBack() throws Exception {
    ((AuthProvider) broker.context().token().provider()).logout();
  }

  /** Every status the health service reports from now on, in order. */
  private List<ServingStatus> watchHealth() {
    List<ServingStatus> seen = new CopyOnWriteArrayList<>();
    HealthGrpc.newStub(broker.channel()).watch(HealthCheckRequest.getDefaultInstance(),
        new StreamObserver<HealthCheckResponse>() {
          @Override
          public void onNext(HealthCheckResponse value) {
            seen.add(value.getStatus());
          }

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {}
        });
    return seen;
  }

  private static void awaitTrue(java.util.function.BooleanSupplier condition) throws InterruptedException {
    for (int i = 0; i < 200 && !condition.getAsBoolean(); i++) {
      Thread.sleep(50);
    }
    assertThat(condition.getAsBoolean()).as("condition reached within 10 s").isTrue();
  }

  @Test
  void aGrantDuringTheLossFailsUnavailableChangesNothingAndTheBrokerRecoversOnItsOwn() throws Exception {
    start(Duration.ofMinutes(5)); // only the reported loss triggers recovery: no periodic probe races the test
    TokenResponse first = enrol();
    List<ServingStatus> health = watchHealth();
    Map<String, List<String>> before = broker.grantState();
    long generation = broker.context().token().generation();

    logOutBehindTheBrokersBack();
    assertOAuthError(() -> refresh(first.getRefreshToken()), Status.Code.UNAVAILABLE, "TEMPORARILY_UNAVAILABLE",
        "temporarily_unavailable");

    assertThat(broker.grantState()).as("the failed grant left no state").isEqualTo(before);
    awaitTrue(() -> broker.context().token().generation() > generation);
    awaitTrue(() -> health.contains(ServingStatus.NOT_SERVING) && health.get(health.size() - 1)
        == ServingStatus.SERVING);
    assertThat(health).containsSubsequence(ServingStatus.SERVING, ServingStatus.NOT_SERVING, ServingStatus.SERVING);
    // The refresh token the failed call presented is still the live one: no reuse detection, no lost device.
    TokenResponse second = refresh(first.getRefreshToken());
    assertThat(second.getAccessToken()).isNotEmpty();
    assertThat(refresh(second.getRefreshToken()).getAccessToken()).isNotEmpty();
  }

  @Test
  void thePeriodicProbeNoticesALostLoginBeforeAnyDeviceDoes() throws Exception {
    start(Duration.ofMillis(200));
    TokenResponse first = enrol();
    long generation = broker.context().token().generation();

    logOutBehindTheBrokersBack();

    awaitTrue(() -> broker.context().token().generation() > generation);
    // The re-login is done; readiness is re-evaluated right after the next probe succeeds.
    awaitTrue(() -> HealthGrpc.newBlockingStub(broker.channel()).check(HealthCheckRequest.getDefaultInstance())
        .getStatus() == ServingStatus.SERVING);
    assertThat(refresh(first.getRefreshToken()).getAccessToken()).as("the first device call after the loss works")
        .isNotEmpty();
  }

  @Test
  void theDeviceCaSignsAgainOnceTheBrokerHasLoggedInAgain() throws Exception {
    start(Duration.ofMinutes(5));
    DeviceCertificateAuthority ca = broker.context().deviceCa();
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    PublicKey deviceKey = generator.generateKeyPair().getPublic();
    Instant now = Instant.now();
    long generation = broker.context().token().generation();

    logOutBehindTheBrokersBack();
    assertThatThrownBy(() -> ca.issue("device-1", deviceKey, DeviceCertificateAuthority.newSerial(), now,
        now.plus(Duration.ofDays(1)))).isInstanceOf(KeyOperationException.class);

    awaitTrue(() -> broker.context().token().generation() > generation);
    X509Certificate issued = ca.issue("device-1", deviceKey, DeviceCertificateAuthority.newSerial(), now,
        now.plus(Duration.ofDays(1)));
    issued.verify(ca.certificate().getPublicKey());
  }
}
