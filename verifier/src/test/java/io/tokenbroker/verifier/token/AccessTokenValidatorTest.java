package io.tokenbroker.verifier.token;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import io.tokenbroker.verifier.Binding;
import io.tokenbroker.verifier.VerificationError;
import io.tokenbroker.verifier.VerificationException;
import io.tokenbroker.verifier.jwks.JwksSource;
import io.tokenbroker.verifier.jwks.SigningKeyCache;
import io.tokenbroker.verifier.testing.DpopTestKey;
import io.tokenbroker.verifier.testing.MutableClock;
import io.tokenbroker.verifier.testing.TestIssuer;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** RFC 9068 §4 checks, each with a token that passes and one that fails exactly that check. */
class AccessTokenValidatorTest {
  private static final Instant NOW = Instant.parse("2026-06-01T12:00:00Z");
  private static final TestIssuer ISSUER = new TestIssuer();
  private static final String JKT = new DpopTestKey().jkt();

  private final MutableClock clock = new MutableClock(NOW);

  /** A key source that always answers {@code set}. */
  public static JwksSource source(JWKSet set) {
    return new JwksSource() {
      @Override
      public JWKSet fetch() {
        return set;
      }

      @Override
      public String describe() {
        return "test keys";
      }
    };
  }

  private AccessTokenValidator validator(JWKSet keys, Set<JWSAlgorithm> algorithms) {
    SigningKeyCache cache = new SigningKeyCache(source(keys), clock, Duration.ofSeconds(10), Duration.ofMinutes(10),
        algorithms);
    return new AccessTokenValidator(TestIssuer.ISSUER, TestIssuer.AUDIENCE, Duration.ofSeconds(60), algorithms, cache,
        clock);
  }

  private AccessTokenValidator validator() {
    return validator(ISSUER.jwks(), Set.of(JWSAlgorithm.ES256));
  }

  private static String token(UnaryOperator<JWTClaimsSet.Builder> claims) {
    return ISSUER.token(h -> h, claims.apply(ISSUER.claims("device-1", Map.of("jkt", JKT), NOW)).build());
  }

  @Test
  void validateWhenTheTokenIsTheBrokersThenItsClaimsComeBack() {
    AccessToken token = validator().validate(ISSUER.dpopToken("device-1", JKT, NOW));
    assertThat(token.deviceId()).isEqualTo("device-1");
    assertThat(token.clientId()).isEqualTo("demo-device");
    assertThat(token.scopes()).containsExactlyInAnyOrder("telemetry:write", "firmware:read");
    assertThat(token.audiences()).containsExactly(TestIssuer.AUDIENCE);
    assertThat(token.binding()).isEqualTo(new Binding(Binding.Method.DPOP, JKT));
    assertThat(token.refreshFamilyId()).isEqualTo("family-device-1");
    assertThat(token.expiresAt()).isEqualTo(NOW.plusSeconds(300));
  }

  static Stream<Arguments> refusals() {
    DpopTestKey other = new DpopTestKey();
    return Stream.of(
        Arguments.of("typ JWT", ISSUER.token(h -> h.type(JOSEObjectType.JWT), ISSUER.claims("d", Map.of("jkt", JKT),
            NOW).build()), "typ"),
        Arguments.of("no typ", ISSUER.token(h -> new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(ISSUER.key()
            .getKeyID()), ISSUER.claims("d", Map.of("jkt", JKT), NOW).build()), "typ"),
        Arguments.of("unknown kid", ISSUER.token(h -> h.keyID("not-a-published-kid"), ISSUER.claims("d",
            Map.of("jkt", JKT), NOW).build()), "kid"),
        Arguments.of("no kid", ISSUER.token(h -> h.keyID(null), ISSUER.claims("d", Map.of("jkt", JKT), NOW).build()),
            "kid"),
        Arguments.of("signed by another key under the published kid", DpopTestKey.sign(ISSUER.header().build(),
            ISSUER.claims("d", Map.of("jkt", JKT), NOW).build(), other.key()), "signature"),
        Arguments.of("critical header", ISSUER.token(h -> h.criticalParams(Set.of("exp")), ISSUER.claims("d",
            Map.of("jkt", JKT), NOW).build()), "critical"),
        Arguments.of("another issuer", token(c -> c.issuer("https://evil.example")), "issued"),
        Arguments.of("another audience", token(c -> c.audience("https://other.example")), "audience"),
        // Found by TokenVerifierFuzzTests' oracle: accepted here, then a NullPointerException in the verifier.
        Arguments.of("a null among the audiences", token(c -> c.audience(Arrays.asList(TestIssuer.AUDIENCE, null))),
            "aud must contain only strings"),
        Arguments.of("expired beyond the skew", token(c -> c.expirationTime(Date.from(NOW.minusSeconds(61)))),
            "expired"),
        Arguments.of("no exp", token(c -> c.expirationTime(null)), "exp"),
        Arguments.of("nbf beyond the skew", token(c -> c.notBeforeTime(Date.from(NOW.plusSeconds(61)))), "nbf"),
        Arguments.of("iat beyond the skew", token(c -> c.issueTime(Date.from(NOW.plusSeconds(61)))), "iat"),
        Arguments.of("no iat", token(c -> c.issueTime(null)), "iat"),
        Arguments.of("no sub", token(c -> c.subject(null)), "sub"),
        Arguments.of("no client_id", token(c -> c.claim("client_id", null)), "client_id"),
        Arguments.of("no jti", token(c -> c.jwtID(null)), "jti"),
        Arguments.of("scope not a string", token(c -> c.claim("scope", List.of("a"))), "scope"),
        Arguments.of("no cnf (a bearer token)", token(c -> c.claim("cnf", null)), "cnf"),
        Arguments.of("cnf with both bindings", token(c -> c.claim("cnf", Map.of("jkt", JKT, "x5t#S256", JKT))),
            "both"),
        Arguments.of("cnf.jkt not a thumbprint", token(c -> c.claim("cnf", Map.of("jkt", "short"))), "cnf"),
        Arguments.of("not a JWT", "a.b.c", "well-formed"),
        Arguments.of("too long", "a".repeat(AccessTokenValidator.MAX_TOKEN_CHARS + 1), "characters"));
  }

  @Test
  void validateSplitsTheScopeOnSpacesOnly() {
    // RFC 6749 §3.3. A control character is part of the scope-token it touches, not trimmed away into "admin".
    AccessToken token = validator().validate(token(c -> c.claim("scope", "\u0001admin  firmware:read ")));
    assertThat(token.scopes()).containsExactlyInAnyOrder("\u0001admin", "firmware:read");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refusals")
  void validateWhenOneCheckFailsThenInvalidTokenNamesIt(String name, String token, String named) {
    assertThatThrownBy(() -> validator().validate(token)).isInstanceOf(VerificationException.class)
        .hasMessageContaining(named).hasMessageNotContaining(token.substring(0, Math.min(20, token.length())))
        .satisfies(e -> assertThat(((VerificationException) e).error()).isEqualTo(VerificationError.INVALID_TOKEN));
  }

  @Test
  void validateAcceptsTimesInsideTheSkewAndNotOutside() {
    assertThat(validator().validate(token(c -> c.expirationTime(Date.from(NOW.minusSeconds(59)))))).isNotNull();
    assertThat(validator().validate(token(c -> c.issueTime(Date.from(NOW.plusSeconds(60)))))).isNotNull();
    assertThat(validator().validate(token(c -> c.notBeforeTime(Date.from(NOW.plusSeconds(60)))))).isNotNull();
    clock.advance(Duration.ofSeconds(300 + 60));
    assertThatThrownBy(() -> validator().validate(token(c -> c))).hasMessageContaining("expired");
  }

  @Test
  void validateWhenAlgIsNoneOrAMacThenItIsRefused() throws Exception {
    JWTClaimsSet claims = ISSUER.claims("d", Map.of("jkt", JKT), NOW).build();
    String unsigned = new PlainJWT(claims).serialize();
    assertThatThrownBy(() -> validator().validate(unsigned)).hasMessageContaining("well-formed");
    SignedJWT hmac = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).type(new JOSEObjectType("at+jwt"))
        .keyID(ISSUER.key().getKeyID()).build(), claims);
    hmac.sign(new MACSigner(new byte[32]));
    assertThatThrownBy(() -> validator().validate(hmac.serialize())).hasMessageContaining("alg must be one of ES256");
  }

  @Test
  void validateAcceptsPs256OnlyWhenAllowed() throws Exception {
    RSAKey rsa = new RSAKeyGenerator(2048).algorithm(JWSAlgorithm.PS256).keyIDFromThumbprint(true).generate();
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.PS256).type(new JOSEObjectType("at+jwt"))
        .keyID(rsa.getKeyID()).build(), ISSUER.claims("d", Map.of("jkt", JKT), NOW).build());
    jwt.sign(new RSASSASigner(rsa));
    JWKSet keys = new JWKSet(rsa.toPublicJWK());
    assertThatThrownBy(() -> validator(keys, Set.of(JWSAlgorithm.ES256)).validate(jwt.serialize()))
        .hasMessageContaining("alg");
    assertThat(validator(keys, Set.of(JWSAlgorithm.ES256, JWSAlgorithm.PS256)).validate(jwt.serialize()).deviceId())
        .isEqualTo("d");
  }

  @Test
  void validateWhenTheHeaderAlgDiffersFromThePublishedKeysAlgThenItIsRefused() throws Exception {
    RSAKey rsa = new RSAKeyGenerator(2048).algorithm(JWSAlgorithm.PS256).keyIDFromThumbprint(true).generate();
    // An ES256 token that names the PS256 key's kid.
    String token = ISSUER.token(h -> h.keyID(rsa.getKeyID()), ISSUER.claims("d", Map.of("jkt", JKT), NOW).build());
    JWKSet keys = new JWKSet(List.of(rsa.toPublicJWK(), ISSUER.key().toPublicJWK()));
    assertThatThrownBy(() -> validator(keys, Set.of(JWSAlgorithm.ES256, JWSAlgorithm.PS256)).validate(token))
        .hasMessageContaining("alg does not match");
  }
}
