package io.tokenbroker.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tokenbroker.agent.AgentException;
import io.tokenbroker.agent.ExitCodes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** DEVICE_AGENT_<KEY> variables: they win over the file, are checked like it, and misspelt ones are refused. */
class EnvironmentOverridesTest {
  @TempDir Path dir;

  private static final String MINIMAL = """
      broker.target=broker.example:8443
      broker.external-url=https://broker.example:8443/
      broker.ca-file=ca.crt
      client-id=thermostat
      state-dir=state
      """;

  private AgentConfig load(String text, Map<String, String> env) throws Exception {
    Path file = dir.resolve("agent.properties");
    Files.writeString(file, text);
    return AgentConfig.load(file, env);
  }

  @Test
  void variableNamesAreTheKeysUpperCasedWithUnderscoresAndDistinct() {
    assertThat(ConfigKey.STATE_DIR.environmentVariable()).isEqualTo("DEVICE_AGENT_STATE_DIR");
    assertThat(ConfigKey.BROKER_CA_FILE.environmentVariable()).isEqualTo("DEVICE_AGENT_BROKER_CA_FILE");
    assertThat(ConfigKey.CLIENT_ID.environmentVariable()).isEqualTo("DEVICE_AGENT_CLIENT_ID");
    assertThat(Arrays.stream(ConfigKey.values()).map(ConfigKey::environmentVariable).distinct())
        .hasSize(ConfigKey.values().length);
  }

  @Test
  void environmentWinsOverTheFileAndRelativePathsResolveAgainstTheFilesDirectory() throws Exception {
    AgentConfig config = load(MINIMAL, Map.of("DEVICE_AGENT_STATE_DIR", "elsewhere",
        "DEVICE_AGENT_BROKER_CALL_TIMEOUT", "PT5S", "DEVICE_AGENT_SCOPE", " "));
    assertThat(config.stateDir()).isEqualTo(dir.resolve("elsewhere"));
    assertThat(config.callTimeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(config.scopes()).as("an empty variable counts as unset").isEmpty();
    assertThat(config.clientId()).isEqualTo("thermostat");
  }

  @Test
  void requiredKeysMayComeFromTheEnvironmentAlone() throws Exception {
    AgentConfig config = load("", Map.of("DEVICE_AGENT_BROKER_TARGET", "b.example:443",
        "DEVICE_AGENT_BROKER_EXTERNAL_URL", "https://b.example", "DEVICE_AGENT_BROKER_CA_FILE", "/etc/ca.crt",
        "DEVICE_AGENT_CLIENT_ID", "sensor"));
    assertThat(config.brokerTarget()).isEqualTo("b.example:443");
    assertThat(config.caFile()).isEqualTo(Path.of("/etc/ca.crt"));
  }

  @Test
  void invalidValueIsRefusedNamingTheVariable() {
    assertThatThrownBy(() -> load(MINIMAL, Map.of("DEVICE_AGENT_REFRESH_FRACTION", "2")))
        .isInstanceOf(AgentException.class)
        .hasMessage("environment variable DEVICE_AGENT_REFRESH_FRACTION (config key 'refresh.fraction') must be "
            + "between 0.01 and 0.95")
        .satisfies(e -> assertThat(((AgentException) e).exitCode()).isEqualTo(ExitCodes.CONFIG));
  }

  @Test
  void misspeltVariableThatLooksLikeAKeyIsRefused() {
    assertThatThrownBy(() -> load(MINIMAL, Map.of("DEVICE_AGENT_STATE_DIRECTORY", "/tmp/x")))
        .isInstanceOf(AgentException.class)
        .hasMessageStartingWith("environment variable(s) [DEVICE_AGENT_STATE_DIRECTORY] name no config key");
  }

  @Test
  void launcherAndPinVariablesAreNotSettings() throws Exception {
    AgentConfig config = load(MINIMAL + "pkcs11.pin-env=DEVICE_AGENT_PKCS11_USER_PIN\n", Map.of(
        "DEVICE_AGENT_CONFIG", "/etc/device-agent/agent.properties",
        "DEVICE_AGENT_JAR", "/opt/device-agent/lib/device-agent.jar",
        "DEVICE_AGENT_JAVA_OPTS", "-Xmx32m",
        "DEVICE_AGENT_PKCS11_PIN", "1234",
        "DEVICE_AGENT_PKCS11_USER_PIN", "1234"));
    assertThat(config.pkcs11PinEnv()).isEqualTo("DEVICE_AGENT_PKCS11_USER_PIN");
  }
}
