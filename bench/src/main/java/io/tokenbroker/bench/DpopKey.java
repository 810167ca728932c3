package io.tokenbroker.bench;

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
import java.security.Provider;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Date;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/**
 * A device's own P-256 key and the RFC 9449 DPoP proofs it makes: header {typ dpop+jwt, alg ES256, jwk}, claims
 * {jti, htm, htu, iat}. Proofs are signed with Bouncy Castle (Nimbus' JCA provider) because the load generator
 * shares the cores with the server and BC signs P-256 faster than SunEC on JDK 17.
 *
 * <p>Thread-safety: one instance per virtual device; {@link #proof} is thread-safe.
 */
final class DpopKey {
  static final Provider BOUNCY_CASTLE = new BouncyCastleProvider();
  private static final JOSEObjectType DPOP_JWT = new JOSEObjectType("dpop+jwt");
  private static final SecureRandom RANDOM = new SecureRandom();

  private final ECKey key;
  private final JWSHeader header;
  private final ECDSASigner signer;

  DpopKey() {
    try {
      key = new ECKeyGenerator(Curve.P_256).provider(BOUNCY_CASTLE).generate();
      header = new JWSHeader.Builder(JWSAlgorithm.ES256).type(DPOP_JWT).jwk(key.toPublicJWK()).build();
      signer = new ECDSASigner(key.toECPrivateKey(), Curve.P_256);
      signer.getJCAContext().setProvider(BOUNCY_CASTLE);
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  /** RFC 7638 thumbprint: what the server puts in {@code cnf.jkt}. */
  String jkt() {
    try {
      return key.toPublicJWK().computeThumbprint().toString();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A fresh proof for {@code POST htu}: new random jti, iat now (whole seconds). */
  String proof(String htu) {
    return proof(htu, null);
  }

  /** The same with {@code ath} (RFC 9449 §4.2), the access token's hash, as a resource server requires; or null. */
  String proof(String htu, String ath) {
    byte[] jti = new byte[16];
    RANDOM.nextBytes(jti);
    JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder()
        .jwtID(Base64.getUrlEncoder().withoutPadding().encodeToString(jti))
        .claim("htm", "POST")
        .claim("htu", htu)
        .issueTime(new Date(System.currentTimeMillis() / 1000 * 1000));
    if (ath != null) {
      claims.claim("ath", ath);
    }
    return sign(claims.build());
  }

  /** The public key as Bouncy Castle's key object, as a verifier holds it. */
  java.security.interfaces.ECPublicKey publicKey() {
    try {
      return key.toECPublicKey(BOUNCY_CASTLE);
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Signs {@code claims} under this key's DPoP header. */
  private String sign(JWTClaimsSet claims) {
    SignedJWT jwt = new SignedJWT(header, claims);
    try {
      jwt.sign(signer);
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
    return jwt.serialize();
  }
}
