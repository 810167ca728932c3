package io.tokenbroker.broker.refresh;

import java.time.Instant;

/** One refresh token of a family, known only by its SHA-256 hash. At most one per family is ACTIVE. */
public record RefreshToken(
    String tokenHash,
    String familyId,
    int generation,
    Status status,
    Instant issuedAt,
    Instant idleExpiresAt,
    Instant consumedAt) {

  public enum Status { ACTIVE, CONSUMED, REVOKED }
}
