package io.tokenbroker.broker.refresh;

import java.time.Instant;

/**
 * One refresh token of a family, known only by its SHA-256 hash. At most one per family is ACTIVE.
 * {@code predecessorHash} names the token whose redemption minted this one (null for the first).
 */
public record RefreshToken(
    String tokenHash,
    String familyId,
    int generation,
    Status status,
    Instant issuedAt,
    Instant idleExpiresAt,
    Instant consumedAt,
    String predecessorHash) {

  public enum Status { ACTIVE, CONSUMED, REVOKED }
}
