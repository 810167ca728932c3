package io.tokenbroker.agent.dpop;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.tokenbroker.agent.AgentException;
import io.tokenbroker.agent.ExitCodes;
import io.tokenbroker.agent.keys.DpopKey;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Date;

/**
 * Makes RFC 9449 §4.2 proofs with the device's key: header {@code typ: dpop+jwt}, {@code alg: ES256} and the
 * public {@code jwk}; claims {@code jti} (128 random bits), {@code htm}, {@code htu}, {@code iat}, and
 * {@code ath} / {@code nonce} when given. Thread-safe.
 */
public final class DpopProofs {
  private static final JOSEObjectType DPOP_JWT = new JOSEObjectType("dpop+jwt");

  private final DpopKey key;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();
  private final JWSHeader header;

  public DpopProofs(DpopKey key, Clock clock) {
    this.key = key;
    this.clock = clock;
    this.header = new JWSHeader.Builder(JWSAlgorithm.ES256).type(DPOP_JWT).jwk(key.publicJwk()).build();
  }

  /**
   * A proof for one request.
   *
   * @param htm the HTTP method ({@code POST} for gRPC)
   * @param htu the target URI without query and fragment
   * @param accessToken the access token the proof accompanies (its hash goes into {@code ath}), or null
   * @param nonce the server-provided nonce, or null
   */
  public String create(String htm, String htu, String accessToken, String nonce) {
    byte[] jti = new byte[16];
    random.nextBytes(jti);
    JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder()
        .jwtID(Base64URL.encode(jti).toString())
        .claim("htm", htm)
        .claim("htu", htu)
        .issueTime(Date.from(clock.instant()));
    if (accessToken != null) {
      claims.claim("ath", ath(accessToken));
    }
    if (nonce != null) {
      claims.claim("nonce", nonce);
    }
    SignedJWT jwt = new SignedJWT(header, claims.build());
    try {
      jwt.sign(key.signer());
    } catch (JOSEException e) {
      throw new AgentException(ExitCodes.KEY, "cannot sign a DPoP proof with the " + key.description() + ": "
          + e.getMessage());
    }
    return jwt.serialize();
  }

  /** RFC 9449 §4.2: base64url(SHA-256(ASCII(access token))). */
  public static String ath(String accessToken) {
    try {
      byte[] hash = MessageDigest.getInstance("SHA-256").digest(accessToken.getBytes(StandardCharsets.US_ASCII));
      return Base64URL.encode(hash).toString();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  public DpopKey key() {
    return key;
  }
}
