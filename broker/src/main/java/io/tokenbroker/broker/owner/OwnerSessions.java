package io.tokenbroker.broker.owner;

import io.tokenbroker.broker.Transactor;
import io.tokenbroker.broker.audit.AuditEvent;
import io.tokenbroker.broker.audit.AuditLog;
import io.tokenbroker.broker.oauth.RandomTokens;
import io.tokenbroker.broker.oauth.SecretHash;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;

/**
 * Browser sessions of the verification page and signing in. A session id is 256 random bits, given to the
 * browser once and stored only as its SHA-256. Signing in replaces the session with a new one (new id, new
 * CSRF token), so an id planted before sign-in is worthless after it (session fixation).
 *
 * <p>Sign-in attempts are limited per client address and per account ({@link AttemptLimiter}); a blocked
 * attempt is refused before the password is even hashed.
 */
public final class OwnerSessions {
  /** A session together with its id in clear, which exists only here and in the browser's cookie. */
  public record Opened(String id, OwnerSession session) {
    @Override
    public String toString() {
      return "Opened[id redacted, " + session + "]";
    }
  }

  /** What a sign-in attempt gives. */
  public sealed interface SignIn {
    record SignedIn(Opened opened) implements SignIn {}

    /** Wrong username or password (which one is not told). */
    record Refused() implements SignIn {}

    /** Too many failures from this address or for this account; try again at {@code until}. */
    record Blocked(Instant until) implements SignIn {}
  }

  private final OwnerStore store;
  private final PasswordHasher hasher;
  private final SessionPolicy policy;
  private final AttemptLimiter perAddress;
  private final AttemptLimiter perAccount;
  private final AuditLog audit;
  private final Transactor transactor;
  private final Clock clock;

  public OwnerSessions(OwnerStore store, PasswordHasher hasher, SessionPolicy policy, AttemptLimiter perAddress,
      AttemptLimiter perAccount, AuditLog audit, Transactor transactor, Clock clock) {
    this.store = store;
    this.hasher = hasher;
    this.policy = policy;
    this.perAddress = perAddress;
    this.perAccount = perAccount;
    this.audit = audit;
    this.transactor = transactor;
    this.clock = clock;
  }

  public SessionPolicy policy() {
    return policy;
  }

  /** A new anonymous session (it carries the CSRF token of the forms shown before sign-in). */
  public Opened open() {
    return transactor.inTransaction(() -> insert(null, clock.instant()));
  }

  /** The live session with this id, its idle timer restarted; empty when unknown or expired. */
  public Optional<OwnerSession> resume(String id) {
    if (id == null || id.isEmpty() || id.length() > 64) {
      return Optional.empty();
    }
    String hash = SecretHash.sha256Hex(id);
    return transactor.inTransaction(() -> {
      Instant now = clock.instant();
      Optional<OwnerSession> found = store.findSession(hash);
      if (found.isEmpty()) {
        return Optional.empty();
      }
      if (found.get().expired(now, policy)) {
        store.deleteSession(hash);
        return Optional.empty();
      }
      store.touchSession(hash, now);
      OwnerSession s = found.get();
      return Optional.of(new OwnerSession(s.idHash(), s.username(), s.csrfToken(), s.createdAt(), now));
    });
  }

  /**
   * Signs in with {@code username} and {@code password} from {@code clientAddress}; on success {@code current}
   * is replaced by a new signed-in session.
   */
  public SignIn signIn(OwnerSession current, String username, char[] password, String clientAddress) {
    Instant now = clock.instant();
    String addressKey = "address:" + clientAddress;
    Optional<String> name = OwnerAccounts.normalizeUsername(username);
    String accountKey = "account:" + name.orElse("");
    Optional<Instant> blocked = later(perAddress.blockedUntil(addressKey, now),
        name.isPresent() ? perAccount.blockedUntil(accountKey, now) : Optional.empty());
    if (blocked.isPresent()) {
      if (name.isPresent()) {
        transactor.inTransaction(() -> {
          audit.record(AuditEvent.failure("owner_sign_in_blocked", "owner:" + name.get(), now)
              .detail("peer", clientAddress).build());
          return null;
        });
      }
      return new SignIn.Blocked(blocked.get());
    }
    Optional<OwnerAccount> account = name.flatMap(n -> transactor.inTransaction(() -> store.findAccount(n)));
    boolean valid;
    if (account.isPresent()) {
      valid = password != null && password.length <= OwnerAccounts.MAX_PASSWORD
          && hasher.verify(password, account.get().passwordHash());
    } else {
      hasher.verifyDecoy(password == null ? new char[0] : password);
      valid = false;
    }
    if (!valid) {
      perAddress.recordFailure(addressKey, now);
      if (name.isPresent()) {
        perAccount.recordFailure(accountKey, now);
      }
      // The typed username is recorded only when such an account exists: people type passwords into it.
      account.ifPresent(a -> transactor.inTransaction(() -> {
        audit.record(AuditEvent.failure("owner_sign_in_failed", "owner:" + a.username(), now)
            .detail("peer", clientAddress).build());
        return null;
      }));
      return new SignIn.Refused();
    }
    perAccount.clear(accountKey);
    String owner = account.get().username();
    Opened opened = transactor.inTransaction(() -> {
      if (current != null) {
        store.deleteSession(current.idHash());
      }
      audit.record(AuditEvent.success("owner_signed_in", "owner:" + owner, now).detail("peer", clientAddress)
          .build());
      return insert(owner, now);
    });
    return new SignIn.SignedIn(opened);
  }

  /** Ends the session. */
  public void signOut(OwnerSession session) {
    transactor.inTransaction(() -> {
      store.deleteSession(session.idHash());
      return null;
    });
  }

  /** Deletes sessions that have ended; returns how many. */
  public int purgeExpired() {
    Instant now = clock.instant();
    return transactor.inTransaction(() -> store.purgeSessions(now.minus(policy.idle()), now.minus(policy.absolute())));
  }

  private Opened insert(String username, Instant now) {
    String id = RandomTokens.base64Url(32);
    OwnerSession session = new OwnerSession(SecretHash.sha256Hex(id), username, RandomTokens.base64Url(32), now, now);
    store.insertSession(session);
    return new Opened(id, session);
  }

  private static Optional<Instant> later(Optional<Instant> a, Optional<Instant> b) {
    if (a.isEmpty()) {
      return b;
    }
    if (b.isEmpty()) {
      return a;
    }
    return Optional.of(a.get().isAfter(b.get()) ? a.get() : b.get());
  }
}
