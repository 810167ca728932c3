package io.tokenbroker.agent.dpop;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jwt.SignedJWT;
import io.tokenbroker.agent.keys.SoftwareDpopKey;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class DpopProofsTest {
  private final Clock clock = Clock.fixed(Instant.parse("2026-11-22T07:00:00Z"), ZoneOffset.UTC);

  @Test
  void proofCarriesRfc9449HeaderAndClaimsAndVerifiesWithItsJwk() throws Exception {
    SoftwareDpopKey key = SoftwareDpopKey.generate();
    DpopProofs proofs = new DpopProofs(key, clock);
    SignedJWT jwt = SignedJWT.parse(proofs.create("POST", "https://api.example/x.Y/Z", "the-token", "n-1"));
    assertThat(jwt.getHeader().getType().toString()).isEqualTo("dpop+jwt");
    assertThat(jwt.getHeader().getAlgorithm().getName()).isEqualTo("ES256");
    ECKey jwk = (ECKey) jwt.getHeader().getJWK();
    assertThat(jwk.isPrivate()).isFalse();
    assertThat(jwt.verify(new ECDSAVerifier(jwk))).isTrue();
    assertThat(jwk.computeThumbprint().toString()).isEqualTo(key.thumbprint());
    var claims = jwt.getJWTClaimsSet();
    assertThat(claims.getStringClaim("htm")).isEqualTo("POST");
    assertThat(claims.getStringClaim("htu")).isEqualTo("https://api.example/x.Y/Z");
    assertThat(claims.getIssueTime().toInstant()).isEqualTo(clock.instant());
    assertThat(claims.getStringClaim("nonce")).isEqualTo("n-1");
    // RFC 9449 §4.2: base64url(SHA-256("the-token"))
    assertThat(claims.getStringClaim("ath")).isEqualTo(DpopProofs.ath("the-token")).hasSize(43);
    assertThat(claims.getJWTID()).hasSizeGreaterThanOrEqualTo(22);
  }

  @Test
  void everyProofHasANewJtiAndOptionalClaimsOnlyWhenGiven() throws Exception {
    DpopProofs proofs = new DpopProofs(SoftwareDpopKey.generate(), clock);
    var a = SignedJWT.parse(proofs.create("POST", "https://b/x", null, null)).getJWTClaimsSet();
    var b = SignedJWT.parse(proofs.create("POST", "https://b/x", null, null)).getJWTClaimsSet();
    assertThat(a.getJWTID()).isNotEqualTo(b.getJWTID());
    assertThat(a.getClaims()).doesNotContainKeys("ath", "nonce");
  }

  @Test
  void softwareKeySurvivesTheStoreRoundTrip() {
    SoftwareDpopKey key = SoftwareDpopKey.generate();
    assertThat(SoftwareDpopKey.fromJwk(key.privateJwkJson()).thumbprint()).isEqualTo(key.thumbprint());
  }
}
