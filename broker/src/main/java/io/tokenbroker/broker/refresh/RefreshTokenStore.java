package io.tokenbroker.broker.refresh;

import java.time.Instant;
import java.util.Optional;

/** Port: refresh-token families and their tokens. Lookups lock rows until the caller's transaction ends. */
public interface RefreshTokenStore {
  void insertFamily(RefreshFamily family);

  void insertToken(RefreshToken token);

  /** The token with this hash and its family, both locked. */
  Optional<RefreshToken> lockToken(String tokenHash);

  Optional<RefreshFamily> lockFamily(String familyId);

  /** ACTIVE -> CONSUMED; false when the token was not ACTIVE (nothing changes then). */
  boolean consume(String tokenHash, Instant now);
}
