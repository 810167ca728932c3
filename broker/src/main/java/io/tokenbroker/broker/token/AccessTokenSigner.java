package io.tokenbroker.broker.token;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.tokenbroker.broker.keys.KeyOperationException;
import io.tokenbroker.broker.keys.SigningKey;
import java.util.function.Supplier;

/**
 * Signs every JWT the broker issues with the currently active key. Access tokens get the RFC 9068 §2.1 header:
 * {@code typ: at+jwt}, the key's {@code alg} and {@code kid}.
 *
 * <p>Thread-safety: thread-safe.
 */
public final class AccessTokenSigner {
  /** RFC 9068 §2.1: access tokens MUST carry {@code typ} "at+jwt". */
  public static final JOSEObjectType AT_JWT = new JOSEObjectType("at+jwt");

  private final Supplier<SigningKey> activeKey;

  public AccessTokenSigner(Supplier<SigningKey> activeKey) {
    this.activeKey = activeKey;
  }

  /**
   * Signs {@code claims} as an RFC 9068 access token in compact serialisation.
   *
   * @throws KeyOperationException when the HSM cannot sign
   */
  public String signAccessToken(JWTClaimsSet claims) {
    SigningKey key = activeKey.get();
    JWSHeader header = new JWSHeader.Builder(key.algorithm().jwsAlgorithm())
        .type(AT_JWT)
        .keyID(key.kid())
        .build();
    SignedJWT jwt = new SignedJWT(header, claims);
    try {
      jwt.sign(new SigningKeyJwsSigner(key));
    } catch (JOSEException e) {
      if (e.getCause() instanceof KeyOperationException koe) {
        throw koe;
      }
      throw new KeyOperationException("cannot sign the access token: " + e.getMessage(), e);
    }
    return jwt.serialize();
  }
}
