package io.tokenbroker.agent.enrol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.tokenbroker.agent.AgentException;
import io.tokenbroker.agent.ExitCodes;
import io.tokenbroker.agent.broker.BrokerClient;
import io.tokenbroker.agent.dpop.DpopProofs;
import io.tokenbroker.agent.keys.SoftwareDpopKey;
import io.tokenbroker.agent.testing.ScriptedBroker;
import io.tokenbroker.proto.v1.ErrorReason;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationResponse;
import io.tokenbroker.proto.v1.TokenResponse;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DeviceLoginTest {
  private final ScriptedBroker broker;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final List<Duration> sleeps = new ArrayList<>();
  private final AtomicLong nanos = new AtomicLong();
  private final DeviceLogin login;

  DeviceLoginTest() throws Exception {
    broker = new ScriptedBroker();
    BrokerClient client = new BrokerClient(broker.channel(), "https://broker.test", "c",
        new DpopProofs(SoftwareDpopKey.generate(), Clock.systemUTC()), Duration.ofSeconds(5));
    login = new DeviceLogin(client, List.of(), List.of(), new PrintStream(out, true, StandardCharsets.UTF_8), d -> {
      sleeps.add(d);
      nanos.addAndGet(d.toNanos());
    }, nanos::get);
  }

  @AfterEach
  void close() {
    broker.close();
  }

  private static StartDeviceAuthorizationResponse started(long expiresIn) {
    return StartDeviceAuthorizationResponse.newBuilder().setDeviceCode("dc").setUserCode("WDJB-MJHT")
        .setVerificationUri("https://broker.test/device")
        .setVerificationUriComplete("https://broker.test/device?user_code=WDJBMJHT")
        .setExpiresIn(com.google.protobuf.Duration.newBuilder().setSeconds(expiresIn))
        .setInterval(com.google.protobuf.Duration.newBuilder().setSeconds(2)).build();
  }

  @Test
  void showsTheCodeAndPollsAtTheIntervalGrowingByFiveSecondsOnSlowDown() throws Exception {
    broker.answers.add(() -> started(600));
    broker.answers.add(() -> ScriptedBroker.error(ErrorReason.ERROR_REASON_AUTHORIZATION_PENDING, "pending", null));
    broker.answers.add(() -> ScriptedBroker.error(ErrorReason.ERROR_REASON_SLOW_DOWN, "slow", null));
    broker.answers.add(() -> ScriptedBroker.error(ErrorReason.ERROR_REASON_AUTHORIZATION_PENDING, "pending", null));
    broker.answers.add(() -> ScriptedBroker.tokens("at", "rt", 300));
    AtomicReference<TokenResponse> got = new AtomicReference<>();
    login.run(false, (t, at) -> got.set(t));
    assertThat(got.get().getRefreshToken()).isEqualTo("rt");
    assertThat(sleeps).containsExactly(Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofSeconds(7),
        Duration.ofSeconds(7));
    assertThat(out.toString(StandardCharsets.UTF_8)).contains("WDJB-MJHT", "https://broker.test/device",
        "https://broker.test/device?user_code=WDJBMJHT").doesNotContain("dc");
  }

  @Test
  void deniedAndExpiredEndWithTheirOwnExitCodes() {
    broker.answers.add(() -> started(600));
    broker.answers.add(() -> ScriptedBroker.error(ErrorReason.ERROR_REASON_ACCESS_DENIED, "denied", null));
    AgentException denied = catchThrowableOfType(AgentException.class, () -> login.run(false, (t, a) -> { }));
    assertThat(denied.exitCode()).isEqualTo(ExitCodes.ACCESS_DENIED);

    broker.answers.add(() -> started(600));
    broker.answers.add(() -> ScriptedBroker.error(ErrorReason.ERROR_REASON_EXPIRED_TOKEN, "expired", null));
    AgentException expired = catchThrowableOfType(AgentException.class, () -> login.run(false, (t, a) -> { }));
    assertThat(expired.exitCode()).isEqualTo(ExitCodes.EXPIRED);
  }

  @Test
  void restartsOnExpiryWhenAsked() throws Exception {
    broker.answers.add(() -> started(600));
    broker.answers.add(() -> ScriptedBroker.error(ErrorReason.ERROR_REASON_EXPIRED_TOKEN, "expired", null));
    broker.answers.add(() -> started(600));
    broker.answers.add(() -> ScriptedBroker.tokens("at", "rt", 300));
    AtomicReference<TokenResponse> got = new AtomicReference<>();
    login.run(true, (t, at) -> got.set(t));
    assertThat(got.get()).isNotNull();
    assertThat(out.toString(StandardCharsets.UTF_8)).contains("starting a new authorization");
  }

  @Test
  void unreachableBrokerIsItsOwnFailure() {
    broker.answers.add(() -> io.grpc.Status.UNAVAILABLE.asRuntimeException());
    AgentException e = catchThrowableOfType(AgentException.class, () -> login.run(false, (t, a) -> { }));
    assertThat(e.exitCode()).isEqualTo(ExitCodes.UNREACHABLE);
  }
}
