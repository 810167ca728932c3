package io.tokenbroker.verifier.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenbroker.verifier.TokenVerifier;
import io.tokenbroker.verifier.testing.DpopTestKey;
import io.tokenbroker.verifier.testing.FakeBroker;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The plain-HTTP helper: the statuses and headers a resource server sends. */
class HttpAccessTokenVerifierTest {
  private static final String URI = "https://api.example.test/v1/telemetry";
  private FakeBroker broker;
  private TokenVerifier verifier;
  private HttpAccessTokenVerifier http;
  private final DpopTestKey device = new DpopTestKey();

  @BeforeEach
  void start() throws Exception {
    broker = new FakeBroker();
    verifier = broker.readyVerifier();
    http = new HttpAccessTokenVerifier(verifier);
  }

  @AfterEach
  void stop() throws Exception {
    verifier.close();
    broker.close();
  }

  private String proof(String method, String token) {
    return device.proof(URI, Instant.now(), h -> h, c -> c.claim("htm", method).claim("ath", TokenVerifier.ath(token)));
  }

  @Test
  void verifyWhenTheRequestIsGoodThenThePrincipalComesBackWhateverTheHeaderCase() {
    String token = broker.issuer().dpopToken("device-1", device.jkt(), Instant.now());
    HttpVerification v = http.verify("GET", URI + "?since=10", Map.of("AUTHORIZATION", List.of("DPoP " + token),
        "DPoP", List.of(proof("GET", token))), Optional.empty(), Set.of("telemetry:write"));
    assertThat(v.accepted()).isTrue();
    assertThat(v.principal().orElseThrow().deviceId()).isEqualTo("device-1");
  }

  @Test
  void verifyAnswers401WithChallengesWhenNoTokenIsSent() {
    HttpVerification v = http.verify("GET", URI, Map.of(), Optional.empty(), Set.of());
    assertThat(v.status()).isEqualTo(401);
    assertThat(v.wwwAuthenticate()).containsExactly("DPoP algs=\"ES256 ES384 PS256 EdDSA\"", "Bearer");
  }

  @Test
  void verifyAnswers401ForABadProof400ForTwoAuthorizationsAnd403ForAMissingScope() {
    String token = broker.issuer().dpopToken("device-1", device.jkt(), Instant.now());
    HttpVerification wrongMethod = http.verify("DELETE", URI, Map.of("authorization", List.of("DPoP " + token),
        "dpop", List.of(proof("GET", token))), Optional.empty(), Set.of());
    assertThat(wrongMethod.status()).isEqualTo(401);
    assertThat(wrongMethod.wwwAuthenticate().get(0)).startsWith("DPoP error=\"invalid_dpop_proof\"");

    HttpVerification two = http.verify("GET", URI, Map.of("authorization", List.of("DPoP " + token, "DPoP x")),
        Optional.empty(), Set.of());
    assertThat(two.status()).isEqualTo(400);

    HttpVerification scope = http.verify("GET", URI, Map.of("authorization", List.of("DPoP " + token),
        "dpop", List.of(proof("GET", token))), Optional.empty(), Set.of("admin"));
    assertThat(scope.status()).isEqualTo(403);
    assertThat(scope.wwwAuthenticate().get(0)).contains("insufficient_scope").contains("scope=\"admin\"");
  }
}
