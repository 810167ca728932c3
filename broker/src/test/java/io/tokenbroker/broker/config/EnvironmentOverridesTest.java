package io.tokenbroker.broker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tokenbroker.broker.BrokerFailure;
import io.tokenbroker.broker.logging.LogFormat;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** TOKENBROKER_<KEY> variables: they win over the file, are checked like it, and misspelt ones are refused. */
class EnvironmentOverridesTest {
  @TempDir Path home;

  private BrokerConfig load(String properties, Map<String, String> env) throws Exception {
    Files.writeString(home.resolve(BrokerConfig.FILE_NAME), properties);
    return BrokerConfig.load(home, env);
  }

  @Test
  void variableNameWhenKeyHasDotsAndDashesThenUpperCaseWithUnderscores() {
    assertThat(ConfigKey.GRPC_PORT.environmentVariable()).isEqualTo("TOKENBROKER_GRPC_PORT");
    assertThat(ConfigKey.WEB_SIGN_IN_FAILURES_PER_ADDRESS.environmentVariable())
        .isEqualTo("TOKENBROKER_WEB_SIGN_IN_FAILURES_PER_ADDRESS");
    assertThat(ConfigKey.HSM_PIN_FILE.environmentVariable()).isEqualTo("TOKENBROKER_HSM_PIN_FILE");
    // No two settings share a variable.
    assertThat(Arrays.stream(ConfigKey.values()).map(ConfigKey::environmentVariable).distinct())
        .hasSize(ConfigKey.values().length);
  }

  @Test
  void loadWhenBothFileAndEnvironmentSetAKeyThenTheEnvironmentWins() throws Exception {
    BrokerConfig c = load("grpc.port=9000\nhttps.port=9001\n", Map.of("TOKENBROKER_GRPC_PORT", "9100",
        "TOKENBROKER_LOG_FORMAT", "json"));
    assertThat(c.grpcPort()).isEqualTo(9100);
    assertThat(c.httpsPort()).isEqualTo(9001);
    assertThat(c.logSettings().format()).isEqualTo(LogFormat.JSON);
    assertThat(c.environmentOverrides()).containsExactly("TOKENBROKER_GRPC_PORT", "TOKENBROKER_LOG_FORMAT");
  }

  @Test
  void loadWhenPathComesFromTheEnvironmentThenItResolvesAgainstTheHomeLikeTheFile() throws Exception {
    BrokerConfig c = load("", Map.of("TOKENBROKER_HSM_PIN_FILE", "secrets/pin",
        "TOKENBROKER_TLS_PRIVATE_KEY", "/etc/tokenbroker/tls.key"));
    assertThat(c.pinFile()).isEqualTo(home.toAbsolutePath().normalize().resolve("secrets/pin"));
    assertThat(c.tlsPrivateKey()).isEqualTo(Path.of("/etc/tokenbroker/tls.key"));
  }

  @Test
  void loadWhenVariableIsEmptyThenTheFileValueStays() throws Exception {
    BrokerConfig c = load("grpc.port=9000\n", Map.of("TOKENBROKER_GRPC_PORT", "  "));
    assertThat(c.grpcPort()).isEqualTo(9000);
    assertThat(c.environmentOverrides()).isEmpty();
  }

  @Test
  void loadWhenEnvironmentValueIsInvalidThenRefusedNamingTheVariable() {
    assertThatThrownBy(() -> load("", Map.of("TOKENBROKER_GRPC_PORT", "eighty")))
        .isInstanceOf(BrokerFailure.class)
        .hasMessage("environment variable TOKENBROKER_GRPC_PORT: 'grpc.port' must be a port number, is 'eighty'");
    assertThatThrownBy(() -> load("", Map.of("TOKENBROKER_LOG_LEVEL", "verbose")))
        .hasMessageContaining("TOKENBROKER_LOG_LEVEL: 'log.level' must be one of error, warn, info, debug, trace");
  }

  @Test
  void loadWhenMisspeltVariableLooksLikeASettingThenRefusedNamingIt() {
    assertThatThrownBy(() -> load("", Map.of("TOKENBROKER_GRPC_PROT", "9100", "TOKENBROKER_LOG_FROMAT", "json")))
        .isInstanceOf(BrokerFailure.class)
        .hasMessageStartingWith("environment variable(s) [TOKENBROKER_GRPC_PROT, TOKENBROKER_LOG_FROMAT] name no "
            + "setting");
  }

  @Test
  void loadWhenVariablesAreNotSettingsThenTheyAreLeftAlone() throws Exception {
    BrokerConfig c = load("hsm.pin-env=TOKENBROKER_HSM_USER_PIN\n", Map.of(
        "TOKENBROKER_HSM_PIN", "1234",               // the default PIN variable
        "TOKENBROKER_HSM_USER_PIN", "1234",          // the one hsm.pin-env names
        "TOKENBROKER_JAVA_OPTS", "-Xmx256m",         // the launcher's
        "TOKENBROKER_BROKER_JAR", "/opt/broker.jar", // the launcher's
        "TOKENBROKER_AGENT_TEST_HOOKS", "enabled",   // another program's: AGENT is no section of the broker's
        "PATH", "/usr/bin"));
    assertThat(c.environmentOverrides()).isEmpty();
    assertThat(c.pinEnv()).isEqualTo("TOKENBROKER_HSM_USER_PIN");
  }

  @Test
  void loadWhenLogSettingsAreDefaultThenTextInfoWithAuditLines() throws Exception {
    BrokerConfig c = load("", Map.of());
    assertThat(c.logSettings().format()).isEqualTo(LogFormat.TEXT);
    assertThat(c.logSettings().level()).isEqualTo(org.slf4j.event.Level.INFO);
    assertThat(c.logSettings().audit()).isTrue();
    assertThatThrownBy(() -> load("log.format=xml\n", Map.of()))
        .hasMessageContaining("'log.format' must be text or json");
  }
}
