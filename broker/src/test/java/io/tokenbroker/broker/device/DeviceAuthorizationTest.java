package io.tokenbroker.broker.device;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenbroker.broker.device.DeviceAuthorization.PollOutcome;
import io.tokenbroker.broker.device.DeviceAuthorization.Status;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The RFC 8628 §3.5 polling state machine, without I/O. */
class DeviceAuthorizationTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  private static DeviceAuthorization pending() {
    return new DeviceAuthorization("id", "dc", "uc", "client", Set.of("s"), Set.of("a"), Status.PENDING, T0,
        T0.plusSeconds(600), Duration.ofSeconds(5), null, null, null, null);
  }

  @Test
  void pollWhenPendingThenPendingAndThePollIsRemembered() {
    PollOutcome o = pending().poll(T0.plusSeconds(1));
    assertThat(o).isInstanceOf(PollOutcome.Pending.class);
    assertThat(o.next().lastPolledAt()).isEqualTo(T0.plusSeconds(1));
    assertThat(o.next().status()).isEqualTo(Status.PENDING);
  }

  @Test
  void pollWhenFasterThanIntervalThenSlowDownAndIntervalGrowsByFiveSeconds() {
    DeviceAuthorization polled = pending().poll(T0).next();
    PollOutcome o = polled.poll(T0.plusSeconds(4));
    assertThat(o).isInstanceOf(PollOutcome.SlowDown.class);
    assertThat(o.next().interval()).isEqualTo(Duration.ofSeconds(10));
    assertThat(o.next().poll(T0.plusSeconds(13))).isInstanceOf(PollOutcome.SlowDown.class);
  }

  @Test
  void pollAtExactlyTheIntervalIsNotTooFast() {
    DeviceAuthorization polled = pending().poll(T0).next();
    assertThat(polled.poll(T0.plusSeconds(5))).isInstanceOf(PollOutcome.Pending.class);
  }

  @Test
  void pollWhenApprovedThenIssueAndConsumed() {
    DeviceAuthorization approved = pending().approve("alice", "dev-1", T0.plusSeconds(2));
    PollOutcome o = approved.poll(T0.plusSeconds(3));
    assertThat(o).isInstanceOf(PollOutcome.Issue.class);
    assertThat(o.next().status()).isEqualTo(Status.CONSUMED);
    assertThat(o.next().deviceId()).isEqualTo("dev-1");
    assertThat(o.next().poll(T0.plusSeconds(30))).isInstanceOf(PollOutcome.AlreadyUsed.class);
  }

  @Test
  void pollWhenDeniedThenDenied() {
    assertThat(pending().deny(T0).poll(T0.plusSeconds(1))).isInstanceOf(PollOutcome.Denied.class);
  }

  @Test
  void pollAtOrAfterExpiryThenExpiredWhateverTheDecision() {
    assertThat(pending().poll(T0.plusSeconds(600))).isInstanceOf(PollOutcome.Expired.class);
    assertThat(pending().approve("a", "d", T0).poll(T0.plusSeconds(601))).isInstanceOf(PollOutcome.Expired.class);
    assertThat(pending().poll(T0.plusSeconds(599))).isInstanceOf(PollOutcome.Pending.class);
  }

  @Test
  void awaitingDecisionOnlyWhilePendingAndUnexpired() {
    assertThat(pending().awaitingDecision(T0)).isTrue();
    assertThat(pending().awaitingDecision(T0.plusSeconds(600))).isFalse();
    assertThat(pending().deny(T0).awaitingDecision(T0)).isFalse();
  }
}
