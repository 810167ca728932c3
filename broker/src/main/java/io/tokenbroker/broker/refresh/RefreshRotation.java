package io.tokenbroker.broker.refresh;

import io.tokenbroker.broker.binding.TokenBinding;
import io.tokenbroker.broker.oauth.OAuthError;
import io.tokenbroker.broker.oauth.OAuthException;
import java.time.Duration;
import java.time.Instant;

/**
 * What happens when a refresh token is presented (RFC 9700 §4.14.2): rotation, the narrow grace retry for a
 * lost response, reuse detection, or a plain refusal. Pure: the grant applies the decision in one transaction
 * under the family's lock.
 */
public final class RefreshRotation {
  private RefreshRotation() {}

  /** The decision. */
  public sealed interface Decision {
    /** Consume the presented token and mint its successor. */
    record Rotate() implements Decision {}

    /**
     * The response to the presented token's redemption was lost: revoke its unused successor
     * {@code unusedSuccessor} and mint a fresh one.
     */
    record GraceRetry(RefreshToken unusedSuccessor) implements Decision {}

    /** A rotated token came back outside the grace rule: revoke the whole family. */
    record ReuseDetected(String why) implements Decision {}

    /** Refuse without touching the family. */
    record Refuse(OAuthException error) implements Decision {}
  }

  /**
   * Decides what to do with {@code presented} (a token of {@code family}) redeemed by {@code clientId} at
   * {@code now} by a caller that proved possession of {@code proven} (a DPoP key or a TLS client certificate;
   * null when it proved neither).
   *
   * @param active the family's current ACTIVE token, or null
   * @param grace the client's grace window for lost responses
   */
  public static Decision decide(RefreshToken presented, RefreshFamily family, RefreshToken active, String clientId,
      TokenBinding proven, Duration grace, Instant now) {
    if (!family.clientId().equals(clientId)) {
      return refuse("the refresh token was issued to another client");
    }
    if (family.state() != RefreshFamily.State.ACTIVE) {
      return refuse("the refresh token has been revoked");
    }
    if (!now.isBefore(family.absoluteExpiresAt())) {
      return refuse("the refresh token has expired");
    }
    // RFC 9449 §5 / RFC 8705 §4: a bound refresh token is usable only with the same key or certificate. Someone
    // holding the token without the key cannot use it, so this alone does not burn the family.
    if (!family.binding().equals(proven)) {
      return refuse(family.binding() instanceof TokenBinding.Jkt ? "the refresh token is bound to another DPoP key"
          : "the refresh token is bound to another client certificate");
    }
    if (presented.status() == RefreshToken.Status.ACTIVE) {
      if (!now.isBefore(presented.idleExpiresAt())) {
        return refuse("the refresh token has expired");
      }
      return new Decision.Rotate();
    }
    // Product rule for lost responses: the immediate predecessor of the live token, retried with the bound key
    // within the grace window, before the live token was ever used. Nothing older, nothing later.
    boolean immediatePredecessor = presented.status() == RefreshToken.Status.CONSUMED && active != null
        && presented.tokenHash().equals(active.predecessorHash());
    if (immediatePredecessor && now.isBefore(presented.consumedAt().plus(grace))) {
      return new Decision.GraceRetry(active);
    }
    // RFC 9700 §4.14.2: "If a refresh token is compromised and subsequently used by both the attacker and the
    // legitimate client, one of them will present an invalidated refresh token, which will inform the
    // authorization server of the breach."
    return new Decision.ReuseDetected(immediatePredecessor ? "retry after the grace window"
        : "a rotated refresh token was presented again");
  }

  /** When the successor stops being usable: idle lifetime from now, never past the family's absolute bound. */
  public static Instant successorIdleExpiry(RefreshFamily family, Duration idleLifetime, Instant now) {
    Instant idle = now.plus(idleLifetime);
    return idle.isBefore(family.absoluteExpiresAt()) ? idle : family.absoluteExpiresAt();
  }

  private static Decision refuse(String why) {
    return new Decision.Refuse(new OAuthException(OAuthError.INVALID_GRANT, why));
  }
}
