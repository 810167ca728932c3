package io.tokenbroker.broker.owner;

import java.time.Instant;

/** A device owner who signs in on the verification page. {@code passwordHash} is a PHC Argon2id string. */
public record OwnerAccount(String username, String passwordHash, Instant createdAt) {
  @Override
  public String toString() {
    return "OwnerAccount[" + username + ", createdAt=" + createdAt + "]";
  }
}
