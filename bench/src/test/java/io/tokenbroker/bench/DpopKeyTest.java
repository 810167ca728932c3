package io.tokenbroker.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jwt.SignedJWT;
import org.junit.jupiter.api.Test;

class DpopKeyTest {
  @Test
  void proofIsAnEs256DpopJwtWithFreshJtiSignedByItsJwk() throws Exception {
    DpopKey key = new DpopKey();
    String htu = "https://localhost/tokenbroker.v1.TokenService/Token";
    SignedJWT a = SignedJWT.parse(key.proof(htu));
    SignedJWT b = SignedJWT.parse(key.proof(htu));
    assertThat(a.getHeader().getType().getType()).isEqualTo("dpop+jwt");
    assertThat(a.getHeader().getAlgorithm().getName()).isEqualTo("ES256");
    assertThat(a.getHeader().getJWK().isPrivate()).isFalse();
    assertThat(a.verify(new ECDSAVerifier((ECKey) a.getHeader().getJWK()))).isTrue();
    assertThat(a.getJWTClaimsSet().getStringClaim("htm")).isEqualTo("POST");
    assertThat(a.getJWTClaimsSet().getStringClaim("htu")).isEqualTo(htu);
    assertThat(a.getJWTClaimsSet().getIssueTime()).isNotNull();
    assertThat(a.getJWTClaimsSet().getJWTID()).isNotEqualTo(b.getJWTClaimsSet().getJWTID());
    assertThat(a.getHeader().getJWK().computeThumbprint().toString()).isEqualTo(key.jkt());
  }
}
