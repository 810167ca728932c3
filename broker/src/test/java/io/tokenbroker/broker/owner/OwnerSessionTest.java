package io.tokenbroker.broker.owner;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class OwnerSessionTest {
  private static final Instant T0 = Instant.parse("2026-01-01T10:00:00Z");
  private static final SessionPolicy POLICY = new SessionPolicy(Duration.ofMinutes(15), Duration.ofHours(1));

  @Test
  void endsAfterIdleTimeout() {
    OwnerSession s = new OwnerSession("h", "alice", "csrf", T0, T0.plus(Duration.ofMinutes(10)));
    assertThat(s.expired(T0.plus(Duration.ofMinutes(24)), POLICY)).isFalse();
    assertThat(s.expired(T0.plus(Duration.ofMinutes(25)), POLICY)).isTrue();
  }

  @Test
  void endsAfterAbsoluteTimeoutHoweverActive() {
    OwnerSession s = new OwnerSession("h", "alice", "csrf", T0, T0.plus(Duration.ofMinutes(59)));
    assertThat(s.expired(T0.plus(Duration.ofMinutes(59)), POLICY)).isFalse();
    assertThat(s.expired(T0.plus(Duration.ofMinutes(60)), POLICY)).isTrue();
  }

  @Test
  void csrfTokenMustMatchExactly() {
    OwnerSession s = new OwnerSession("h", null, "token-value", T0, T0);
    assertThat(s.csrfMatches("token-value")).isTrue();
    assertThat(s.csrfMatches("token-valuE")).isFalse();
    assertThat(s.csrfMatches("")).isFalse();
    assertThat(s.csrfMatches(null)).isFalse();
    assertThat(s.signedIn()).isFalse();
  }

  @Test
  void usernamesAreNormalisedToLowerCaseAndRestricted() {
    assertThat(OwnerAccounts.normalizeUsername(" Alice@Example.org ")).isEqualTo(Optional.of("alice@example.org"));
    assertThat(OwnerAccounts.normalizeUsername("<script>")).isEmpty();
    assertThat(OwnerAccounts.normalizeUsername("")).isEmpty();
    assertThat(OwnerAccounts.normalizeUsername("a".repeat(65))).isEmpty();
  }

  @Test
  void toStringNeverShowsSecrets() {
    OwnerSession s = new OwnerSession("hash-of-id", "alice", "csrf-secret", T0, T0);
    assertThat(s.toString()).doesNotContain("hash-of-id").doesNotContain("csrf-secret");
    assertThat(new OwnerSessions.Opened("clear-id", s).toString()).doesNotContain("clear-id");
    assertThat(new OwnerAccount("alice", "$argon2id$secret", T0).toString()).doesNotContain("argon2id");
  }
}
