package io.tokenbroker.broker.token;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.net.URI;
import java.security.Provider;
import java.text.ParseException;
import java.util.Optional;
import java.util.function.Supplier;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/**
 * Reads back an access token this broker issued (for introspection and RFC 7009 revocation): the claims when
 * the signature verifies with a published key and {@code iss} is ours, otherwise nothing. Expiry and
 * revocation are the caller's questions.
 */
public final class IssuedTokenReader {
  /** Tokens larger than this are not ours. */
  public static final int MAX_TOKEN_CHARS = 8 * 1024;
  private static final Provider BOUNCY_CASTLE = new BouncyCastleProvider();

  private final URI issuer;
  private final Supplier<JWKSet> publishedKeys;

  public IssuedTokenReader(URI issuer, Supplier<JWKSet> publishedKeys) {
    this.issuer = issuer;
    this.publishedKeys = publishedKeys;
  }

  public Optional<JWTClaimsSet> read(String token) {
    if (token == null || token.isEmpty() || token.length() > MAX_TOKEN_CHARS) {
      return Optional.empty();
    }
    try {
      SignedJWT jwt = SignedJWT.parse(token);
      if (!AccessTokenSigner.AT_JWT.equals(jwt.getHeader().getType())) {
        return Optional.empty();
      }
      JWK key = publishedKeys.get().getKeyByKeyId(jwt.getHeader().getKeyID());
      if (key == null || !jwt.getHeader().getAlgorithm().equals(key.getAlgorithm())) {
        return Optional.empty();
      }
      JWSVerifier verifier;
      if (key instanceof ECKey ec) {
        ECDSAVerifier ecdsa = new ECDSAVerifier(ec.toECPublicKey(BOUNCY_CASTLE));
        ecdsa.getJCAContext().setProvider(BOUNCY_CASTLE);
        verifier = ecdsa;
      } else {
        verifier = new RSASSAVerifier((RSAKey) key);
      }
      if (!jwt.verify(verifier)) {
        return Optional.empty();
      }
      JWTClaimsSet claims = jwt.getJWTClaimsSet();
      return issuer.toString().equals(claims.getIssuer()) ? Optional.of(claims) : Optional.empty();
    } catch (ParseException | JOSEException | RuntimeException e) {
      return Optional.empty();
    }
  }
}
