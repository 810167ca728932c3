package io.tokenbroker.verifier.dpop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tokenbroker.verifier.TokenVerifier;
import io.tokenbroker.verifier.VerificationError;
import io.tokenbroker.verifier.VerificationException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/** The examples of RFC 9449 run through the verifier's code. */
class DpopSpecVectorsTest {
  /** RFC 9449 §4.1, Figure 2: a proof for a POST to https://server.example.com/token. */
  static final String RFC_PROOF = "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgt"
      + "MzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2"
      + "R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2Vydm"
      + "VyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiO"
      + "SsX0x7NVY-FNyJK70nfbV37xRZT3Lg";
  /** RFC 9449 §6.1: the thumbprint of that proof's key, as a token's cnf.jkt. */
  static final String RFC_JKT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";
  private static final Instant RFC_IAT = Instant.ofEpochSecond(1562262616);

  private static DpopProofValidator validatorAt(Instant now) {
    return new DpopProofValidator(Duration.ofSeconds(60), null, Clock.fixed(now, ZoneOffset.UTC));
  }

  @Test
  void validateWhenGivenTheRfcExampleProofAtItsTimeThenItsKeyThumbprintIsTheRfcJkt() {
    DpopProof proof = validatorAt(RFC_IAT).validate(RFC_PROOF, "POST", "https://server.example.com/token", null);
    assertThat(proof.jkt()).isEqualTo(RFC_JKT);
    assertThat(proof.jti()).isEqualTo("-BwC3ESc6acc2lTc");
    assertThat(proof.issuedAt()).isEqualTo(RFC_IAT);
  }

  @Test
  void validateWhenTheRfcExampleProofIsUsedTodayThenItsIatIsRefused() {
    assertThatThrownBy(() -> validatorAt(Instant.now()).validate(RFC_PROOF, "POST",
        "https://server.example.com/token", null))
        .isInstanceOf(VerificationException.class).hasMessageContaining("iat")
        .satisfies(e -> assertThat(((VerificationException) e).error()).isEqualTo(VerificationError.INVALID_DPOP_PROOF));
  }

  @Test
  void validateWhenTheRfcExampleProofIsSentToAnotherUriOrWithAnAccessTokenThenItIsRefused() {
    DpopProofValidator validator = validatorAt(RFC_IAT);
    assertThatThrownBy(() -> validator.validate(RFC_PROOF, "POST", "https://resource.example.org/protectedresource",
        null)).hasMessageContaining("htu");
    assertThatThrownBy(() -> validator.validate(RFC_PROOF, "GET", "https://server.example.com/token", null))
        .hasMessageContaining("htm");
    // The example proof has no ath, so it cannot accompany any access token (RFC 9449 §7).
    assertThatThrownBy(() -> validator.validate(RFC_PROOF, "POST", "https://server.example.com/token",
        TokenVerifier.ath("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"))).hasMessageContaining("ath");
  }

  @Test
  void athWhenGivenTheRfcExampleAccessTokenThenItIsTheRfcValue() {
    // RFC 9449 §7.1, Figure 12/13: the access token and the ath of the proof that accompanies it.
    assertThat(TokenVerifier.ath("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"))
        .isEqualTo("fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
  }
}
