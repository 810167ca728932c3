package io.tokenbroker.broker.owner;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;

/**
 * A browser session of the verification page, anonymous ({@code username} null) until its owner signs in.
 * Only the SHA-256 of the session id is kept. {@code csrfToken} is the synchronizer token every form of the
 * session carries; it is random, and worthless without the session cookie, which is why it is kept as is.
 */
public record OwnerSession(String idHash, String username, String csrfToken, Instant createdAt, Instant lastSeenAt) {

  public boolean signedIn() {
    return username != null;
  }

  /** Whether the session ended at {@code now}: idle too long, or older than the absolute lifetime. */
  public boolean expired(Instant now, SessionPolicy policy) {
    return !now.isBefore(lastSeenAt.plus(policy.idle())) || !now.isBefore(createdAt.plus(policy.absolute()));
  }

  /** Constant-time comparison of a form's token with this session's. */
  public boolean csrfMatches(String presented) {
    return presented != null && MessageDigest.isEqual(csrfToken.getBytes(StandardCharsets.UTF_8),
        presented.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public String toString() {
    return "OwnerSession[" + (username == null ? "anonymous" : username) + ", createdAt=" + createdAt + "]";
  }
}
