package io.tokenbroker.verifier.testing;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.tokenbroker.verifier.TokenVerifier;
import java.time.Instant;
import java.util.Date;
import java.util.UUID;
import java.util.function.UnaryOperator;

/**
 * A device's DPoP key and the proofs it makes (RFC 9449 §4.2), with hooks to make them wrong on purpose. Shared
 * with the broker's and the example's tests through the verifier's test-jar.
 */
public class DpopTestKey {
  private final ECKey key;

  public DpopTestKey() {
    try {
      key = new ECKeyGenerator(Curve.P_256).generate();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  public ECKey key() {
    return key;
  }

  /** RFC 7638 thumbprint of the public key: what {@code cnf.jkt} must be. */
  public String jkt() {
    try {
      return key.toPublicJWK().computeThumbprint().toString();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  public JWSHeader.Builder header() {
    return new JWSHeader.Builder(JWSAlgorithm.ES256).type(new JOSEObjectType("dpop+jwt")).jwk(key.toPublicJWK());
  }

  public JWTClaimsSet.Builder claims(String htu, Instant now) {
    return new JWTClaimsSet.Builder().jwtID(UUID.randomUUID().toString()).claim("htm", "POST").claim("htu", htu)
        .issueTime(Date.from(now));
  }

  /** A correct proof for a POST to {@code htu}. */
  public String proof(String htu) {
    return proof(htu, Instant.now(), h -> h, c -> c);
  }

  /** A correct proof for a POST to {@code htu} that presents {@code accessToken} (RFC 9449 §7: with {@code ath}). */
  public String proof(String htu, String accessToken, Instant now) {
    return proof(htu, now, h -> h, c -> c.claim("ath", TokenVerifier.ath(accessToken)));
  }

  public String proof(String htu, Instant now, UnaryOperator<JWSHeader.Builder> header,
      UnaryOperator<JWTClaimsSet.Builder> claims) {
    return sign(header.apply(header()).build(), claims.apply(claims(htu, now)).build(), key);
  }

  public static String sign(JWSHeader header, JWTClaimsSet claims, ECKey signingKey) {
    try {
      SignedJWT jwt = new SignedJWT(header, claims);
      jwt.sign(new ECDSASigner(signingKey));
      return jwt.serialize();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }
}
