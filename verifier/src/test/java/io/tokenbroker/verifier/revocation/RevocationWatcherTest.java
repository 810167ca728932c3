package io.tokenbroker.verifier.revocation;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenbroker.verifier.Binding;
import io.tokenbroker.verifier.testing.FakeBroker;
import io.tokenbroker.verifier.testing.MutableClock;
import io.tokenbroker.verifier.token.AccessToken;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The revocation stream against an in-process RevocationService that follows the proto's cursor semantics. */
class RevocationWatcherTest {
  private final FakeBroker broker = new FakeBroker();
  private final MutableClock clock = new MutableClock(Instant.parse("2026-06-01T12:00:00Z"));
  private final RevocationList list = new RevocationList();
  private final RevocationWatcher watcher = new RevocationWatcher(broker.channel(), list, clock, Duration.ofSeconds(30),
      Duration.ofMillis(20), Duration.ofMillis(100));

  @AfterEach
  void stop() throws Exception {
    watcher.close();
    broker.close();
  }

  private AccessToken tokenOf(String device, Instant iat) {
    return new AccessToken(device, "demo-device", Set.of(), Set.of("aud"), "jti-" + device, null, iat,
        iat.plusSeconds(300), new Binding(Binding.Method.DPOP, "x".repeat(43)));
  }

  private boolean revoked(String device) {
    return list.revocationOf(tokenOf(device, clock.instant().minusSeconds(1)), Optional.empty()).isPresent();
  }

  private static void await(BooleanSupplier condition) throws InterruptedException {
    for (int i = 0; i < 500 && !condition.getAsBoolean(); i++) {
      Thread.sleep(10);
    }
    assertThat(condition.getAsBoolean()).isTrue();
  }

  @Test
  void startGetsTheSnapshotThenLiveEvents() throws Exception {
    broker.revocations().revoke(b -> b.setDeviceId("old"), clock.instant());
    watcher.start();
    assertThat(watcher.awaitFirstSync(Duration.ofSeconds(5))).isTrue();
    assertThat(revoked("old")).isTrue();
    assertThat(watcher.status().lastCatchUpWasFullSnapshot()).isTrue();
    assertThat(watcher.isFresh()).isTrue();

    broker.revocations().revoke(b -> b.setDeviceId("live"), clock.instant());
    await(() -> revoked("live"));
    assertThat(revoked("never")).isFalse();
  }

  @Test
  void afterADisconnectTheWatcherResumesFromItsCursorAndGetsWhatItMissed() throws Exception {
    watcher.start();
    assertThat(watcher.awaitFirstSync(Duration.ofSeconds(5))).isTrue();
    broker.revocations().revoke(b -> b.setDeviceId("a"), clock.instant());
    await(() -> revoked("a"));
    assertThat(watcher.status().cursor()).isEqualTo("1");

    broker.revocations().disconnectAll(true);
    broker.revocations().revoke(b -> b.setDeviceId("while-away"), clock.instant());
    assertThat(revoked("while-away")).isFalse();
    broker.revocations().acceptNew();

    await(() -> revoked("while-away"));
    assertThat(broker.revocations().requestedCursors()).startsWith("").contains("1");
    assertThat(watcher.status().lastCatchUpWasFullSnapshot()).isFalse();
    assertThat(watcher.status().streamsOpened()).isGreaterThan(1);
  }

  @Test
  void endedAsTooFarBehindTheWatcherResumesFromItsCursorAndAfterAbortedFromASnapshot() throws Exception {
    watcher.start();
    assertThat(watcher.awaitFirstSync(Duration.ofSeconds(5))).isTrue();
    broker.revocations().revoke(b -> b.setDeviceId("a"), clock.instant());
    await(() -> revoked("a"));

    // What the broker sends a live stream that fell more than revocation.max-subscriber-lag behind.
    broker.revocations().endAll(io.grpc.Status.RESOURCE_EXHAUSTED.withDescription("this stream fell more than "
        + "10000 revocation events behind; reconnect with the cursor of the last message you processed"), false);
    broker.revocations().revoke(b -> b.setDeviceId("while-away"), clock.instant());
    await(() -> revoked("while-away"));
    assertThat(broker.revocations().requestedCursors()).containsExactly("", "1");
    assertThat(watcher.status().lastCatchUpWasFullSnapshot()).isFalse();

    await(() -> broker.revocations().openStreams() == 1);
    broker.revocations().endAll(io.grpc.Status.ABORTED.withDescription("resync"), false);
    await(() -> broker.revocations().requestedCursors().size() == 3);
    assertThat(broker.revocations().requestedCursors().get(2)).isEmpty();
  }

  @Test
  void whileDisconnectedTheListGoesStaleAfterTheLimitAndFreshAgainOnResume() throws Exception {
    watcher.start();
    assertThat(watcher.awaitFirstSync(Duration.ofSeconds(5))).isTrue();
    broker.revocations().disconnectAll(true);
    clock.advance(Duration.ofSeconds(30));
    assertThat(watcher.isFresh()).isTrue();
    clock.advance(Duration.ofSeconds(1));
    assertThat(watcher.isFresh()).isFalse();

    broker.revocations().acceptNew();
    await(watcher::isFresh);
  }

  @Test
  void heartbeatsKeepAnOpenStreamFresh() throws Exception {
    watcher.start();
    assertThat(watcher.awaitFirstSync(Duration.ofSeconds(5))).isTrue();
    await(() -> broker.revocations().openStreams() == 1);
    clock.advance(Duration.ofSeconds(25));
    Instant heartbeatAt = clock.instant();
    broker.revocations().heartbeat(heartbeatAt);
    await(() -> watcher.status().lastHeard().equals(Optional.of(heartbeatAt)));
    clock.advance(Duration.ofSeconds(25));
    // 50 s after the catch-up, but 25 s after the heartbeat: still fresh.
    assertThat(watcher.isFresh()).isTrue();
    clock.advance(Duration.ofSeconds(6));
    assertThat(watcher.isFresh()).isFalse();
  }

  @Test
  void revocationsAreForgottenAfterTheirRelevantUntil() throws Exception {
    broker.revocations().revoke(b -> b.setDeviceId("old"), clock.instant());
    watcher.start();
    assertThat(watcher.awaitFirstSync(Duration.ofSeconds(5))).isTrue();
    assertThat(list.size()).isEqualTo(1);
    clock.advance(Duration.ofMinutes(7));
    await(() -> list.size() == 0);
  }

  @Test
  void revocationListMatchesSubjectsByIatRoundedUpToTheSecond() {
    RevocationList l = new RevocationList();
    Instant revokedAt = Instant.parse("2026-06-01T12:00:00.300Z");
    l.apply(io.tokenbroker.proto.v1.RevocationEvent.newBuilder().setId("1").setCursor("1").setDeviceId("d")
        .setRevokedAt(io.tokenbroker.verifier.testing.FakeRevocationService.timestamp(revokedAt))
        .setRelevantUntil(io.tokenbroker.verifier.testing.FakeRevocationService.timestamp(revokedAt.plusSeconds(600)))
        .build());
    assertThat(l.revocationOf(tokenOf("d", Instant.parse("2026-06-01T12:00:01Z")), Optional.empty())).isPresent();
    assertThat(l.revocationOf(tokenOf("d", Instant.parse("2026-06-01T12:00:02Z")), Optional.empty())).isEmpty();
    assertThat(l.revocationOf(tokenOf("other", Instant.parse("2026-06-01T11:00:00Z")), Optional.empty())).isEmpty();
    assertThat(List.of(l.size())).containsExactly(1);
  }
}
