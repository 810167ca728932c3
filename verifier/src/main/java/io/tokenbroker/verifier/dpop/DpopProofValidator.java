package io.tokenbroker.verifier.dpop;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.tokenbroker.verifier.VerificationError;
import io.tokenbroker.verifier.VerificationException;
import io.tokenbroker.verifier.jose.BouncyCastleEcdsaVerifier;
import io.tokenbroker.verifier.jose.JwkThumbprint;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Checks a DPoP proof JWT as RFC 9449 §4.3 requires, apart from {@code jti} replay (the caller records the
 * {@code jti} in the shared {@link DpopReplayCache} inside its transaction).
 *
 * <p>Every failure is an {@link VerificationException} with {@code INVALID_DPOP_PROOF} (or {@code USE_DPOP_NONCE}),
 * whose description names the failed check; it never echoes the proof.
 *
 * <p>Accepted algorithms: ES256, ES384, PS256 and EdDSA (Ed25519, through the JDK). ECDSA signatures are
 * verified with Bouncy Castle, about ten times faster than SunEC here (DESIGN.md).
 *
 * <p>Thread-safety: thread-safe.
 */
public final class DpopProofValidator {
  /** RFC 9449 §4.2: the proof's media type. */
  public static final JOSEObjectType DPOP_JWT = new JOSEObjectType("dpop+jwt");
  /** Proofs larger than this are refused before parsing. */
  public static final int MAX_PROOF_CHARS = 8 * 1024;
  private static final int MAX_JTI_CHARS = 256;
  private static final int MIN_RSA_BITS = 2048;
  private static final int MAX_CACHED_REQUEST_URIS = 1024;
  /** Asymmetric algorithms only; never {@code none} or a MAC (RFC 9449 §4.2). */
  private static final Map<JWSAlgorithm, Curve> ALLOWED = Map.of(
      JWSAlgorithm.ES256, Curve.P_256,
      JWSAlgorithm.ES384, Curve.P_384,
      JWSAlgorithm.PS256, new Curve("RSA"),
      JWSAlgorithm.EdDSA, Curve.Ed25519);

  private final Duration iatWindow;
  private final Clock clock;
  private final DpopNonces nonces;
  /**
   * Verifiers with their public keys already decoded into Bouncy Castle form, by RFC 7638 thumbprint: a device
   * proves with the same key for years, and preparing the key is half the cost of a proof check (DESIGN.md).
   */
  private final PreparedVerifiers verifiers = new PreparedVerifiers(10_000);
  private final Map<String, Optional<String>> normalizedRequestUris = new ConcurrentHashMap<>();

  /**
   * @param iatWindow how far a proof's {@code iat} may be from now, either way
   * @param nonces server nonces, or null when proofs need none
   */
  public DpopProofValidator(Duration iatWindow, DpopNonces nonces, Clock clock) {
    this.iatWindow = iatWindow;
    this.nonces = nonces;
    this.clock = clock;
  }

  /** How long a replay record must be kept for a proof accepted now. */
  public Duration replayRetention() {
    return iatWindow.multipliedBy(2);
  }

  /**
   * Validates the {@code DPoP} header values of a request: RFC 9449 §4.3 check 1 wants exactly one.
   *
   * @see #validate(String, String, String, String)
   */
  public DpopProof validate(List<String> headerValues, String htm, String htu, String expectedAth) {
    if (headerValues.size() > 1) {
      throw invalid("exactly one DPoP proof is allowed per call");
    }
    return validate(headerValues.isEmpty() ? null : headerValues.get(0), htm, htu, expectedAth);
  }

  /**
   * Validates {@code proof} for a request with method {@code htm} to {@code htu}.
   *
   * @param expectedAth base64url SHA-256 of the access token sent with the request, or null when none is
   */
  public DpopProof validate(String proof, String htm, String htu, String expectedAth) {
    if (proof == null || proof.isEmpty()) {
      throw invalid("a DPoP proof is required in the 'dpop' metadata");
    }
    if (proof.length() > MAX_PROOF_CHARS) {
      throw invalid("the DPoP proof is larger than " + MAX_PROOF_CHARS + " characters");
    }
    SignedJWT jwt;
    JWTClaimsSet claims;
    try {
      jwt = SignedJWT.parse(proof);
      claims = jwt.getJWTClaimsSet();
    } catch (ParseException | IllegalArgumentException e) {
      throw invalid("the DPoP proof is not a well-formed signed JWT");
    }
    JWSHeader header = jwt.getHeader();
    // RFC 9449 §4.3 check 4: typ is dpop+jwt.
    if (!DPOP_JWT.equals(header.getType())) {
      throw invalid("the DPoP proof's typ must be dpop+jwt");
    }
    // Check 5: an asymmetric algorithm the server supports; never none or MAC.
    Curve expectedCurve = ALLOWED.get(header.getAlgorithm());
    if (expectedCurve == null) {
      throw invalid("the DPoP proof's alg must be one of ES256, ES384, PS256, EdDSA");
    }
    if (header.getCriticalParams() != null && !header.getCriticalParams().isEmpty()) {
      throw invalid("the DPoP proof has critical header parameters this server does not understand");
    }
    // Check 6: the jwk header is a public key.
    JWK jwk = header.getJWK();
    if (jwk == null) {
      throw invalid("the DPoP proof has no jwk header");
    }
    if (jwk.isPrivate()) {
      throw invalid("the DPoP proof's jwk must not contain a private key");
    }
    // Not private, so it is the public key as it stands (toPublicJWK would check the point on the curve again).
    JWK publicJwk = jwk;
    String jkt = JwkThumbprint.sha256(publicJwk);
    requireKeyMatchesAlgorithm(header.getAlgorithm(), expectedCurve, publicJwk);
    JWSVerifier verifier = verifiers.get(jkt, () -> verifierFor(header.getAlgorithm(), expectedCurve, publicJwk));
    // Check 7: the signature verifies with that key.
    try {
      if (!jwt.verify(verifier)) {
        throw invalid("the DPoP proof's signature does not verify with its jwk");
      }
    } catch (JOSEException e) {
      throw invalid("the DPoP proof's signature cannot be verified with its jwk");
    }
    // Check 8: the claims.
    String jti = stringClaim(claims, "jti");
    if (jti == null || jti.isEmpty() || jti.length() > MAX_JTI_CHARS) {
      throw invalid("the DPoP proof needs a jti of 1-" + MAX_JTI_CHARS + " characters");
    }
    String proofHtm = stringClaim(claims, "htm");
    if (proofHtm == null) {
      throw invalid("the DPoP proof has no htm claim");
    }
    if (!proofHtm.equals(htm)) {
      throw invalid("the DPoP proof's htm does not match the request method " + htm);
    }
    String proofHtu = stringClaim(claims, "htu");
    if (proofHtu == null) {
      throw invalid("the DPoP proof has no htu claim");
    }
    // Check 9. A proof's htu is almost always the very string the request URI is, so the (cached) normal form of
    // the request URI suffices then; any other spelling is normalised and compared.
    Optional<String> expectedHtu = normalizedRequestUri(htu);
    if (expectedHtu.isEmpty()
        || !(proofHtu.equals(htu) || expectedHtu.equals(HtuNormalizer.normalize(proofHtu)))) {
      throw invalid("the DPoP proof's htu does not match " + htu);
    }
    Instant iat = issuedAt(claims);
    Instant now = clock.instant();
    if (iat.isBefore(now.minus(iatWindow)) || iat.isAfter(now.plus(iatWindow))) {
      throw invalid("the DPoP proof's iat is more than " + iatWindow.toSeconds() + " s from the server's time");
    }
    String ath = stringClaim(claims, "ath");
    if (expectedAth != null && !expectedAth.equals(ath)) {
      throw invalid("the DPoP proof's ath does not match the access token");
    }
    // RFC 9449 §8: once the server requires nonces, a proof without a current one gets use_dpop_nonce.
    if (nonces != null) {
      String nonce = stringClaim(claims, "nonce");
      if (nonce == null || !nonces.isValid(nonce)) {
        throw new VerificationException(VerificationError.USE_DPOP_NONCE,
            "the authorization server requires a DPoP nonce; use the one in the 'dpop-nonce' metadata");
      }
    }
    return new DpopProof(jkt, jti, iat);
  }

  /**
   * The normal form of a request URI, cached: a service answers on a handful of URIs. Bounded, because a plain-HTTP
   * service's request URIs come from its callers; past the bound they are normalised every time.
   */
  private Optional<String> normalizedRequestUri(String uri) {
    if (uri == null) {
      return Optional.empty();
    }
    Optional<String> cached = normalizedRequestUris.get(uri);
    if (cached != null) {
      return cached;
    }
    Optional<String> normalized = HtuNormalizer.normalize(uri);
    if (normalizedRequestUris.size() < MAX_CACHED_REQUEST_URIS) {
      normalizedRequestUris.putIfAbsent(uri, normalized);
    }
    return normalized;
  }

  /** The jwk's type and curve must fit the algorithm before a (cached) verifier is used for it. */
  private static void requireKeyMatchesAlgorithm(JWSAlgorithm alg, Curve expectedCurve, JWK jwk) {
    boolean fits = (jwk instanceof ECKey ec && alg.getName().startsWith("ES") && expectedCurve.equals(ec.getCurve()))
        || (jwk instanceof OctetKeyPair okp && JWSAlgorithm.EdDSA.equals(alg) && expectedCurve.equals(okp.getCurve()))
        || (jwk instanceof RSAKey && alg.getName().startsWith("PS"));
    if (!fits) {
      throw invalid("the DPoP proof's jwk type or curve does not match alg " + alg);
    }
  }

  private static JWSVerifier verifierFor(JWSAlgorithm alg, Curve expectedCurve, JWK jwk) {
    try {
      if (jwk instanceof ECKey ec && alg.getName().startsWith("ES")) {
        if (!expectedCurve.equals(ec.getCurve())) {
          throw invalid("the DPoP proof's jwk curve does not match alg " + alg);
        }
        // The same verifier as for access tokens: Bouncy Castle on its specialised curve, and the key object
        // (with its precomputed multiples, built on first use) kept with the prepared verifier.
        return new BouncyCastleEcdsaVerifier(alg, ec);
      }
      if (jwk instanceof OctetKeyPair okp && JWSAlgorithm.EdDSA.equals(alg)) {
        if (!expectedCurve.equals(okp.getCurve())) {
          throw invalid("the DPoP proof's jwk curve does not match alg " + alg);
        }
        return new Ed25519Verifier(okp);
      }
      if (jwk instanceof RSAKey rsa && alg.getName().startsWith("PS")) {
        if (rsa.size() < MIN_RSA_BITS) {
          throw invalid("the DPoP proof's RSA key is shorter than " + MIN_RSA_BITS + " bits");
        }
        return new RSASSAVerifier(rsa);
      }
    } catch (JOSEException e) {
      throw invalid("the DPoP proof's jwk is not a usable public key");
    }
    throw invalid("the DPoP proof's jwk type does not match alg " + alg);
  }

  private static String stringClaim(JWTClaimsSet claims, String name) {
    Object value = claims.getClaim(name);
    if (value == null) {
      return null;
    }
    if (!(value instanceof String s)) {
      throw invalid("the DPoP proof's " + name + " claim must be a string");
    }
    return s;
  }

  private static Instant issuedAt(JWTClaimsSet claims) {
    Object raw = claims.getClaim("iat");
    if (raw == null) {
      throw invalid("the DPoP proof has no iat claim");
    }
    try {
      Date iat = claims.getIssueTime();
      return iat.toInstant();
    } catch (RuntimeException e) {
      throw invalid("the DPoP proof's iat must be a number of seconds");
    }
  }

  private static VerificationException invalid(String why) {
    return new VerificationException(VerificationError.INVALID_DPOP_PROOF, why);
  }
}
