package io.tokenbroker.broker.owner;

import java.time.Instant;
import java.util.Optional;

/** Port: owner accounts and their browser sessions. Calls join the caller's transaction. */
public interface OwnerStore {
  /** Inserts the account; false when the username is taken. */
  boolean insertAccount(OwnerAccount account);

  Optional<OwnerAccount> findAccount(String username);

  void insertSession(OwnerSession session);

  Optional<OwnerSession> findSession(String idHash);

  void touchSession(String idHash, Instant now);

  void deleteSession(String idHash);

  /** Deletes sessions last seen before {@code idleBefore} or created before {@code createdBefore}. */
  int purgeSessions(Instant idleBefore, Instant createdBefore);
}
