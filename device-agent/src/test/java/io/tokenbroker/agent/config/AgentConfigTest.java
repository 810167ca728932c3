package io.tokenbroker.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tokenbroker.agent.AgentException;
import io.tokenbroker.agent.ExitCodes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentConfigTest {
  @TempDir Path dir;

  private static final String MINIMAL = """
      broker.target=broker.example:8443
      broker.external-url=https://broker.example:8443/
      broker.ca-file=ca.crt
      client-id=thermostat
      state-dir=state
      """;

  private AgentConfig load(String text) throws Exception {
    Path file = dir.resolve("agent.properties");
    Files.writeString(file, text);
    return AgentConfig.load(file);
  }

  @Test
  void minimalFileGetsDocumentedDefaultsAndPathsRelativeToTheFile() throws Exception {
    AgentConfig config = load(MINIMAL);
    assertThat(config.externalUrl()).isEqualTo("https://broker.example:8443");
    assertThat(config.caFile()).isEqualTo(dir.resolve("ca.crt"));
    assertThat(config.stateDir()).isEqualTo(dir.resolve("state"));
    assertThat(config.socketPath()).isEqualTo(dir.resolve("state/agent.sock"));
    assertThat(config.deviceSecretFile()).isEqualTo(dir.resolve("state/device.secret"));
    assertThat(config.refreshFraction()).isEqualTo(0.75);
    assertThat(config.maxBackoff()).isEqualTo(Duration.ofMinutes(5));
    assertThat(config.pkcs11Config()).isEmpty();
    assertThat(config.scopes()).isEmpty();
  }

  @Test
  void listsAcceptCommasAndSpaces() throws Exception {
    AgentConfig config = load(MINIMAL + "scope=telemetry:write, firmware:read\nsocket.allowed-uids=1000 1001\n");
    assertThat(config.scopes()).containsExactly("telemetry:write", "firmware:read");
    assertThat(config.allowedUids()).containsExactly(1000, 1001);
  }

  @Test
  void unknownKeyIsRefusedByName() {
    assertThatThrownBy(() -> load(MINIMAL + "refresh.fractoin=0.5\n"))
        .isInstanceOf(AgentException.class)
        .hasMessageContaining("unknown key 'refresh.fractoin'")
        .satisfies(e -> assertThat(((AgentException) e).exitCode()).isEqualTo(ExitCodes.CONFIG));
  }

  @Test
  void wrongTypesAreRefusedNamingTheKey() {
    assertThatThrownBy(() -> load(MINIMAL + "retry.max-backoff=5 minutes\n"))
        .hasMessageContaining("'retry.max-backoff'").hasMessageContaining("ISO-8601");
    assertThatThrownBy(() -> load(MINIMAL + "refresh.fraction=2\n"))
        .hasMessageContaining("'refresh.fraction'");
    assertThatThrownBy(() -> load(MINIMAL + "socket.allowed-gids=wheel\n"))
        .hasMessageContaining("'socket.allowed-gids'");
    assertThatThrownBy(() -> load(MINIMAL.replace("broker.example:8443\n", "broker.example\n")))
        .hasMessageContaining("'broker.target'").hasMessageContaining("host:port");
    assertThatThrownBy(() -> load(MINIMAL.replace("https://broker", "http://broker")))
        .hasMessageContaining("'broker.external-url'");
  }

  @Test
  void missingRequiredKeyIsNamed() {
    assertThatThrownBy(() -> load(MINIMAL.replace("client-id=thermostat\n", "")))
        .hasMessageContaining("'client-id'").hasMessageContaining("required");
  }
}
