package io.tokenbroker.broker.refresh;

import io.tokenbroker.broker.oauth.OAuthError;
import io.tokenbroker.broker.oauth.OAuthException;
import java.time.Duration;
import java.time.Instant;

/**
 * The decision taken when a refresh token is presented: which checks it must pass and what the successor
 * looks like. Pure; the grant applies it in one transaction.
 */
public final class RefreshRotation {
  private RefreshRotation() {}

  /**
   * Checks that {@code token} of {@code family} may be redeemed at {@code now} with a proof from key
   * {@code proofJkt} by client {@code clientId}.
   *
   * @throws OAuthException INVALID_GRANT when it may not
   */
  public static void check(RefreshToken token, RefreshFamily family, String clientId, String proofJkt,
      Instant now) {
    if (!family.clientId().equals(clientId)) {
      throw invalidGrant("the refresh token was issued to another client");
    }
    if (family.state() != RefreshFamily.State.ACTIVE) {
      throw invalidGrant("the refresh token has been revoked");
    }
    // RFC 9700 §4.14.2: a rotated (consumed) token is no longer valid. Reuse detection, which revokes the
    // whole family, comes with the rotation work; until then the token is simply refused.
    if (token.status() != RefreshToken.Status.ACTIVE) {
      throw invalidGrant("the refresh token is no longer valid");
    }
    if (!now.isBefore(token.idleExpiresAt()) || !now.isBefore(family.absoluteExpiresAt())) {
      throw invalidGrant("the refresh token has expired");
    }
    // RFC 9449 §5: a refresh token bound to a DPoP key is usable only with a proof from that same key.
    if (family.jkt() != null && !family.jkt().equals(proofJkt)) {
      throw invalidGrant("the refresh token is bound to another DPoP key");
    }
  }

  /** When the successor stops being usable: idle lifetime from now, never past the family's absolute bound. */
  public static Instant successorIdleExpiry(RefreshFamily family, Duration idleLifetime, Instant now) {
    Instant idle = now.plus(idleLifetime);
    return idle.isBefore(family.absoluteExpiresAt()) ? idle : family.absoluteExpiresAt();
  }

  private static OAuthException invalidGrant(String why) {
    return new OAuthException(OAuthError.INVALID_GRANT, why);
  }
}
