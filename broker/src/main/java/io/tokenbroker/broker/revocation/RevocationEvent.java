package io.tokenbroker.broker.revocation;

import java.time.Instant;

/**
 * One revocation, as verifiers receive it. {@code cursor} is its place in commit order. A verifier refuses a
 * token whose claim matches the subject and whose {@code iat} is at or before {@code revokedAt}; after
 * {@code relevantUntil} every such token has expired and the event can be forgotten.
 */
public record RevocationEvent(long cursor, String eventId, Instant revokedAt, Instant relevantUntil,
    RevocationReason reason, SubjectKind kind, String subject) {}
