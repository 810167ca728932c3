package io.tokenbroker.verifier.revocation;

import java.time.Instant;
import java.util.Optional;

/**
 * A snapshot of the revocation stream's health, for health checks and metrics.
 *
 * @param fresh whether tokens are being accepted: synchronised once and heard from the broker within the
 *     staleness limit
 * @param connected whether a stream is open and past its catch-up phase
 * @param lastHeard when the broker was last heard from (any message), empty if never
 * @param cursor the resume position, empty before the first message
 * @param streamsOpened how many streams were opened, the first included
 * @param lastCatchUpWasFullSnapshot whether the last catch-up was a full snapshot (false: resumed by cursor)
 * @param revokedSubjects how many subjects are on the deny list
 */
public record RevocationStatus(boolean fresh, boolean connected, Optional<Instant> lastHeard, String cursor,
    long streamsOpened, boolean lastCatchUpWasFullSnapshot, int revokedSubjects) {}
