package io.tokenbroker.broker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tokenbroker.broker.BrokerFailure;
import io.tokenbroker.broker.keys.SigningAlgorithm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BrokerConfigTest {
  @TempDir Path home;

  private BrokerConfig load(String properties) throws Exception {
    Files.writeString(home.resolve(BrokerConfig.FILE_NAME), properties);
    return BrokerConfig.load(home);
  }

  @Test
  void loadWhenEmptyThenDocumentedDefaults() throws Exception {
    BrokerConfig c = load("");
    assertThat(c.issuer().toString()).isEqualTo("https://localhost:8443");
    assertThat(c.externalUrl()).isEqualTo(c.issuer());
    assertThat(c.grpcHost()).isEqualTo("127.0.0.1");
    assertThat(c.grpcPort()).isEqualTo(8443);
    assertThat(c.pkcs11Config()).isEqualTo(home.resolve("hsm/pkcs11.cfg"));
    assertThat(c.pinEnv()).isEqualTo("TOKENBROKER_HSM_PIN");
    assertThat(c.keyLifecycle().algorithm()).isEqualTo(SigningAlgorithm.ES256);
    assertThat(c.keyLifecycle().rotationPeriod()).isEqualTo(Duration.ofDays(30));
    assertThat(c.databaseUrl()).startsWith("jdbc:h2:file:" + home.toRealPath())
        .endsWith(";WRITE_DELAY=0;QUERY_CACHE_SIZE=64");
  }

  @Test
  void loadWhenStreamLimitsOrAuthorizationRetentionOutOfRangeThenRefusedNamingTheKey() throws Exception {
    BrokerConfig defaults = load("");
    assertThat(defaults.revocationMaxSubscribers()).isEqualTo(1000);
    assertThat(defaults.revocationMaxSubscriberLag()).isEqualTo(10_000);
    assertThat(defaults.deviceAuthorizationRetention()).isEqualTo(Duration.ofDays(1));
    assertThat(load("device.authorization-retention=PT0S\n").deviceAuthorizationRetention()).isZero();
    assertThatThrownBy(() -> load("revocation.max-subscribers=0\n"))
        .hasMessageContaining("'revocation.max-subscribers' must be 1-100000");
    assertThatThrownBy(() -> load("revocation.max-subscriber-lag=lots\n"))
        .hasMessageContaining("'revocation.max-subscriber-lag' must be a number");
    assertThatThrownBy(() -> load("revocation.max-subscriber-lag=99\n"))
        .hasMessageContaining("'revocation.max-subscriber-lag' must be 100-100000000");
    assertThatThrownBy(() -> load("device.authorization-retention=P401D\n"))
        .hasMessageContaining("'device.authorization-retention' must be between PT0S and P400D");
  }

  @Test
  void spentRefreshTokensAreKeptThirtyDaysByDefaultForeverWithZeroAndNeverLessThanADay() throws Exception {
    assertThat(load("").refreshSpentRetention()).isEqualTo(Duration.ofDays(30));
    assertThat(load("refresh.spent-retention=PT0S\n").refreshSpentRetention()).isZero();
    assertThat(load("refresh.spent-retention=P1D\n").refreshSpentRetention()).isEqualTo(Duration.ofDays(1));
    assertThatThrownBy(() -> load("refresh.spent-retention=-P1D\n"))
        .hasMessageContaining("'refresh.spent-retention' must not be negative");
    for (String tooShortOrLong : new String[] {"PT23H", "P3651D"}) {
      assertThatThrownBy(() -> load("refresh.spent-retention=" + tooShortOrLong + "\n"))
          .isInstanceOf(BrokerFailure.class)
          .hasMessageContaining("'refresh.spent-retention' must be PT0S (keep forever) or between P1D and P3650D");
    }
  }

  @Test
  void loadWhenEmptyThenTheOperationsListenerIsOnLoopbackAtItsDocumentedPort() throws Exception {
    BrokerConfig c = load("");
    assertThat(c.opsEnabled()).isTrue();
    assertThat(java.net.InetAddress.getByName(c.opsHost()).isLoopbackAddress()).isTrue();
    assertThat(c.opsPort()).isEqualTo(9464);
    assertThat(c.healthCheckInterval()).isEqualTo(Duration.ofSeconds(5));
    assertThat(load("ops.enabled=false\n").opsEnabled()).isFalse();
  }

  @Test
  void loadWhenOperationsSettingsAreWrongThenRefusedNamingThem() {
    assertThatThrownBy(() -> load("ops.enabled=off\n")).hasMessageContaining("'ops.enabled' must be true or false");
    assertThatThrownBy(() -> load("ops.port=-1\n")).hasMessageContaining("'ops.port' must be a port number");
    assertThatThrownBy(() -> load("health.check-interval=PT0.01S\n"))
        .hasMessageContaining("'health.check-interval' must be between 100 ms and 5 min");
    assertThatThrownBy(() -> load("metrics.device-count-max-age=PT0S\n"))
        .hasMessageContaining("'metrics.device-count-max-age' must be between PT1S and PT1H");
  }

  @Test
  void loadWhenMisspeltKeyThenRefusedNamingIt() {
    assertThatThrownBy(() -> load("keys.algoritm=PS256\n"))
        .isInstanceOf(BrokerFailure.class).hasMessageContaining("unknown setting(s) [keys.algoritm]");
  }

  @Test
  void loadWhenIssuerIsNotHttpsThenRefused() {
    assertThatThrownBy(() -> load("broker.issuer=http://broker.example\n"))
        .hasMessageContaining("'broker.issuer' must be an https URL");
  }

  @Test
  void loadWhenDurationMalformedThenRefusedWithExample() {
    assertThatThrownBy(() -> load("keys.rotation-period=30 days\n"))
        .hasMessageContaining("'keys.rotation-period' must be an ISO-8601 duration");
  }

  @Test
  void loadWhenPortOutOfRangeThenRefused() {
    assertThatThrownBy(() -> load("grpc.port=70000\n")).hasMessageContaining("'grpc.port' must be a port number");
  }

  @Test
  void loadWhenRetiredKeysWouldVanishBeforeTheirTokensExpireThenRefused() {
    assertThatThrownBy(() -> load("keys.retired-retention=PT30M\n"))
        .hasMessageContaining("'keys.retired-retention' must be at least PT61M");
  }

  @Test
  void loadWhenUnknownAlgorithmThenRefused() {
    assertThatThrownBy(() -> load("keys.algorithm=HS256\n")).hasMessageContaining("unsupported signing algorithm");
  }

  @Test
  void loadWhenNoFileThenTellsHowToInit() {
    assertThatThrownBy(() -> BrokerConfig.load(home.resolve("absent")))
        .hasMessageContaining("broker init --home");
  }

  @Test
  void relativePathsResolveAgainstHome() throws Exception {
    BrokerConfig c = load("hsm.pin-file=secrets/pin\ntls.certificate=/etc/tb/server.crt\n");
    assertThat(c.pinFile()).isEqualTo(home.resolve("secrets/pin"));
    assertThat(c.tlsCertificate()).isEqualTo(Path.of("/etc/tb/server.crt"));
  }
}
