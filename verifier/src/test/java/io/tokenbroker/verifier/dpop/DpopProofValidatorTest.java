package io.tokenbroker.verifier.dpop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tokenbroker.verifier.testing.DpopTestKey;
import io.tokenbroker.verifier.VerificationException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/** The validator on its own, without I/O: the prepared-key cache never replaces a signature check. */
class DpopProofValidatorTest {
  private static final String HTU = "https://broker.example/tokenbroker.v1.TokenService/Token";
  private final Instant now = Instant.parse("2026-06-01T12:00:00Z");
  private final DpopProofValidator validator = new DpopProofValidator(Duration.ofSeconds(60), null,
      Clock.fixed(now, ZoneOffset.UTC));

  @Test
  void validateWhenTheSameKeyProvesAgainThenItsCachedVerifierStillChecksEverySignature() {
    DpopTestKey device = new DpopTestKey();
    DpopProof first = validator.validate(device.proof(HTU, now, h -> h, c -> c), "POST", HTU, null);
    assertThat(first.jkt()).isEqualTo(device.jkt());

    String second = device.proof(HTU, now, h -> h, c -> c);
    String[] parts = second.split("\\.");
    String otherSignature = new DpopTestKey().proof(HTU, now, h -> h, c -> c).split("\\.")[2];
    assertThatThrownBy(() -> validator.validate(parts[0] + "." + parts[1] + "." + otherSignature, "POST", HTU, null))
        .isInstanceOf(VerificationException.class).hasMessageContaining("signature");
    assertThat(validator.validate(second, "POST", HTU, null).jkt()).isEqualTo(device.jkt());
  }

  @Test
  void validateChecksAthWhenAnAccessTokenAccompaniesTheProof() {
    DpopTestKey device = new DpopTestKey();
    String proof = device.proof(HTU, now, h -> h, c -> c.claim("ath", "expected-hash"));
    assertThat(validator.validate(proof, "POST", HTU, "expected-hash").jkt()).isEqualTo(device.jkt());
    assertThatThrownBy(() -> validator.validate(device.proof(HTU, now, h -> h, c -> c.claim("ath", "other")), "POST",
        HTU, "expected-hash")).hasMessageContaining("ath");
  }

  @Test
  void validateAcceptsIatAtTheEdgesOfTheWindowAndNotBeyond() {
    DpopTestKey device = new DpopTestKey();
    assertThat(validator.validate(device.proof(HTU, now.minusSeconds(60), h -> h, c -> c), "POST", HTU, null))
        .isNotNull();
    assertThat(validator.validate(device.proof(HTU, now.plusSeconds(60), h -> h, c -> c), "POST", HTU, null))
        .isNotNull();
    assertThatThrownBy(() -> validator.validate(device.proof(HTU, now.minusSeconds(61), h -> h, c -> c), "POST", HTU,
        null)).hasMessageContaining("iat");
  }
}
