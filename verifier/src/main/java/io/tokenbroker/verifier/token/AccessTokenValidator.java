package io.tokenbroker.verifier.token;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.tokenbroker.verifier.Binding;
import io.tokenbroker.verifier.VerificationError;
import io.tokenbroker.verifier.VerificationException;
import io.tokenbroker.verifier.jwks.SigningKeyCache;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The checks RFC 9068 §4 asks of a resource server, on a JWT access token from the broker: {@code typ} is
 * {@code at+jwt}, {@code alg} is on the allow-list, {@code kid} is a published key and the signature verifies
 * with it, {@code iss} is the broker, {@code aud} names this service, {@code exp}/{@code nbf}/{@code iat} are
 * consistent with now give or take the clock skew, the RFC 9068 §2.2 claims are present, and {@code cnf} binds
 * the token to exactly one key or certificate (the broker issues no unbound tokens).
 *
 * <p>Thread-safety: thread-safe. Every refusal is a {@link VerificationException} with {@code invalid_token} whose
 * description names the failed check and never contains the token.
 */
public final class AccessTokenValidator {
  /** Tokens larger than this are refused before parsing. */
  public static final int MAX_TOKEN_CHARS = 8 * 1024;
  private static final JOSEObjectType AT_JWT = new JOSEObjectType("at+jwt");
  private static final JOSEObjectType APPLICATION_AT_JWT = new JOSEObjectType("application/at+jwt");
  private static final int MAX_CLAIM_CHARS = 4096;

  private final String issuer;
  private final String audience;
  private final Duration clockSkew;
  private final Set<JWSAlgorithm> algorithms;
  private final SigningKeyCache keys;
  private final Clock clock;

  /**
   * @param issuer the broker's issuer identifier, compared exactly with {@code iss}
   * @param audience this service's identifier; {@code aud} must contain it
   * @param clockSkew tolerance on {@code exp}, {@code nbf} and {@code iat}
   * @param algorithms the accepted signature algorithms
   */
  public AccessTokenValidator(String issuer, String audience, Duration clockSkew, Set<JWSAlgorithm> algorithms,
      SigningKeyCache keys, Clock clock) {
    this.issuer = Objects.requireNonNull(issuer, "issuer");
    this.audience = Objects.requireNonNull(audience, "audience");
    this.clockSkew = Objects.requireNonNull(clockSkew, "clockSkew");
    this.algorithms = Set.copyOf(algorithms);
    this.keys = Objects.requireNonNull(keys, "keys");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** Validates {@code token}; see the class comment for the checks. */
  public AccessToken validate(String token) {
    if (token == null || token.isEmpty() || token.length() > MAX_TOKEN_CHARS) {
      throw invalid("the access token must be 1-" + MAX_TOKEN_CHARS + " characters");
    }
    SignedJWT jwt;
    JWTClaimsSet claims;
    try {
      jwt = SignedJWT.parse(token);
      claims = jwt.getJWTClaimsSet();
    } catch (ParseException | IllegalArgumentException e) {
      throw invalid("the access token is not a well-formed signed JWT");
    }
    JWSHeader header = jwt.getHeader();
    // RFC 9068 §4: "verify that the typ header value is at+jwt or application/at+jwt and reject tokens carrying any
    // other type value".
    if (header.getType() == null || !(sameType(AT_JWT, header.getType())
        || sameType(APPLICATION_AT_JWT, header.getType()))) {
      throw invalid("the access token's typ must be at+jwt");
    }
    // RFC 9068 §4: "the resource server MUST validate the signature ... using the algorithm specified in the JWT
    // alg header parameter. The resource server MUST reject any JWT in which the value of alg is none."
    if (!algorithms.contains(header.getAlgorithm())) {
      throw invalid("the access token's alg must be one of " + names(algorithms));
    }
    if (header.getCriticalParams() != null && !header.getCriticalParams().isEmpty()) {
      throw invalid("the access token has critical header parameters this verifier does not understand");
    }
    if (header.getKeyID() == null || header.getKeyID().isEmpty()) {
      throw invalid("the access token has no kid");
    }
    JWSVerifier verifier = keys.verifierFor(header.getKeyID(), header.getAlgorithm());
    try {
      if (!jwt.verify(verifier)) {
        throw invalid("the access token's signature does not verify");
      }
    } catch (JOSEException e) {
      throw invalid("the access token's signature cannot be verified");
    }
    // RFC 9068 §4: iss "MUST exactly match" the issuer identifier.
    if (!issuer.equals(claims.getIssuer())) {
      throw invalid("the access token was not issued by " + issuer);
    }
    // RFC 9068 §4: "MUST validate that the aud claim contains a resource indicator value corresponding to an
    // identifier the resource server expects for itself".
    List<String> aud = claims.getAudience();
    if (aud == null || !aud.contains(audience)) {
      throw invalid("the access token is not meant for audience " + audience);
    }
    // RFC 7519 §4.1.3: StringOrURI values; a null among them would break the principal built from them.
    if (aud.stream().anyMatch(Objects::isNull)) {
      throw invalid("the access token's aud must contain only strings");
    }
    Instant now = clock.instant();
    // RFC 9068 §4: "MUST check that the current time is before the time represented by the exp claim".
    Instant exp = time(claims, "exp");
    if (exp == null) {
      throw invalid("the access token has no exp");
    }
    if (!now.isBefore(exp.plus(clockSkew))) {
      throw invalid("the access token has expired");
    }
    Instant nbf = time(claims, "nbf");
    if (nbf != null && now.isBefore(nbf.minus(clockSkew))) {
      throw invalid("the access token is not valid yet (nbf)");
    }
    Instant iat = time(claims, "iat");
    if (iat == null) {
      throw invalid("the access token has no iat");
    }
    if (iat.isAfter(now.plus(clockSkew))) {
      throw invalid("the access token's iat is in the future");
    }
    String sub = requiredString(claims, "sub");
    String clientId = requiredString(claims, "client_id");
    String jti = requiredString(claims, "jti");
    String scope = optionalString(claims, "scope");
    String sid = optionalString(claims, "sid");
    // RFC 6749 §3.3: scope-tokens separated by spaces, and on spaces only: trim() also strips control characters,
    // which turned a scope of U+0001 followed by "admin" into "admin".
    Set<String> scopes = scope == null ? Set.of()
        : Arrays.stream(scope.split(" ")).filter(s -> !s.isEmpty()).collect(Collectors.toUnmodifiableSet());
    return new AccessToken(sub, clientId, scopes, new LinkedHashSet<>(aud), jti, sid, iat, exp, binding(claims));
  }

  /** RFC 9449 §6.1 / RFC 8705 §3.1: exactly one confirmation method; an unbound token is refused. */
  private static Binding binding(JWTClaimsSet claims) {
    Object cnf = claims.getClaim("cnf");
    if (!(cnf instanceof Map<?, ?> map)) {
      throw invalid("the access token has no cnf claim; unbound (bearer) tokens are not accepted");
    }
    Object jkt = map.get("jkt");
    Object x5t = map.get("x5t#S256");
    if (jkt != null && x5t != null) {
      throw invalid("the access token's cnf names both a DPoP key and a certificate");
    }
    if (jkt instanceof String s && isThumbprint(s)) {
      return new Binding(Binding.Method.DPOP, s);
    }
    if (x5t instanceof String s && isThumbprint(s)) {
      return new Binding(Binding.Method.MTLS, s);
    }
    throw invalid("the access token's cnf has neither a valid jkt nor a valid x5t#S256");
  }

  /** A base64url SHA-256 value: 43 characters of the URL-safe alphabet. */
  private static boolean isThumbprint(String s) {
    return s.length() == 43 && s.chars().allMatch(c -> Character.isLetterOrDigit(c) && c < 128 || c == '-' || c == '_');
  }

  private static boolean sameType(JOSEObjectType expected, JOSEObjectType actual) {
    return expected.getType().equals(actual.getType().toLowerCase(Locale.ROOT));
  }

  private static Instant time(JWTClaimsSet claims, String name) {
    if (claims.getClaim(name) == null) {
      return null;
    }
    try {
      Date d = claims.getDateClaim(name);
      return d.toInstant();
    } catch (ParseException | RuntimeException e) {
      throw invalid("the access token's " + name + " must be a number of seconds");
    }
  }

  private static String requiredString(JWTClaimsSet claims, String name) {
    String value = optionalString(claims, name);
    if (value == null || value.isEmpty()) {
      throw invalid("the access token has no " + name);
    }
    return value;
  }

  private static String optionalString(JWTClaimsSet claims, String name) {
    Object value = claims.getClaim(name);
    if (value == null) {
      return null;
    }
    if (!(value instanceof String s) || s.length() > MAX_CLAIM_CHARS) {
      throw invalid("the access token's " + name + " must be a string of at most " + MAX_CLAIM_CHARS
          + " characters");
    }
    return s;
  }

  private static String names(Set<JWSAlgorithm> algs) {
    return String.join(" ", algs.stream().map(JWSAlgorithm::getName).sorted().toList());
  }

  private static VerificationException invalid(String why) {
    return new VerificationException(VerificationError.INVALID_TOKEN, why);
  }
}
