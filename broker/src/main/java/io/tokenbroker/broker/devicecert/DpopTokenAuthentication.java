package io.tokenbroker.broker.devicecert;

import com.nimbusds.jwt.JWTClaimsSet;
import io.tokenbroker.broker.oauth.OAuthError;
import io.tokenbroker.broker.oauth.OAuthException;
import io.tokenbroker.broker.token.IssuedTokenReader;
import io.tokenbroker.verifier.VerificationError;
import io.tokenbroker.verifier.VerificationException;
import io.tokenbroker.verifier.dpop.DpopProof;
import io.tokenbroker.verifier.dpop.DpopProofValidator;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.text.ParseException;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Authenticates a device call made with its DPoP-bound access token (RFC 9449 §7.1): {@code authorization: DPoP
 * <token>} where the token is one this broker issued, unexpired and for the broker's own audience, and a
 * {@code dpop} proof for the call with {@code ath} from the token's bound key. Stateless: the caller records the
 * proof's {@code jti} and checks revocation in its own transaction.
 */
public final class DpopTokenAuthentication {
  /** certificate_service.proto: the access token in {@code authorization} is at most 4 KiB. */
  public static final int MAX_TOKEN_CHARS = 4096;
  private static final String HTM = "POST";

  /** An authenticated caller: the token's claims and the accepted proof. */
  public record Caller(JWTClaimsSet claims, DpopProof proof) {
    public String deviceId() {
      return claims.getSubject();
    }

    public Instant issuedAt() {
      return claims.getIssueTime().toInstant();
    }

    /** The refresh family the token came from ({@code sid}), or null. */
    public String familyId() {
      try {
        return claims.getStringClaim("sid");
      } catch (ParseException e) {
        return null;
      }
    }
  }

  private final IssuedTokenReader tokens;
  private final DpopProofValidator proofs;
  private final String audience;
  private final Clock clock;

  public DpopTokenAuthentication(IssuedTokenReader tokens, DpopProofValidator proofs, String audience, Clock clock) {
    this.tokens = tokens;
    this.proofs = proofs;
    this.audience = audience;
    this.clock = clock;
  }

  /** How long the caller must remember a proof's {@code jti} (RFC 9449 §11.1). */
  public java.time.Duration replayRetention() {
    return proofs.replayRetention();
  }

  public Caller authenticate(String authorization, List<String> proofValues, String htu) {
    String token = dpopToken(authorization);
    JWTClaimsSet claims = tokens.read(token).orElseThrow(() -> invalidToken("the access token is not valid"));
    if (claims.getExpirationTime() == null || claims.getIssueTime() == null || claims.getSubject() == null
        || !clock.instant().isBefore(claims.getExpirationTime().toInstant())) {
      throw invalidToken("the access token has expired");
    }
    if (claims.getAudience() == null || !claims.getAudience().contains(audience)) {
      throw invalidToken("the access token's audience does not include the broker (" + audience + ")");
    }
    String boundJkt = claims.getClaim("cnf") instanceof Map<?, ?> cnf && cnf.get("jkt") instanceof String j
        ? j : null;
    if (boundJkt == null) {
      throw invalidToken("this call needs a DPoP-bound access token (cnf.jkt)");
    }
    DpopProof proof;
    try {
      proof = proofs.validate(proofValues, HTM, htu, sha256(token));
    } catch (VerificationException e) {
      throw new OAuthException(e.error() == VerificationError.USE_DPOP_NONCE ? OAuthError.USE_DPOP_NONCE
          : OAuthError.INVALID_DPOP_PROOF, e.description());
    }
    if (!proof.jkt().equals(boundJkt)) {
      throw new OAuthException(OAuthError.INVALID_DPOP_PROOF, "the DPoP proof is not from the token's bound key");
    }
    return new Caller(claims, proof);
  }

  private static String dpopToken(String authorization) {
    if (authorization == null || authorization.isEmpty()) {
      throw invalidToken("authorization metadata 'DPoP <access token>' is required");
    }
    if (!authorization.regionMatches(true, 0, "DPoP ", 0, 5)) {
      throw invalidToken("the authorization scheme must be DPoP (RFC 9449 §7.1)");
    }
    String token = authorization.substring(5).strip();
    if (token.isEmpty() || token.length() > MAX_TOKEN_CHARS) {
      throw invalidToken("the access token must be 1-" + MAX_TOKEN_CHARS + " characters");
    }
    return token;
  }

  /** RFC 9449 §4.2 {@code ath}: base64url SHA-256 of the ASCII access token. */
  private static String sha256(String token) {
    try {
      return Base64.getUrlEncoder().withoutPadding().encodeToString(
          MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.US_ASCII)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static OAuthException invalidToken(String why) {
    return new OAuthException(OAuthError.INVALID_TOKEN, why);
  }
}
