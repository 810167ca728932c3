package io.tokenbroker.broker.revocation;

import com.nimbusds.jwt.JWTClaimsSet;
import io.tokenbroker.broker.Transactor;
import io.tokenbroker.broker.audit.AuditEvent;
import io.tokenbroker.broker.audit.AuditLog;
import io.tokenbroker.broker.binding.TokenBinding;
import io.tokenbroker.broker.oauth.OAuthError;
import io.tokenbroker.broker.oauth.OAuthException;
import io.tokenbroker.broker.oauth.SecretHash;
import io.tokenbroker.broker.refresh.RefreshFamily;
import io.tokenbroker.broker.refresh.RefreshToken;
import io.tokenbroker.broker.refresh.RefreshTokenStore;
import io.tokenbroker.broker.token.IssuedTokenReader;
import io.tokenbroker.verifier.dpop.DpopProof;
import io.tokenbroker.verifier.dpop.DpopReplayCache;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * RFC 7009 token revocation by the device itself, with a DPoP proof from the key the token is bound to, or for a
 * certificate-bound token over mutual TLS with that certificate (RFC 8705 §3).
 * Revoking a refresh token revokes its family (RFC 7009 §2.1); revoking an access token publishes its
 * {@code jti}. Unknown, expired or already revoked tokens answer success (RFC 7009 §2.2).
 */
public final class TokenRevocation {
  private static final Duration SKEW = Duration.ofSeconds(60);
  /** How long a revoked refresh family's access tokens can live at most. */
  private static final Duration MAX_ACCESS_TOKEN_LIFETIME = Duration.ofHours(1);

  private final DpopReplayCache replay;
  private final Duration replayRetention;
  private final RefreshTokenStore refreshTokens;
  private final IssuedTokenReader reader;
  private final RevocationLog log;
  private final AuditLog audit;
  private final Transactor transactor;
  private final RevocationListener listener;
  private final Clock clock;

  public TokenRevocation(DpopReplayCache replay, Duration replayRetention, RefreshTokenStore refreshTokens, IssuedTokenReader reader, RevocationLog log,
      AuditLog audit, Transactor transactor, RevocationListener listener, Clock clock) {
    this.replay = replay;
    this.replayRetention = replayRetention;
    this.refreshTokens = refreshTokens;
    this.reader = reader;
    this.log = log;
    this.audit = audit;
    this.transactor = transactor;
    this.listener = listener;
    this.clock = clock;
  }

  /** Revokes {@code token}, which the device proves it holds with {@code proof}. */
  public void revoke(String clientId, String token, DpopProof proof) {
    revoke(clientId, token, new TokenBinding.Jkt(proof.jkt()), proof);
  }

  /**
   * Revokes {@code token} for a caller that proved possession of {@code proven} (its DPoP key, or its TLS client
   * certificate with {@code proof} null).
   */
  public void revoke(String clientId, String token, TokenBinding proven, DpopProof proof) {
    if (token == null || token.isEmpty() || token.length() > IssuedTokenReader.MAX_TOKEN_CHARS) {
      throw new OAuthException(OAuthError.INVALID_REQUEST, "token must be 1-8192 characters");
    }
    boolean changed = transactor.inTransaction(() -> {
      if (proof != null && !replay.firstUse(proof.jkt(), proof.jti(), proof.issuedAt().plus(replayRetention))) {
        throw new OAuthException(OAuthError.INVALID_DPOP_PROOF, "the DPoP proof's jti was already used");
      }
      Optional<RefreshToken> refresh = refreshTokens.findToken(SecretHash.sha256Hex(token));
      if (refresh.isPresent()) {
        RefreshFamily family = refreshTokens.lockFamily(refresh.get().familyId()).orElseThrow();
        requireSameBinding(family.binding(), proven);
        if (!family.clientId().equals(clientId)) {
          return false;
        }
        Instant now = clock.instant();
        if (!refreshTokens.revokeFamily(family.familyId(), now)) {
          return false;
        }
        log.append(now, now.plus(MAX_ACCESS_TOKEN_LIFETIME).plus(SKEW), RevocationReason.TOKEN_REVOKED,
            SubjectKind.REFRESH_FAMILY_ID, family.familyId());
        audit.record(AuditEvent.success("refresh_token_revoked", "device", now).client(clientId)
            .device(family.deviceId()).detail("family", family.familyId()).build());
        return true;
      }
      Optional<JWTClaimsSet> access = reader.read(token);
      if (access.isEmpty() || access.get().getExpirationTime() == null) {
        return false;
      }
      JWTClaimsSet claims = access.get();
      String jkt = Introspection.jkt(claims);
      String x5t = Introspection.x5t(claims);
      if (jkt != null || x5t != null) {
        requireSameBinding(jkt != null ? new TokenBinding.Jkt(jkt) : new TokenBinding.X5tS256(x5t), proven);
      }
      Instant now = clock.instant();
      Instant exp = claims.getExpirationTime().toInstant();
      if (!now.isBefore(exp) || log.isRevoked(SubjectKind.ACCESS_TOKEN_JTI, claims.getJWTID())) {
        return false;
      }
      log.append(now, exp.plus(SKEW), RevocationReason.TOKEN_REVOKED, SubjectKind.ACCESS_TOKEN_JTI,
          claims.getJWTID());
      audit.record(AuditEvent.success("access_token_revoked", "device", now).client(clientId)
          .device(claims.getSubject()).detail("jti", claims.getJWTID()).build());
      return true;
    });
    if (changed) {
      listener.revocationsCommitted();
    }
  }

  private static void requireSameBinding(TokenBinding bound, TokenBinding proven) {
    if (bound.equals(proven)) {
      return;
    }
    if (bound instanceof TokenBinding.Jkt) {
      throw new OAuthException(OAuthError.INVALID_DPOP_PROOF, "the token is bound to another DPoP key");
    }
    throw new OAuthException(OAuthError.INVALID_CLIENT, "the token is bound to another client certificate");
  }
}
