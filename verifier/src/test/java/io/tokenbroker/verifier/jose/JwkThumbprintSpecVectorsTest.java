package io.tokenbroker.verifier.jose;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import org.junit.jupiter.api.Test;

/** RFC 7638 §3.1: the worked example of a JWK thumbprint, which is how the broker names its keys. */
class JwkThumbprintSpecVectorsTest {
  private static final String RFC7638_EXAMPLE_JWK = """
      {"kty":"RSA",
       "n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
       "e":"AQAB",
       "alg":"RS256",
       "kid":"2011-04-29"}
      """;

  @Test
  void sha256WhenRfc7638ExampleKeyThenRfcThumbprint() throws Exception {
    assertThat(JwkThumbprint.sha256(JWK.parse(RFC7638_EXAMPLE_JWK)))
        .isEqualTo("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  }

  @Test
  void sha256IgnoresNonRequiredMembersSuchAsKidAndAlg() throws Exception {
    JWK bare = new RSAKey.Builder(JWK.parse(RFC7638_EXAMPLE_JWK).toRSAKey()).keyID(null).algorithm(null).build();
    assertThat(bare.getKeyID()).isNull();
    assertThat(bare.getAlgorithm()).isNull();
    assertThat(JwkThumbprint.sha256(bare)).isEqualTo("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  }

  @Test
  void sha256WhenModulusChangesThenThumbprintChanges() throws Exception {
    String other = RFC7638_EXAMPLE_JWK.replace("\"n\":\"0vx7", "\"n\":\"1vx7");
    assertThat(JwkThumbprint.sha256(JWK.parse(other))).isNotEqualTo("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  }
}
