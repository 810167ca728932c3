package io.tokenbroker.broker.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.nimbusds.jose.JOSEObjectType;
import io.tokenbroker.broker.oauth.OAuthError;
import io.tokenbroker.verifier.VerificationException;
import io.tokenbroker.verifier.dpop.DpopNonces;
import io.tokenbroker.verifier.dpop.DpopProofValidator;
import io.tokenbroker.verifier.testing.DpopTestKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The label a DPoP refusal is counted under comes from the validator's own words: each refusal here is made by
 * the real {@link DpopProofValidator}, so a reworded check that no longer maps to its reason fails this test
 * instead of silently moving to {@code other}.
 */
class DpopRejectionReasonTest {
  private static final String HTU = "https://broker.test/tokenbroker.v1.TokenService/Token";
  private final Clock clock = Clock.systemUTC();
  private final DpopProofValidator validator = new DpopProofValidator(Duration.ofSeconds(60), null, clock);
  private final DpopTestKey key = new DpopTestKey();

  private static DpopRejectionReason reasonOf(Supplier<?> validation) {
    VerificationException e = catchThrowableOfType(VerificationException.class, validation::get);
    assertThat(e).as("the validator refused").isNotNull();
    OAuthError error = e.error().code().equals("use_dpop_nonce") ? OAuthError.USE_DPOP_NONCE
        : OAuthError.INVALID_DPOP_PROOF;
    return DpopRejectionReason.classify(error, e.description());
  }

  private String proof(java.util.function.UnaryOperator<com.nimbusds.jose.JWSHeader.Builder> header,
      java.util.function.UnaryOperator<com.nimbusds.jwt.JWTClaimsSet.Builder> claims) {
    return key.proof(HTU, Instant.now(), header, claims);
  }

  @Test
  void eachCheckOfTheValidatorHasItsOwnReason() {
    assertThat(reasonOf(() -> validator.validate(List.of(), "POST", HTU, null)))
        .isEqualTo(DpopRejectionReason.MISSING);
    assertThat(reasonOf(() -> validator.validate(List.of(key.proof(HTU), key.proof(HTU)), "POST", HTU, null)))
        .isEqualTo(DpopRejectionReason.MULTIPLE);
    assertThat(reasonOf(() -> validator.validate("x".repeat(9000), "POST", HTU, null)))
        .isEqualTo(DpopRejectionReason.TOO_LARGE);
    assertThat(reasonOf(() -> validator.validate("not.a.jwt", "POST", HTU, null)))
        .isEqualTo(DpopRejectionReason.MALFORMED);
    assertThat(reasonOf(() -> validator.validate(proof(h -> h.type(JOSEObjectType.JWT), c -> c), "POST", HTU, null)))
        .isEqualTo(DpopRejectionReason.TYP);
    assertThat(reasonOf(() -> validator.validate(proof(h -> h, c -> c), "GET", HTU, null)))
        .isEqualTo(DpopRejectionReason.HTM);
    assertThat(reasonOf(() -> validator.validate(proof(h -> h, c -> c), "POST", HTU + "x", null)))
        .isEqualTo(DpopRejectionReason.HTU);
    assertThat(reasonOf(() -> validator.validate(key.proof(HTU, Instant.now().minusSeconds(600), h -> h, c -> c),
        "POST", HTU, null))).isEqualTo(DpopRejectionReason.IAT);
    assertThat(reasonOf(() -> validator.validate(proof(h -> h, c -> c.claim("jti", null)), "POST", HTU, null)))
        .isEqualTo(DpopRejectionReason.JTI);
    assertThat(reasonOf(() -> validator.validate(proof(h -> h, c -> c), "POST", HTU, "some-other-ath")))
        .isEqualTo(DpopRejectionReason.ATH);
    DpopProofValidator withNonces = new DpopProofValidator(Duration.ofSeconds(60),
        new DpopNonces(Duration.ofMinutes(5), clock), clock);
    assertThat(reasonOf(() -> withNonces.validate(proof(h -> h, c -> c), "POST", HTU, null)))
        .isEqualTo(DpopRejectionReason.NONCE);
  }

  @Test
  void theBrokersOwnRefusalsHaveTheirReasons() {
    assertThat(DpopRejectionReason.classify(OAuthError.INVALID_DPOP_PROOF, "the DPoP proof's jti was already used"))
        .isEqualTo(DpopRejectionReason.REPLAY);
    assertThat(DpopRejectionReason.classify(OAuthError.INVALID_DPOP_PROOF, "the token is bound to another DPoP key"))
        .isEqualTo(DpopRejectionReason.KEY_MISMATCH);
    assertThat(DpopRejectionReason.classify(OAuthError.INVALID_DPOP_PROOF,
        "the DPoP proof's signature cannot be verified with its jwk")).isEqualTo(DpopRejectionReason.SIGNATURE);
    assertThat(DpopRejectionReason.classify(OAuthError.INVALID_DPOP_PROOF, "the DPoP proof has no jwk header"))
        .isEqualTo(DpopRejectionReason.JWK);
    assertThat(DpopRejectionReason.classify(OAuthError.INVALID_DPOP_PROOF, "something nobody foresaw"))
        .isEqualTo(DpopRejectionReason.OTHER);
  }
}
