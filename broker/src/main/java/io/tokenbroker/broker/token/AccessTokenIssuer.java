package io.tokenbroker.broker.token;

import com.nimbusds.jwt.JWTClaimsSet;
import io.tokenbroker.broker.binding.TokenBinding;
import io.tokenbroker.broker.oauth.RandomTokens;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.Set;
import java.util.TreeSet;

/**
 * Mints RFC 9068 access tokens: {@code iss}, {@code sub} (the device id), {@code aud}, {@code client_id},
 * {@code scope}, {@code iat}, {@code exp}, {@code jti}, {@code cnf} (RFC 9449 §6.1 {@code jkt} or RFC 8705
 * §3.1 {@code x5t#S256}) and {@code sid} (the refresh family, so verifiers can honour family revocation).
 * There are no unbound tokens.
 */
public final class AccessTokenIssuer {
  private final URI issuer;
  private final AccessTokenSigner signer;

  public AccessTokenIssuer(URI issuer, AccessTokenSigner signer) {
    this.issuer = issuer;
    this.signer = signer;
  }

  /** A signed access token and its lifetime. */
  public record AccessToken(String jwt, String jti, Instant issuedAt, Duration lifetime) {}

  public AccessToken issue(String deviceId, String clientId, Set<String> scopes, Set<String> audiences,
      TokenBinding binding, String familyId, Duration lifetime, Instant now) {
    if (binding == null) {
      throw new IllegalArgumentException("refusing to mint an access token without a key or certificate binding");
    }
    Instant iat = Instant.ofEpochSecond(now.getEpochSecond());
    String jti = RandomTokens.base64Url(16);
    JWTClaimsSet claims = new JWTClaimsSet.Builder()
        .issuer(issuer.toString())
        .subject(deviceId)
        .audience(new ArrayList<>(new TreeSet<>(audiences)))
        .claim("client_id", clientId)
        .claim("scope", String.join(" ", new TreeSet<>(scopes)))
        .issueTime(Date.from(iat))
        .expirationTime(Date.from(iat.plus(lifetime)))
        .jwtID(jti)
        .claim("cnf", binding.cnfClaim())
        .claim("sid", familyId)
        .build();
    return new AccessToken(signer.signAccessToken(claims), jti, iat, lifetime);
  }
}
