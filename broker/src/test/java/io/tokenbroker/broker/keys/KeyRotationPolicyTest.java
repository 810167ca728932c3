package io.tokenbroker.broker.keys;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class KeyRotationPolicyTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private static final KeyLifecycleSettings SETTINGS = new KeyLifecycleSettings(SigningAlgorithm.ES256,
      Duration.ofDays(30), Duration.ofDays(1), Duration.ofHours(1));
  private final KeyRotationPolicy policy = new KeyRotationPolicy(SETTINGS);

  private static SigningKeyRecord key(String kid, KeyState state, Instant created, Instant activated,
      Instant retired) {
    return new SigningKeyRecord(kid, SigningAlgorithm.ES256, state, "{}", created, activated, retired,
        state == KeyState.REMOVED ? retired : null);
  }

  @Test
  void planWhenNoKeysThenGenerateFirstKey() {
    assertThat(policy.plan(T0, List.of())).containsExactly(new KeyAction.GenerateNext(SigningAlgorithm.ES256));
  }

  @Test
  void planWhenOnlyNextAndNoActiveThenActivateAtOnce() {
    List<SigningKeyRecord> keys = List.of(key("a", KeyState.NEXT, T0, null, null));
    assertThat(policy.plan(T0, keys)).containsExactly(new KeyAction.Activate("a"));
  }

  @Test
  void planWhenActiveWithoutNextThenGenerateNext() {
    List<SigningKeyRecord> keys = List.of(key("a", KeyState.ACTIVE, T0, T0, null));
    assertThat(policy.plan(T0.plusSeconds(1), keys))
        .containsExactly(new KeyAction.GenerateNext(SigningAlgorithm.ES256));
  }

  @Test
  void planWhenActiveAndNextAndPeriodNotElapsedThenNothing() {
    List<SigningKeyRecord> keys = List.of(key("a", KeyState.ACTIVE, T0, T0, null),
        key("b", KeyState.NEXT, T0, null, null));
    assertThat(policy.plan(T0.plus(Duration.ofDays(30)).minusSeconds(1), keys)).isEmpty();
  }

  @Test
  void planWhenPeriodElapsedAndNextPublishedLongEnoughThenActivateNext() {
    List<SigningKeyRecord> keys = List.of(key("a", KeyState.ACTIVE, T0, T0, null),
        key("b", KeyState.NEXT, T0, null, null));
    assertThat(policy.plan(T0.plus(Duration.ofDays(30)), keys)).containsExactly(new KeyAction.Activate("b"));
  }

  @Test
  void planWhenPeriodElapsedButNextTooFreshThenWaitForPublicationLead() {
    Instant nextCreated = T0.plus(Duration.ofDays(29).plusHours(12));
    List<SigningKeyRecord> keys = List.of(key("a", KeyState.ACTIVE, T0, T0, null),
        key("b", KeyState.NEXT, nextCreated, null, null));
    assertThat(policy.plan(T0.plus(Duration.ofDays(30)), keys)).isEmpty();
    assertThat(policy.plan(nextCreated.plus(Duration.ofDays(1)), keys)).containsExactly(new KeyAction.Activate("b"));
  }

  @Test
  void planWhenRotationPeriodZeroThenNeverRotatesAutomatically() {
    KeyRotationPolicy manualOnly = new KeyRotationPolicy(new KeyLifecycleSettings(SigningAlgorithm.ES256,
        Duration.ZERO, Duration.ZERO, Duration.ofHours(1)));
    List<SigningKeyRecord> keys = List.of(key("a", KeyState.ACTIVE, T0, T0, null),
        key("b", KeyState.NEXT, T0, null, null));
    assertThat(manualOnly.plan(T0.plus(Duration.ofDays(3650)), keys)).isEmpty();
  }

  @Test
  void planWhenRetiredKeyRetentionNotOverThenKeepsIt() {
    Instant retired = T0.plus(Duration.ofDays(30));
    List<SigningKeyRecord> keys = List.of(key("old", KeyState.RETIRED, T0, T0, retired),
        key("a", KeyState.ACTIVE, T0, retired, null), key("b", KeyState.NEXT, retired, null, null));
    assertThat(policy.plan(retired.plus(Duration.ofHours(1)).minusMillis(1), keys)).isEmpty();
  }

  @Test
  void planWhenRetiredKeyRetentionOverThenRemoveIt() {
    Instant retired = T0.plus(Duration.ofDays(30));
    List<SigningKeyRecord> keys = List.of(key("old", KeyState.RETIRED, T0, T0, retired),
        key("a", KeyState.ACTIVE, T0, retired, null), key("b", KeyState.NEXT, retired, null, null));
    assertThat(policy.plan(retired.plus(Duration.ofHours(1)), keys)).containsExactly(new KeyAction.Remove("old"));
  }

  @Test
  void planNeverTouchesRemovedKeys() {
    List<SigningKeyRecord> keys = List.of(key("gone", KeyState.REMOVED, T0, T0, T0),
        key("a", KeyState.ACTIVE, T0, T0, null), key("b", KeyState.NEXT, T0, null, null));
    assertThat(policy.plan(T0.plus(Duration.ofDays(1)), keys)).isEmpty();
  }

  @Test
  void planWhenConfiguredForPs256ThenGeneratesPs256() {
    KeyRotationPolicy ps = new KeyRotationPolicy(new KeyLifecycleSettings(SigningAlgorithm.PS256,
        Duration.ofDays(30), Duration.ofDays(1), Duration.ofHours(1)));
    assertThat(ps.plan(T0, List.of())).containsExactly(new KeyAction.GenerateNext(SigningAlgorithm.PS256));
  }
}
