package io.tokenbroker.verifier.jwks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import io.tokenbroker.verifier.VerificationError;
import io.tokenbroker.verifier.VerificationException;
import io.tokenbroker.verifier.testing.FakeBroker;
import io.tokenbroker.verifier.testing.MutableClock;
import io.tokenbroker.verifier.testing.TestIssuer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Key fetching against the broker's JwksService (in-process gRPC, the proto's contract), with real keys. */
class SigningKeyCacheTest {
  private final FakeBroker broker = new FakeBroker();
  private final MutableClock clock = new MutableClock(Instant.parse("2026-06-01T12:00:00Z"));
  private final SigningKeyCache cache = new SigningKeyCache(new GrpcJwksSource(broker.channel(), Duration.ofSeconds(5)),
      clock, Duration.ofSeconds(10), Duration.ofMinutes(10), Set.of(JWSAlgorithm.ES256));
  private final String firstKid = broker.issuer().key().getKeyID();

  @AfterEach
  void stop() throws Exception {
    broker.close();
  }

  @Test
  void verifierForWhenTheBrokerStartsSigningWithANextKeyThenOneRefreshFindsIt() {
    assertThat(cache.verifierFor(firstKid, JWSAlgorithm.ES256)).isNotNull();
    ECKey next = TestIssuer.newKey();
    broker.jwks().publish(new JWKSet(List.of(broker.issuer().key().toPublicJWK(), next.toPublicJWK())));
    clock.advance(Duration.ofSeconds(10));

    assertThat(cache.verifierFor(next.getKeyID(), JWSAlgorithm.ES256)).isNotNull();
    assertThat(broker.jwks().calls()).isEqualTo(2);
  }

  @Test
  void verifierForWhenUnknownKidsFloodInThenTheBrokerIsAskedOncePerInterval() {
    cache.verifierFor(firstKid, JWSAlgorithm.ES256);
    for (int i = 0; i < 50; i++) {
      String kid = "made-up-" + i;
      assertThatThrownBy(() -> cache.verifierFor(kid, JWSAlgorithm.ES256)).isInstanceOf(VerificationException.class)
          .hasMessageContaining("kid");
    }
    // The fetch that found the first key was less than the interval ago: no fetch for any made-up kid.
    assertThat(broker.jwks().calls()).isEqualTo(1);
    clock.advance(Duration.ofSeconds(10));
    for (int i = 0; i < 50; i++) {
      assertThatThrownBy(() -> cache.verifierFor("made-up", JWSAlgorithm.ES256))
          .isInstanceOf(VerificationException.class);
    }
    assertThat(broker.jwks().calls()).isEqualTo(2);
  }

  @Test
  void verifierForWhenTheBrokerIsDownThenTheLastGoodKeysStayInUse() {
    cache.verifierFor(firstKid, JWSAlgorithm.ES256);
    broker.jwks().down(true);
    clock.advance(Duration.ofMinutes(11));
    assertThat(cache.verifierFor(firstKid, JWSAlgorithm.ES256)).isNotNull();
    assertThat(broker.jwks().calls()).isEqualTo(2);
  }

  @Test
  void verifierForWhenNoKeysWereEverFetchedThenTheVerifierIsTemporarilyUnavailable() {
    broker.jwks().down(true);
    assertThatThrownBy(() -> cache.verifierFor(firstKid, JWSAlgorithm.ES256)).isInstanceOf(VerificationException.class)
        .satisfies(e -> assertThat(((VerificationException) e).error())
            .isEqualTo(VerificationError.TEMPORARILY_UNAVAILABLE));
  }

  @Test
  void verifierForWhenAKeyIsRemovedFromTheJwksThenItStopsWorkingAfterTheMaxAge() {
    cache.verifierFor(firstKid, JWSAlgorithm.ES256);
    broker.jwks().publish(new JWKSet(TestIssuer.newKey().toPublicJWK()));
    clock.advance(Duration.ofMinutes(5));
    assertThat(cache.verifierFor(firstKid, JWSAlgorithm.ES256)).isNotNull();
    clock.advance(Duration.ofMinutes(6));
    assertThatThrownBy(() -> cache.verifierFor(firstKid, JWSAlgorithm.ES256)).hasMessageContaining("kid");
  }

  @Test
  void verifierForIgnoresKeysOfAlgorithmsNotAccepted() {
    SigningKeyCache es384Only = new SigningKeyCache(new GrpcJwksSource(broker.channel(), Duration.ofSeconds(5)), clock,
        Duration.ofSeconds(10), Duration.ofMinutes(10), Set.of(JWSAlgorithm.ES384));
    assertThatThrownBy(() -> es384Only.verifierFor(firstKid, JWSAlgorithm.ES256)).hasMessageContaining("kid");
  }
}
