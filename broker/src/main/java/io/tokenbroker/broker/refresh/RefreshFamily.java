package io.tokenbroker.broker.refresh;

import java.time.Instant;
import java.util.Set;

/**
 * All refresh tokens rotated from one device-flow approval (RFC 9700 §4.14.2). The family holds what every
 * token of it grants and the key or certificate they are bound to; its absolute expiry never moves.
 */
public record RefreshFamily(
    String familyId,
    String deviceId,
    String clientId,
    Set<String> scopes,
    Set<String> audiences,
    String jkt,
    String x5tS256,
    State state,
    Instant createdAt,
    Instant absoluteExpiresAt,
    Instant revokedAt) {

  public enum State { ACTIVE, REVOKED }

  /** What every token of the family is bound to (RFC 9449 §5 / RFC 8705 §4). */
  public io.tokenbroker.broker.binding.TokenBinding binding() {
    return io.tokenbroker.broker.binding.TokenBinding.of(jkt, x5tS256);
  }

  public RefreshFamily {
    scopes = Set.copyOf(scopes);
    audiences = Set.copyOf(audiences);
  }
}
