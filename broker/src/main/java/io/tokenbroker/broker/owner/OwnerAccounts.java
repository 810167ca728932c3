package io.tokenbroker.broker.owner;

import io.tokenbroker.broker.Transactor;
import io.tokenbroker.broker.audit.AuditEvent;
import io.tokenbroker.broker.audit.AuditLog;
import io.tokenbroker.broker.oauth.OAuthError;
import io.tokenbroker.broker.oauth.OAuthException;
import java.time.Clock;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/** Creating owner accounts (operators do it, {@code broker admin owners create}). */
public final class OwnerAccounts {
  /** Usernames: e-mail-like, compared in lower case; also valid as a device's {@code owner}. */
  private static final Pattern USERNAME = Pattern.compile("[a-z0-9][a-z0-9._@+-]{0,63}");
  /** NIST SP 800-63B §3.1.1.2 asks for at least 8 and allows long passphrases; we ask for 12. */
  public static final int MIN_PASSWORD = 12;
  public static final int MAX_PASSWORD = 128;

  private final OwnerStore store;
  private final PasswordHasher hasher;
  private final AuditLog audit;
  private final Transactor transactor;
  private final Clock clock;

  public OwnerAccounts(OwnerStore store, PasswordHasher hasher, AuditLog audit, Transactor transactor, Clock clock) {
    this.store = store;
    this.hasher = hasher;
    this.audit = audit;
    this.transactor = transactor;
    this.clock = clock;
  }

  /** The canonical form of a typed username, or empty when it cannot be one. */
  public static Optional<String> normalizeUsername(String typed) {
    if (typed == null) {
      return Optional.empty();
    }
    String u = typed.strip().toLowerCase(Locale.ROOT);
    return USERNAME.matcher(u).matches() ? Optional.of(u) : Optional.empty();
  }

  /**
   * Creates an account. Refused with INVALID_REQUEST for a bad username or password, ALREADY_EXISTS for a
   * taken username. The password never appears in an error or the audit log.
   */
  public OwnerAccount create(String username, char[] password, String actor) {
    String name = normalizeUsername(username).orElseThrow(() -> new OAuthException(OAuthError.INVALID_REQUEST,
        "username must be 1-64 characters of a-z 0-9 . _ @ + -, starting with a letter or digit"));
    if (password == null || password.length < MIN_PASSWORD || password.length > MAX_PASSWORD) {
      throw new OAuthException(OAuthError.INVALID_REQUEST,
          "password must be " + MIN_PASSWORD + "-" + MAX_PASSWORD + " characters");
    }
    if (new String(password).strip().equalsIgnoreCase(name)) {
      throw new OAuthException(OAuthError.INVALID_REQUEST, "password must not be the username");
    }
    String hash = hasher.hash(password);
    return transactor.inTransaction(() -> {
      Instant now = clock.instant();
      OwnerAccount account = new OwnerAccount(name, hash, now);
      if (!store.insertAccount(account)) {
        throw new OAuthException(OAuthError.ALREADY_EXISTS, "an owner with this username exists");
      }
      audit.record(AuditEvent.success("owner_created", actor, now).detail("owner", name).build());
      return account;
    });
  }
}
