package io.tokenbroker.broker.device;

import io.tokenbroker.broker.Transactor;
import io.tokenbroker.broker.audit.AuditEvent;
import io.tokenbroker.broker.audit.AuditLog;
import io.tokenbroker.broker.client.Client;
import io.tokenbroker.broker.client.ClientStore;
import io.tokenbroker.broker.oauth.OAuthError;
import io.tokenbroker.broker.oauth.OAuthException;
import io.tokenbroker.broker.oauth.RandomTokens;
import io.tokenbroker.broker.oauth.RequestedValues;
import io.tokenbroker.broker.oauth.SecretHash;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * RFC 8628 device authorization: starting a request (§3.1-3.2) and the person's decision (§3.3). Polling with
 * the device code is part of the token grant.
 */
public final class DeviceFlow {
  private static final Pattern OWNER = Pattern.compile("[\\p{L}\\p{N} ._@+-]{1,200}");

  /** How device authorizations behave. */
  public record Settings(Duration codeLifetime, Duration pollInterval, URI verificationUri) {}

  /** RFC 8628 §3.2: what the device shows and polls with. The codes exist in clear only here. */
  public record Started(String deviceCode, String userCode, URI verificationUri, URI verificationUriComplete,
      Duration expiresIn, Duration interval) {
    @Override
    public String toString() {
      return "Started[codes redacted, expiresIn=" + expiresIn + "]";
    }
  }

  /**
   * RFC 8628 §5.4: what a person must see before deciding (which product asks, for what, since when), so that a
   * code passed on by someone else is recognised as not theirs.
   */
  public record PendingRequest(String clientId, String clientName, Set<String> scopes, Set<String> audiences,
      Instant createdAt, Instant expiresAt) {}

  /** The outcome of an approval. */
  public record Approved(String deviceId, String clientId, Set<String> scopes, Set<String> audiences) {}

  private final ClientStore clients;
  private final DeviceAuthorizationStore authorizations;
  private final AuditLog audit;
  private final Transactor transactor;
  private final Settings settings;
  private final Clock clock;

  public DeviceFlow(ClientStore clients, DeviceAuthorizationStore authorizations, AuditLog audit,
      Transactor transactor, Settings settings, Clock clock) {
    this.clients = clients;
    this.authorizations = authorizations;
    this.audit = audit;
    this.transactor = transactor;
    this.settings = settings;
    this.clock = clock;
  }

  /** RFC 8628 §3.1: a device asks for authorization of {@code scopes} and {@code audiences}. */
  public Started start(String clientId, List<String> scopes, List<String> audiences) {
    Client client = knownClient(clientId);
    Set<String> grantedScopes = RequestedValues.subset(scopes, client.allowedScopes(), OAuthError.INVALID_SCOPE, "scope");
    Set<String> grantedAudiences = RequestedValues.subset(audiences, client.allowedAudiences(), OAuthError.INVALID_TARGET,
        "audience");
    Instant now = clock.instant();
    String deviceCode = RandomTokens.base64Url(32);
    return transactor.inTransaction(() -> {
      String userCode = freshUserCode();
      DeviceAuthorization authorization = new DeviceAuthorization(UUID.randomUUID().toString(),
          SecretHash.sha256Hex(deviceCode), UserCode.hash(UserCode.normalize(userCode).orElseThrow()),
          client.clientId(), grantedScopes, grantedAudiences, DeviceAuthorization.Status.PENDING, now,
          now.plus(settings.codeLifetime()), settings.pollInterval(), null, null, null, null);
      authorizations.insert(authorization);
      audit.record(AuditEvent.success("device_authorization_started", "device", now).client(clientId)
          .detail("authorization_id", authorization.id()).build());
      URI complete = URI.create(settings.verificationUri() + "?user_code="
          + URLEncoder.encode(userCode, StandardCharsets.UTF_8));
      return new Started(deviceCode, userCode, settings.verificationUri(), complete, settings.codeLifetime(),
          settings.pollInterval());
    });
  }

  /**
   * RFC 8628 §3.3: the request a person is about to decide on, looked up by the user code they typed. Refused
   * like a decision would be: INVALID_REQUEST (not a user code), NOT_FOUND, EXPIRED_TOKEN, STATE_CONFLICT.
   */
  public PendingRequest pending(String userCode) {
    return transactor.inTransaction(() -> {
      DeviceAuthorization found = decidable(userCode, clock.instant());
      String name = clients.find(found.clientId()).map(Client::displayName).orElse(found.clientId());
      return new PendingRequest(found.clientId(), name, found.scopes(), found.audiences(), found.createdAt(),
          found.expiresAt());
    });
  }

  /** RFC 8628 §3.3: the person identified as {@code owner} approves the request shown with {@code userCode}. */
  public Approved approve(String userCode, String owner, String actor) {
    if (owner == null || !OWNER.matcher(owner).matches()) {
      throw new OAuthException(OAuthError.INVALID_REQUEST,
          "owner must be 1-200 letters, digits, spaces or . _ @ + -");
    }
    return transactor.inTransaction(() -> {
      Instant now = clock.instant();
      DeviceAuthorization pending = decidable(userCode, now);
      DeviceAuthorization approved = pending.approve(owner, UUID.randomUUID().toString(), now);
      authorizations.update(approved);
      audit.record(AuditEvent.success("device_authorization_approved", actor, now).client(approved.clientId())
          .device(approved.deviceId()).detail("authorization_id", approved.id()).detail("owner", owner).build());
      return new Approved(approved.deviceId(), approved.clientId(), approved.scopes(), approved.audiences());
    });
  }

  /** RFC 8628 §3.3: the request is denied; the device's next poll gets {@code access_denied}. */
  public void deny(String userCode, String actor, String reason) {
    transactor.inTransaction(() -> {
      Instant now = clock.instant();
      DeviceAuthorization denied = decidable(userCode, now).deny(now);
      authorizations.update(denied);
      audit.record(AuditEvent.success("device_authorization_denied", actor, now).client(denied.clientId())
          .detail("authorization_id", denied.id()).detail("reason", reason).build());
      return null;
    });
  }

  private DeviceAuthorization decidable(String userCode, Instant now) {
    String canonical = UserCode.normalize(userCode).orElseThrow(() -> new OAuthException(
        OAuthError.INVALID_REQUEST, "a user code is 8 letters from BCDFGHJKLMNPQRSTVWXZ, like WDJB-MJHT"));
    DeviceAuthorization found = authorizations.lockByUserCodeHash(UserCode.hash(canonical))
        .orElseThrow(() -> new OAuthException(OAuthError.NOT_FOUND, "no device authorization has this user code"));
    if (!now.isBefore(found.expiresAt())) {
      throw new OAuthException(OAuthError.EXPIRED_TOKEN, "this user code has expired; start again on the device");
    }
    if (!found.awaitingDecision(now)) {
      throw new OAuthException(OAuthError.STATE_CONFLICT, "this user code was already used");
    }
    return found;
  }

  private String freshUserCode() {
    for (int attempt = 0; attempt < 8; attempt++) {
      String code = UserCode.generate(RandomTokens.random());
      if (authorizations.lockByUserCodeHash(UserCode.hash(UserCode.normalize(code).orElseThrow())).isEmpty()) {
        return code;
      }
    }
    throw new OAuthException(OAuthError.TEMPORARILY_UNAVAILABLE, "could not allocate a unique user code");
  }

  private Client knownClient(String clientId) {
    if (clientId == null || clientId.isEmpty() || clientId.length() > 128) {
      throw new OAuthException(OAuthError.INVALID_REQUEST, "client_id must be 1-128 characters");
    }
    return clients.find(clientId)
        .orElseThrow(() -> new OAuthException(OAuthError.INVALID_CLIENT, "unknown client"));
  }
}
