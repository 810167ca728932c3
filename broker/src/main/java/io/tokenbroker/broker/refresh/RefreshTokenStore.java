package io.tokenbroker.broker.refresh;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** Port: refresh-token families and their tokens. Lookups lock rows until the caller's transaction ends. */
public interface RefreshTokenStore {
  void insertFamily(RefreshFamily family);

  void insertToken(RefreshToken token);

  /**
   * The token with this hash, not locked. Callers lock its device, then its family, and read the token again:
   * every change to a family's tokens happens under the family's lock, and every writer takes locks in the
   * order device, family, revocation sequence, so concurrent redemptions and revocations serialise in the
   * database (also across broker replicas) without deadlocks.
   */
  Optional<RefreshToken> findToken(String tokenHash);

  /** The family, not locked (to learn its device before taking locks in order). */
  Optional<RefreshFamily> findFamily(String familyId);

  /**
   * The family of the token with this hash if that token is ACTIVE, not locked, in one read: what a refresh will
   * most likely find once it holds the locks (it reads again under them).
   */
  Optional<RefreshFamily> findFamilyOfActiveToken(String tokenHash);

  /** The family, locked until the caller's transaction ends. */
  Optional<RefreshFamily> lockFamily(String familyId);

  /** The family's ACTIVE token, if any (read under the family lock). */
  Optional<RefreshToken> activeToken(String familyId);

  /** ACTIVE -> CONSUMED; false when the token was not ACTIVE (nothing changes then). */
  boolean consume(String tokenHash, Instant now);

  /** The family's tokens are bound to {@code binding} from now on (RFC 8705 §4; under the family lock). */
  void rebindFamily(String familyId, io.tokenbroker.broker.binding.TokenBinding binding);

  /** ACTIVE -> REVOKED for one token. */
  void revokeToken(String tokenHash);

  /** The family and every ACTIVE token of it become REVOKED; false when it already was. */
  boolean revokeFamily(String familyId, Instant now);

  /** A family and how many tokens it has issued, for operators. */
  record FamilySummary(RefreshFamily family, int generations) {}

  /** Every family of the device, newest first. */
  List<FamilySummary> familiesOfDevice(String deviceId);

  /** The ids of the device's ACTIVE families. */
  List<String> activeFamiliesOfDevice(String deviceId);

  /**
   * Up to {@code limit} family ids greater than {@code after} ({@code ""} for the first), in id order: the
   * housekeeping's sweep over all families, a page at a time.
   */
  List<String> familyIdsAfter(String after, int limit);

  /**
   * Deletes, in one transaction, the spent (CONSUMED or REVOKED) tokens of these families whose idle lifetime
   * ended before {@code idleEndedBefore}, except each family's newest token (its generation count stays
   * readable). ACTIVE tokens are never deleted. Per family only the {@code maxPerFamily} oldest generations are
   * looked at, so a family with a long backlog is cleared over several calls.
   *
   * @return how many tokens were deleted
   */
  int deleteSpentTokens(List<String> familyIds, Instant idleEndedBefore, int maxPerFamily);
}
