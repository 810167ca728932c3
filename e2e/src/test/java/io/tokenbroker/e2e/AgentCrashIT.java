package io.tokenbroker.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Power cuts in the middle of a refresh-token rotation: the agent halts itself (Runtime.halt, as SIGKILL) at a
 * named point through its test hook, is started again, and must keep working without a new login. When the
 * broker had already rotated, recovery goes through the broker's grace window, never through reuse detection.
 */
class AgentCrashIT {
  @org.junit.jupiter.api.io.TempDir static Path tmp;
  private static BrokerHome broker;

  @BeforeAll
  static void broker() throws Exception {
    broker = BrokerHome.initAndServe(tmp.resolve("broker"));
    broker.admin("clients", "create", "--client-id", "e2e-crash", "--name", "E2E crash", "--scope",
        "telemetry:write", "--audience", AgentLifecycleIT.AUDIENCE, "--access-token-lifetime", "PT30S");
  }

  @AfterAll
  static void stop() throws Exception {
    broker.close();
  }

  @ParameterizedTest(name = "crash at {0}")
  @CsvSource({"before-request, false", "after-request, true", "after-response, true", "during-write, true"})
  void recoversWithoutANewLogin(String point, boolean brokerHadRotated) throws Exception {
    AgentHome agent = AgentHome.create(tmp.resolve("device-" + point), broker, "e2e-crash", true);
    agent.loginApprovedBy(broker);
    String deviceId;
    try (Proc crashing = agent.start(Map.of("TOKENBROKER_AGENT_TEST_HOOKS", "enabled",
        "TOKENBROKER_AGENT_CRASH_AT", point), "run")) {
      assertThat(crashing.waitFor(Duration.ofSeconds(60))).as(crashing.output()).isEqualTo(137);
      assertThat(crashing.output()).contains("halting at " + point.toUpperCase().replace('-', '_'));
    }
    try (Proc restarted = agent.runDaemon(Map.of())) {
      restarted.awaitLines(AgentHome::isRefresh, 2, Duration.ofSeconds(60));
      assertThat(restarted.output()).contains("retrying the refresh token rotation");
      Proc.Result status = agent.run("status", "--json");
      assertThat(status.exitCode()).as(status.output()).isZero();
      assertThat(status.output()).contains("\"state\":\"ready\"");
      deviceId = status.output().replaceAll("(?s).*\"device_id\":\"([^\"]+)\".*", "$1");
      restarted.stop();
    }
    String audit = broker.admin("audit", "--device", deviceId);
    assertThat(audit).contains("tokens_issued");
    assertThat(audit.contains("refresh_token_grace_retry")).as(audit).isEqualTo(brokerHadRotated);
    assertThat(audit).doesNotContain("refresh_token_reuse");
  }
}
