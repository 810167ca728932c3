package io.tokenbroker.broker.refresh;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenbroker.broker.binding.TokenBinding;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** RFC 9449 §5 / RFC 8705 §4: a refresh token is usable only by whoever proves its family's exact binding. */
class RefreshBindingTest {
  private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");
  private static final String CERT = "A".repeat(43);
  private static final String KEY = "B".repeat(43);

  private static RefreshFamily family(String jkt, String x5t) {
    return new RefreshFamily("f", "d", "c", Set.of("s"), Set.of("a"), jkt, x5t, RefreshFamily.State.ACTIVE,
        NOW.minusSeconds(60), NOW.plus(Duration.ofDays(1)), null);
  }

  private static RefreshRotation.Decision decide(RefreshFamily family, TokenBinding proven) {
    RefreshToken active = new RefreshToken("h", "f", 1, RefreshToken.Status.ACTIVE, NOW.minusSeconds(60),
        NOW.plus(Duration.ofHours(1)), null, null);
    return RefreshRotation.decide(active, family, active, "c", proven, Duration.ofSeconds(60), NOW);
  }

  @Test
  void theBoundCertificateRotates() {
    assertThat(decide(family(null, CERT), new TokenBinding.X5tS256(CERT)))
        .isInstanceOf(RefreshRotation.Decision.Rotate.class);
  }

  @Test
  void anotherCertificateADpopKeyOrNothingIsRefusedWithoutBurningTheFamily() {
    RefreshFamily family = family(null, CERT);
    for (TokenBinding proven : new TokenBinding[] {new TokenBinding.X5tS256(KEY), new TokenBinding.Jkt(CERT), null}) {
      RefreshRotation.Decision d = decide(family, proven);
      assertThat(d).as("%s", proven).isInstanceOf(RefreshRotation.Decision.Refuse.class);
      assertThat(((RefreshRotation.Decision.Refuse) d).error().description()).contains("another client certificate");
    }
  }

  @Test
  void aKeyBoundFamilyIsNotUsableWithACertificateOfTheSameValue() {
    RefreshRotation.Decision d = decide(family(KEY, null), new TokenBinding.X5tS256(KEY));
    assertThat(d).isInstanceOf(RefreshRotation.Decision.Refuse.class);
    assertThat(decide(family(KEY, null), new TokenBinding.Jkt(KEY)))
        .isInstanceOf(RefreshRotation.Decision.Rotate.class);
  }
}
