package io.tokenbroker.broker.client;

import io.tokenbroker.broker.Transactor;
import io.tokenbroker.broker.audit.AuditEvent;
import io.tokenbroker.broker.audit.AuditLog;
import io.tokenbroker.broker.oauth.OAuthError;
import io.tokenbroker.broker.oauth.OAuthException;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import java.util.regex.Pattern;

/** Registers clients after checking every field against the limits the rest of the broker relies on. */
public final class ClientRegistry {
  private static final Pattern CLIENT_ID = Pattern.compile("[A-Za-z0-9._~-]{1,128}");
  /** RFC 6749 §3.3 scope-token characters: %x21 / %x23-5B / %x5D-7E. */
  private static final Pattern SCOPE = Pattern.compile("[\\x21\\x23-\\x5B\\x5D-\\x7E]{1,128}");
  private static final int MAX_ENTRIES = 32;

  private final ClientStore clients;
  private final AuditLog audit;
  private final Transactor transactor;
  private final Clock clock;

  public ClientRegistry(ClientStore clients, AuditLog audit, Transactor transactor, Clock clock) {
    this.clients = clients;
    this.audit = audit;
    this.transactor = transactor;
    this.clock = clock;
  }

  /** Validates and stores a new client; its {@code createdAt} is set here. */
  public Client create(Client draft, String actor) {
    validate(draft);
    Client client = new Client(draft.clientId(), draft.displayName(), draft.allowedScopes(),
        draft.allowedAudiences(), draft.bindingPolicy(), draft.accessTokenLifetime(), draft.refreshIdleLifetime(),
        draft.refreshAbsoluteLifetime(), draft.refreshGraceWindow(), clock.instant());
    return transactor.inTransaction(() -> {
      if (!clients.insert(client)) {
        throw new OAuthException(OAuthError.ALREADY_EXISTS, "client '" + client.clientId() + "' already exists");
      }
      audit.record(AuditEvent.success("client_created", actor, clock.instant())
          .client(client.clientId()).detail("binding_policy", client.bindingPolicy().name()).build());
      return client;
    });
  }

  public Client get(String clientId) {
    return clients.find(clientId)
        .orElseThrow(() -> new OAuthException(OAuthError.NOT_FOUND, "no client '" + clientId + "'"));
  }

  private static void validate(Client c) {
    require(c.clientId() != null && CLIENT_ID.matcher(c.clientId()).matches(),
        "client_id must be 1-128 characters of A-Z a-z 0-9 . _ ~ -");
    require(c.displayName() != null && !c.displayName().isBlank() && c.displayName().length() <= 200
        && c.displayName().codePoints().noneMatch(Character::isISOControl),
        "display_name must be 1-200 printable characters");
    require(!c.allowedScopes().isEmpty() && c.allowedScopes().size() <= MAX_ENTRIES
        && c.allowedScopes().stream().allMatch(s -> SCOPE.matcher(s).matches()),
        "allowed_scopes must hold 1-32 scope tokens (RFC 6749 §3.3 characters, at most 128 each)");
    require(!c.allowedAudiences().isEmpty() && c.allowedAudiences().size() <= MAX_ENTRIES
        && c.allowedAudiences().stream().allMatch(ClientRegistry::isAudience),
        "allowed_audiences must hold 1-32 absolute URIs without fragment (RFC 8707 §2), at most 256 characters");
    require(c.bindingPolicy() != null, "binding_policy must be DPOP or MTLS");
    require(within(c.accessTokenLifetime(), Duration.ofSeconds(30), Duration.ofHours(1)),
        "access_token_lifetime must be between 30 s and 1 h");
    require(within(c.refreshIdleLifetime(), Duration.ofMinutes(5), Duration.ofDays(365)),
        "refresh_idle_lifetime must be between 5 min and 365 days");
    require(within(c.refreshAbsoluteLifetime(), c.refreshIdleLifetime() == null ? Duration.ofMinutes(5)
        : c.refreshIdleLifetime(), Duration.ofDays(3650)),
        "refresh_absolute_lifetime must be at least refresh_idle_lifetime and at most 3650 days");
    require(within(c.refreshGraceWindow(), Duration.ZERO, Duration.ofMinutes(10)),
        "refresh_grace_window must be between 0 and 10 min");
  }

  private static boolean isAudience(String s) {
    if (s == null || s.isEmpty() || s.length() > 256) {
      return false;
    }
    try {
      java.net.URI uri = new java.net.URI(s);
      return uri.isAbsolute() && uri.getFragment() == null;
    } catch (java.net.URISyntaxException e) {
      return false;
    }
  }

  private static boolean within(Duration d, Duration min, Duration max) {
    return d != null && d.compareTo(min) >= 0 && d.compareTo(max) <= 0;
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new OAuthException(OAuthError.INVALID_REQUEST, message);
    }
  }

  /** Defaults for a new client: 5 min tokens, 14 days idle, 90 days absolute, 60 s grace. */
  public static Client draft(String clientId, String displayName, Set<String> scopes, Set<String> audiences,
      BindingPolicy binding) {
    return new Client(clientId, displayName, scopes, audiences, binding, Duration.ofMinutes(5), Duration.ofDays(14),
        Duration.ofDays(90), Duration.ofSeconds(60), null);
  }
}
