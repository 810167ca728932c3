package io.tokenbroker.verifier.testing;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.UnaryOperator;

/**
 * Mints RFC 9068 access tokens the way the broker does (ES256, {@code kid} = RFC 7638 thumbprint, the broker's
 * claims), with hooks to make them wrong on purpose. Its keys are software keys: the tests that need the HSM run
 * against the real broker.
 */
public final class TestIssuer {
  public static final String ISSUER = "https://broker.test";
  public static final String AUDIENCE = "https://api.example.test";

  private final ECKey key;

  public TestIssuer() {
    key = newKey();
  }

  public static ECKey newKey() {
    try {
      return new ECKeyGenerator(Curve.P_256).algorithm(JWSAlgorithm.ES256).keyUse(KeyUse.SIGNATURE)
          .keyIDFromThumbprint(true).generate();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  public ECKey key() {
    return key;
  }

  /** The public JWK Set the broker would publish. */
  public JWKSet jwks() {
    return new JWKSet(key.toPublicJWK());
  }

  public JWSHeader.Builder header() {
    return new JWSHeader.Builder(JWSAlgorithm.ES256).type(new JOSEObjectType("at+jwt")).keyID(key.getKeyID());
  }

  /** The broker's claims for a DPoP-bound token of device {@code deviceId}, issued at {@code now}. */
  public JWTClaimsSet.Builder claims(String deviceId, Map<String, Object> cnf, Instant now) {
    return new JWTClaimsSet.Builder().issuer(ISSUER).subject(deviceId).audience(List.of(AUDIENCE))
        .claim("client_id", "demo-device").claim("scope", "firmware:read telemetry:write")
        .issueTime(Date.from(now)).expirationTime(Date.from(now.plus(Duration.ofMinutes(5))))
        .jwtID(UUID.randomUUID().toString()).claim("cnf", cnf).claim("sid", "family-" + deviceId);
  }

  /** A correct token bound to {@code jkt}. */
  public String dpopToken(String deviceId, String jkt, Instant now) {
    return token(h -> h, claims(deviceId, Map.of("jkt", jkt), now).build());
  }

  /** A correct token bound to the certificate with thumbprint {@code x5t}. */
  public String mtlsToken(String deviceId, String x5t, Instant now) {
    return token(h -> h, claims(deviceId, Map.of("x5t#S256", x5t), now).build());
  }

  public String token(UnaryOperator<JWSHeader.Builder> header, JWTClaimsSet claims) {
    return DpopTestKey.sign(header.apply(header()).build(), claims, key);
  }
}
