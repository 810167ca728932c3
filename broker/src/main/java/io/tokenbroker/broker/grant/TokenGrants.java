package io.tokenbroker.broker.grant;

import io.tokenbroker.broker.Transactor;
import io.tokenbroker.broker.audit.AuditEvent;
import io.tokenbroker.broker.audit.AuditLog;
import io.tokenbroker.broker.binding.TokenBinding;
import io.tokenbroker.broker.client.BindingPolicy;
import io.tokenbroker.broker.devicecert.DeviceCertificateStore;
import io.tokenbroker.broker.devicecert.PresentedCertificates;
import io.tokenbroker.broker.devicecert.PresentedCertificates.PresentedCertificate;
import io.tokenbroker.broker.client.Client;
import io.tokenbroker.broker.client.ClientStore;
import io.tokenbroker.broker.device.Device;
import io.tokenbroker.broker.device.DeviceAuthorization.PollOutcome;
import io.tokenbroker.broker.device.DeviceAuthorization;
import io.tokenbroker.broker.device.DeviceAuthorizationStore;
import io.tokenbroker.broker.device.DeviceStore;
import io.tokenbroker.broker.oauth.OAuthError;
import io.tokenbroker.broker.oauth.OAuthException;
import io.tokenbroker.broker.oauth.RandomTokens;
import io.tokenbroker.broker.oauth.RequestedValues;
import io.tokenbroker.broker.oauth.SecretHash;
import io.tokenbroker.broker.refresh.RefreshFamily;
import io.tokenbroker.broker.refresh.RefreshRotation;
import io.tokenbroker.broker.refresh.RefreshToken;
import io.tokenbroker.broker.refresh.RefreshTokenStore;
import io.tokenbroker.broker.revocation.RevocationListener;
import io.tokenbroker.broker.revocation.RevocationLog;
import io.tokenbroker.broker.revocation.RevocationReason;
import io.tokenbroker.broker.revocation.SubjectKind;
import io.tokenbroker.broker.token.AccessTokenIssuer;
import io.tokenbroker.verifier.VerificationError;
import io.tokenbroker.verifier.VerificationException;
import io.tokenbroker.verifier.dpop.DpopProof;
import io.tokenbroker.verifier.dpop.DpopProofValidator;
import io.tokenbroker.verifier.dpop.DpopReplayCache;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The token endpoint's grants (RFC 6749 §5): the device-code grant (RFC 8628 §3.4-3.5) and the refresh-token
 * grant (RFC 6749 §6), both sender-constrained with DPoP (RFC 9449 §5) or, for clients whose binding policy is
 * {@code MTLS}, with the TLS client certificate (RFC 8705 §3-4).
 *
 * <p>Each grant is one transaction: the DPoP replay record, the state change, the audit event and the signed
 * access token are committed together before the caller can answer, and any failure (including an HSM that
 * cannot sign) rolls all of it back. A proof that fails validation changes nothing but the audit log.
 */
public final class TokenGrants {
  private static final String HTM = "POST";
  /** 256-bit base64url values: 43 characters; anything else cannot be one of ours. */
  private static final Pattern OPAQUE = Pattern.compile("[A-Za-z0-9_-]{43}");
  /** The API's bound on device codes and refresh tokens (proto comments). */
  private static final int MAX_OPAQUE_CHARS = 128;
  /** How fresh a device's last-seen and last-refresh times are kept (device.proto: "at most once a minute"). */
  private static final Duration LAST_SEEN_RESOLUTION = Duration.ofMinutes(1);

  /** What the token endpoint answers (RFC 6749 §5.1). The tokens exist in clear only here. */
  public record Tokens(String accessToken, Duration expiresIn, String refreshToken, Set<String> scopes,
      Set<String> audiences, Duration refreshExpiresIn, String deviceId, TokenBinding binding) {
    @Override
    public String toString() {
      return "Tokens[device=" + deviceId + ", tokens redacted]";
    }
  }

  private sealed interface Outcome {
    record Issued(Tokens tokens) implements Outcome {}

    /** {@code reuseDetected}: the refusal revoked a refresh family for reuse (committed with it). */
    record Refused(OAuthException error, boolean reuseDetected) implements Outcome {}
  }

  private final RevocationLog revocations;
  private final RevocationListener listener;
  private final ClientStore clients;
  private final DeviceAuthorizationStore authorizations;
  private final DeviceStore devices;
  private final RefreshTokenStore refreshTokens;
  private final DpopReplayCache replay;
  private final AuditLog audit;
  private final Transactor transactor;
  private final DpopProofValidator proofs;
  private final AccessTokenIssuer issuer;
  private final PresentedCertificates certificates;
  private final DeviceCertificateStore issuedCertificates;
  private final GrantMonitor monitor;
  private final Clock clock;

  public TokenGrants(ClientStore clients, DeviceAuthorizationStore authorizations, DeviceStore devices,
      RefreshTokenStore refreshTokens, DpopReplayCache replay, AuditLog audit, Transactor transactor,
      DpopProofValidator proofs, AccessTokenIssuer issuer, RevocationLog revocations, RevocationListener listener,
      PresentedCertificates certificates, DeviceCertificateStore issuedCertificates, GrantMonitor monitor,
      Clock clock) {
    this.monitor = monitor;
    this.certificates = certificates;
    this.issuedCertificates = issuedCertificates;
    this.revocations = revocations;
    this.listener = listener;
    this.clients = clients;
    this.authorizations = authorizations;
    this.devices = devices;
    this.refreshTokens = refreshTokens;
    this.replay = replay;
    this.audit = audit;
    this.transactor = transactor;
    this.proofs = proofs;
    this.issuer = issuer;
    this.clock = clock;
  }

  /**
   * RFC 8628 §3.4: the device polls with its device code and a DPoP proof for {@code htu}. A device of an
   * {@code MTLS} client that polls over mutual TLS binds its tokens to that certificate instead (RFC 8705 §2.2:
   * the self-signed route; the thumbprint is recorded on the device); without a certificate it bootstraps
   * with DPoP and later moves to a device-CA certificate (see {@link #refresh}).
   *
   * @param proof the values of the request's {@code dpop} metadata (exactly one is valid)
   * @param clientCertificates the TLS client certificate chain as presented (unverified; empty without mTLS)
   * @param userAgent the caller's {@code user-agent} (bounded), or null
   */
  public Tokens deviceCode(String clientId, String deviceCode, List<String> proof, String htu,
      List<X509Certificate> clientCertificates, String userAgent) {
    Client client = knownClient(clientId);
    requireOpaque(deviceCode, "device_code");
    boolean certificateRoute = client.bindingPolicy() == BindingPolicy.MTLS && !clientCertificates.isEmpty();
    DpopProof dpop = certificateRoute ? null : validateProof(proof, htu, clientId);
    Outcome outcome = guarded(clientId, () -> transactor.inTransaction(() -> {
      Instant now = clock.instant();
      PresentedCertificate certificate = null;
      if (certificateRoute) {
        certificate = certificates.check(clientCertificates, now);
        if (certificate.route() == PresentedCertificates.Route.DEVICE_CA) {
          // A device-CA certificate already belongs to an enrolled device; a new device enrols with its own.
          throw new OAuthException(OAuthError.INVALID_CLIENT,
              "a certificate issued to an enrolled device cannot enrol another device");
        }
      } else {
        recordFirstUse(dpop);
      }
      TokenBinding binding = certificate != null ? new TokenBinding.X5tS256(certificate.x5tS256())
          : new TokenBinding.Jkt(dpop.jkt());
      DeviceAuthorization found = authorizations.lockByDeviceCodeHash(SecretHash.sha256Hex(deviceCode))
          .filter(a -> a.clientId().equals(clientId)).orElse(null);
      if (found == null) {
        // RFC 6749 §5.2 invalid_grant: "The provided authorization grant ... is invalid, expired, revoked".
        return refused(OAuthError.INVALID_GRANT, "unknown device code");
      }
      PollOutcome poll = found.poll(now);
      if (!poll.next().equals(found)) {
        authorizations.update(poll.next());
      }
      if (poll instanceof PollOutcome.Pending) {
        return refused(OAuthError.AUTHORIZATION_PENDING, "the user has not approved the device yet");
      }
      if (poll instanceof PollOutcome.SlowDown s) {
        return refused(OAuthError.SLOW_DOWN, "polling too fast; poll at most every "
            + s.next().interval().toSeconds() + " s");
      }
      if (poll instanceof PollOutcome.Denied) {
        return refused(OAuthError.ACCESS_DENIED, "the user denied the authorization request");
      }
      if (poll instanceof PollOutcome.Expired) {
        return refused(OAuthError.EXPIRED_TOKEN, "the device code has expired; start a new authorization");
      }
      if (poll instanceof PollOutcome.Issue && dpop != null && revocations.isRevoked(SubjectKind.JKT, dpop.jkt())) {
        // A key that belonged to a revoked device stays refused, whatever device now presents it.
        return refused(OAuthError.INVALID_GRANT, "this DPoP key has been revoked");
      }
      if (poll instanceof PollOutcome.AlreadyUsed) {
        audit.record(AuditEvent.failure("device_code_reuse", "device", now).client(clientId)
            .device(found.deviceId()).detail("authorization_id", found.id()).build());
        return refused(OAuthError.INVALID_GRANT, "the device code was already used");
      }
      return new Outcome.Issued(issueFirstTokens(client, poll.next(), binding, userAgent, now));
    }));
    if (outcome instanceof Outcome.Refused r) {
      throw r.error();
    }
    return ((Outcome.Issued) outcome).tokens();
  }

  /**
   * RFC 6749 §6: a new access token and a rotated refresh token for a refresh token and a DPoP proof from the
   * key it is bound to. Reuse of a rotated token revokes the whole family (RFC 9700 §4.14.2), except for the
   * grace retry of a lost response (see {@link RefreshRotation}).
   *
   * <p>{@code MTLS} clients must call over mutual TLS (RFC 8705 §2); their refresh tokens are bound to the
   * certificate (§4). A family still bound to the bootstrap DPoP key moves to a device-CA certificate issued to
   * the same device when the refresh carries both that certificate and a proof from the bound key; a family bound
   * to a device-CA certificate moves to its renewed successor. Any other certificate gets {@code invalid_grant}.
   */
  public Tokens refresh(String clientId, String refreshToken, List<String> scopes, List<String> audiences,
      List<String> proof, String htu, List<X509Certificate> clientCertificates, String userAgent) {
    Client client = knownClient(clientId);
    requireOpaque(refreshToken, "refresh_token");
    boolean mtls = client.bindingPolicy() == BindingPolicy.MTLS;
    if (mtls && clientCertificates.isEmpty()) {
      OAuthException refusal = new OAuthException(OAuthError.INVALID_CLIENT,
          "this client requires mutual TLS with the device's client certificate (RFC 8705)");
      auditRefusal(refusal, clientId);
      throw refusal;
    }
    // An mTLS refresh needs a DPoP proof only to move a bootstrap family off its DPoP key.
    DpopProof dpop = mtls && proof.isEmpty() ? null : validateProof(proof, htu, clientId);
    String presentedHash = SecretHash.sha256Hex(refreshToken);
    PresignedAccessToken presigned = mtls ? null : presign(client, presentedHash, scopes, audiences, dpop);
    Outcome outcome = guarded(clientId, () -> transactor.inTransaction(() -> {
      if (dpop != null) {
        recordFirstUse(dpop);
      }
      PresentedCertificate certificate = mtls ? certificates.check(clientCertificates, clock.instant()) : null;
      String familyId;
      String deviceId;
      if (presigned != null) {
        // A token's family and a family's device never change, so the unlocked read still holds.
        familyId = presigned.familyId();
        deviceId = presigned.deviceId();
      } else {
        familyId = refreshTokens.findToken(presentedHash)
            .orElseThrow(() -> new OAuthException(OAuthError.INVALID_GRANT, "unknown refresh token")).familyId();
        deviceId = refreshTokens.findFamily(familyId).orElseThrow().deviceId();
      }
      // Lock order everywhere: device, then family, then the revocation sequence. Every change to a family's
      // tokens happens under the family lock, so parallel refreshes and revocations serialise in the database.
      Device device = devices.lock(deviceId).orElseThrow();
      RefreshFamily family = refreshTokens.lockFamily(familyId).orElseThrow();
      RefreshToken presented = refreshTokens.findToken(presentedHash)
          .filter(t -> t.familyId().equals(familyId))
          .orElseThrow(() -> new OAuthException(OAuthError.INVALID_GRANT, "unknown refresh token"));
      RefreshToken active = refreshTokens.activeToken(family.familyId()).orElse(null);
      Instant now = clock.instant();
      TokenBinding proven = provenBinding(family, dpop, certificate);
      if (device.state() == Device.State.REVOKED && family.clientId().equals(clientId)
          && family.binding().equals(proven)) {
        // Revocation also revoked the family; a caller that proves the bound key or certificate learns why, so
        // its agent stops for good (DEVICE_REVOKED, metadata["error"] invalid_grant) instead of asking for a new
        // login.
        throw new OAuthException(OAuthError.DEVICE_REVOKED, "the device has been revoked");
      }
      RefreshRotation.Decision decision = RefreshRotation.decide(presented, family, active, clientId, proven,
          client.refreshGraceWindow(), now);
      if (decision instanceof RefreshRotation.Decision.Refuse r) {
        throw r.error();
      }
      if (decision instanceof RefreshRotation.Decision.ReuseDetected reuse) {
        revokeFamilyForReuse(family, client, reuse.why(), now);
        return new Outcome.Refused(new OAuthException(OAuthError.INVALID_GRANT,
            "the refresh token was already used; its family is revoked"), true);
      }
      if (device.state() == Device.State.REVOKED) {
        throw new OAuthException(OAuthError.DEVICE_REVOKED, "the device has been revoked");
      }
      if (device.state() == Device.State.SUSPENDED) {
        throw new OAuthException(OAuthError.DEVICE_SUSPENDED, "the device is suspended");
      }
      // RFC 6749 §6: a narrower scope may be asked for, never a wider one.
      Set<String> grantedScopes = RequestedValues.subset(scopes, family.scopes(), OAuthError.INVALID_SCOPE, "scope");
      Set<String> grantedAudiences = RequestedValues.subset(audiences, family.audiences(),
          OAuthError.INVALID_TARGET, "audience");
      int generation;
      String auditType;
      if (decision instanceof RefreshRotation.Decision.GraceRetry grace) {
        refreshTokens.revokeToken(grace.unusedSuccessor().tokenHash());
        generation = grace.unusedSuccessor().generation() + 1;
        auditType = "refresh_token_grace_retry";
      } else {
        if (!refreshTokens.consume(presented.tokenHash(), now)) {
          throw new IllegalStateException("refresh token changed under the family lock");
        }
        generation = presented.generation() + 1;
        auditType = "tokens_issued";
      }
      String successor = RandomTokens.base64Url(32);
      Instant idleExpiry = RefreshRotation.successorIdleExpiry(family, client.refreshIdleLifetime(), now);
      refreshTokens.insertToken(new RefreshToken(SecretHash.sha256Hex(successor), family.familyId(), generation,
          RefreshToken.Status.ACTIVE, now, idleExpiry, null, presented.tokenHash()));
      // RFC 8705 §4: from now on the family (and the device) is bound to the certificate that proved itself.
      TokenBinding binding = certificate != null ? new TokenBinding.X5tS256(certificate.x5tS256())
          : family.binding();
      if (!binding.equals(family.binding())) {
        refreshTokens.rebindFamily(family.familyId(), binding);
        devices.rebind(device.deviceId(), binding);
      }
      AccessTokenIssuer.AccessToken access = presigned != null && presigned.matches(device.deviceId(), clientId,
          grantedScopes, grantedAudiences, binding, family.familyId(), client.accessTokenLifetime())
          ? presigned.token()
          : issuer.issue(device.deviceId(), clientId, grantedScopes, grantedAudiences, binding, family.familyId(),
              client.accessTokenLifetime(), now);
      if (lastSeenNeedsWriting(device, now, userAgent)) {
        devices.recordRefresh(device.deviceId(), now, userAgent);
      }
      audit.record(AuditEvent.success(auditType, "device", now).client(clientId).device(device.deviceId())
          .detail("grant_type", "refresh_token").detail("jti", access.jti()).detail(bindingName(binding),
              binding.value())
          .detail("family", family.familyId()).detail("generation", Integer.toString(generation)).build());
      return new Outcome.Issued(new Tokens(access.jwt(), access.lifetime(), successor, grantedScopes,
          grantedAudiences, Duration.between(now, idleExpiry), device.deviceId(), binding));
    }));
    if (outcome instanceof Outcome.Refused r) {
      listener.revocationsCommitted();
      if (r.reuseDetected()) {
        monitor.refreshTokenReuseDetected();
      }
      auditRefusal(r.error(), clientId);
      throw r.error();
    }
    return ((Outcome.Issued) outcome).tokens();
  }

  /**
   * Signs, outside the transaction, the access token a DPoP refresh will most likely issue (see
   * {@link PresignedAccessToken}), or returns null when an unlocked read says the grant will not simply rotate:
   * an unknown or already rotated token, a family not active, of another client or bound to another key, a scope
   * or audience not granted. Only a caller holding the family's DPoP key gets an HSM signature here, before any refusal.
   */
  private PresignedAccessToken presign(Client client, String presentedHash, List<String> scopes,
      List<String> audiences, DpopProof dpop) {
    // Only a live token is simply rotated; a rotated one (a grace retry, or reuse, which revokes) signs inside.
    RefreshFamily family = refreshTokens.findFamilyOfActiveToken(presentedHash).orElse(null);
    TokenBinding proven = new TokenBinding.Jkt(dpop.jkt());
    if (family == null || family.state() != RefreshFamily.State.ACTIVE || !family.clientId().equals(client.clientId())
        || !family.binding().equals(proven)) {
      return null;
    }
    Set<String> grantedScopes;
    Set<String> grantedAudiences;
    try {
      grantedScopes = RequestedValues.subset(scopes, family.scopes(), OAuthError.INVALID_SCOPE, "scope");
      grantedAudiences = RequestedValues.subset(audiences, family.audiences(), OAuthError.INVALID_TARGET, "audience");
    } catch (OAuthException e) {
      return null; // the transaction refuses it, audited as usual
    }
    AccessTokenIssuer.AccessToken token = issuer.issue(family.deviceId(), client.clientId(), grantedScopes,
        grantedAudiences, proven, family.familyId(), client.accessTokenLifetime(), clock.instant());
    return new PresignedAccessToken(family.familyId(), family.deviceId(), client.clientId(), grantedScopes,
        grantedAudiences, proven, client.accessTokenLifetime(), token);
  }

  /**
   * device.proto promises {@code last_seen_at} and {@code last_refresh_at} to a minute: rewriting the device row
   * and moving it in the last-seen index on every grant cost the single commit writer so much that skipping it
   * gave 1,220-1,243 instead of 1,051 tokens/s at c=32, and 1.03 instead of 1.23 ms of broker CPU per token
   * (bench/, one A/B). A new user agent (new firmware) is recorded at once.
   */
  private static boolean lastSeenNeedsWriting(Device device, Instant now, String userAgent) {
    return device.lastRefreshAt() == null || !device.lastRefreshAt().isAfter(now.minus(LAST_SEEN_RESOLUTION))
        || (userAgent != null && !userAgent.equals(device.userAgent()));
  }

  /**
   * What the caller proved possession of, expressed against the family's binding: the family's binding when the
   * DPoP key or certificate matches it (or legitimately takes it over), otherwise whatever it did present (or
   * null), which {@link RefreshRotation} refuses.
   */
  private TokenBinding provenBinding(RefreshFamily family, DpopProof dpop, PresentedCertificate certificate) {
    TokenBinding bound = family.binding();
    if (bound instanceof TokenBinding.Jkt jkt) {
      boolean keyProven = dpop != null && dpop.jkt().equals(jkt.value());
      if (certificate == null) {
        return keyProven ? bound : dpop == null ? null : new TokenBinding.Jkt(dpop.jkt());
      }
      // Bootstrap -> certificate (certificate_service.proto): the bound key and this device's own CA certificate.
      boolean ownCertificate = family.deviceId().equals(certificate.deviceId());
      return keyProven && ownCertificate ? bound : new TokenBinding.X5tS256(certificate.x5tS256());
    }
    if (certificate == null) {
      return null;
    }
    if (bound.value().equals(certificate.x5tS256())) {
      return bound;
    }
    // Renewal: the bound certificate and the presented one were both issued by the device CA to this device.
    boolean renewed = family.deviceId().equals(certificate.deviceId())
        && issuedCertificates.findByThumbprint(bound.value())
            .map(c -> c.deviceId().equals(family.deviceId())).orElse(false);
    return renewed ? bound : new TokenBinding.X5tS256(certificate.x5tS256());
  }

  private static String bindingName(TokenBinding binding) {
    return binding instanceof TokenBinding.Jkt ? "jkt" : "x5t#S256";
  }

  /**
   * RFC 9700 §4.14.2: reuse revokes the family; verifiers learn it through the family id ({@code sid}) of its
   * access tokens.
   */
  private void revokeFamilyForReuse(RefreshFamily family, Client client, String why, Instant now) {
    refreshTokens.revokeFamily(family.familyId(), now);
    revocations.append(now, now.plus(client.accessTokenLifetime()).plusSeconds(60),
        RevocationReason.REFRESH_TOKEN_REUSE, SubjectKind.REFRESH_FAMILY_ID, family.familyId());
    audit.record(AuditEvent.failure("refresh_token_reuse", "device", now).client(client.clientId())
        .device(family.deviceId()).detail("family", family.familyId()).detail("reason", why).build());
  }

  private Tokens issueFirstTokens(Client client, DeviceAuthorization consumed, TokenBinding binding,
      String userAgent, Instant now) {
    // The binding is recorded on the device at first issuance; later grants must present the same key or
    // certificate (RFC 9449 §5, RFC 8705 §2.2).
    devices.insert(new Device(consumed.deviceId(), client.clientId(), consumed.owner(), Device.State.ACTIVE,
        binding.jktOrNull(), binding.x5tS256OrNull(), consumed.scopes(), consumed.audiences(), now, now, now, null,
        userAgent, null));
    RefreshFamily family = new RefreshFamily(UUID.randomUUID().toString(), consumed.deviceId(), client.clientId(),
        consumed.scopes(), consumed.audiences(), binding.jktOrNull(), binding.x5tS256OrNull(),
        RefreshFamily.State.ACTIVE, now,
        now.plus(client.refreshAbsoluteLifetime()), null);
    refreshTokens.insertFamily(family);
    String refreshToken = RandomTokens.base64Url(32);
    Instant idleExpiry = RefreshRotation.successorIdleExpiry(family, client.refreshIdleLifetime(), now);
    refreshTokens.insertToken(new RefreshToken(SecretHash.sha256Hex(refreshToken), family.familyId(), 1,
        RefreshToken.Status.ACTIVE, now, idleExpiry, null, null));
    AccessTokenIssuer.AccessToken access = issuer.issue(consumed.deviceId(), client.clientId(), consumed.scopes(),
        consumed.audiences(), binding, family.familyId(), client.accessTokenLifetime(), now);
    audit.record(AuditEvent.success("tokens_issued", "device", now).client(client.clientId())
        .device(consumed.deviceId()).detail("grant_type", "device_code").detail("jti", access.jti())
        .detail(bindingName(binding), binding.value()).detail("authorization_id", consumed.id()).build());
    return new Tokens(access.jwt(), access.lifetime(), refreshToken, consumed.scopes(), consumed.audiences(),
        Duration.between(now, idleExpiry), consumed.deviceId(), binding);
  }

  /**
   * Authenticates a device call other than a grant (RFC 7009 revocation): a known client and a valid DPoP
   * proof for {@code htu}. The caller records the proof's {@code jti} in its own transaction.
   */
  public DpopProof authenticate(String clientId, List<String> proof, String htu) {
    knownClient(clientId);
    return validateProof(proof, htu, clientId);
  }

  /**
   * Authenticates a device call made over mutual TLS (RFC 8705 §2; RFC 7009 revocation of certificate-bound
   * tokens): a known client and an acceptable client certificate. Returns the certificate binding.
   */
  public TokenBinding authenticateCertificate(String clientId, List<X509Certificate> clientCertificates) {
    knownClient(clientId);
    return guarded(clientId, () -> transactor.inTransaction(() -> new TokenBinding.X5tS256(
        certificates.check(clientCertificates, clock.instant()).x5tS256())));
  }

  private DpopProof validateProof(List<String> proof, String htu, String clientId) {
    try {
      return proofs.validate(proof, HTM, htu, null);
    } catch (VerificationException e) {
      OAuthException refusal = new OAuthException(e.error() == VerificationError.USE_DPOP_NONCE
          ? OAuthError.USE_DPOP_NONCE : OAuthError.INVALID_DPOP_PROOF, e.description());
      auditRefusal(refusal, clientId);
      throw refusal;
    } catch (OAuthException e) {
      auditRefusal(e, clientId);
      throw e;
    }
  }

  private void recordFirstUse(DpopProof dpop) {
    // RFC 9449 §11.1: a proof is accepted once; the record lives as long as the proof could be accepted.
    if (!replay.firstUse(dpop.jkt(), dpop.jti(), dpop.issuedAt().plus(proofs.replayRetention()))) {
      throw new OAuthException(OAuthError.INVALID_DPOP_PROOF, "the DPoP proof's jti was already used");
    }
  }

  /** Runs a grant transaction; a refusal thrown inside it (rolled back) is audited in a transaction of its own. */
  private <T> T guarded(String clientId, java.util.function.Supplier<T> grant) {
    try {
      return grant.get();
    } catch (OAuthException e) {
      auditRefusal(e, clientId);
      throw e;
    }
  }

  private void auditRefusal(OAuthException e, String clientId) {
    String type = e.error() == OAuthError.INVALID_DPOP_PROOF || e.error() == OAuthError.USE_DPOP_NONCE
        ? "dpop_proof_rejected" : "token_request_refused";
    transactor.inTransaction(() -> {
      audit.record(AuditEvent.failure(type, "device", clock.instant()).client(clientId)
          .detail("error", e.error().name()).detail("reason", e.description()).build());
      return null;
    });
  }

  private static Outcome refused(OAuthError error, String description) {
    return new Outcome.Refused(new OAuthException(error, description), false);
  }

  private Client knownClient(String clientId) {
    if (clientId == null || clientId.isEmpty() || clientId.length() > 128) {
      throw new OAuthException(OAuthError.INVALID_REQUEST, "client_id must be 1-128 characters");
    }
    return clients.find(clientId).orElseThrow(() -> new OAuthException(OAuthError.INVALID_CLIENT, "unknown client"));
  }

  private static void requireOpaque(String value, String name) {
    if (value == null || value.isEmpty()) {
      throw new OAuthException(OAuthError.INVALID_REQUEST, name + " is required");
    }
    if (value.length() > MAX_OPAQUE_CHARS) {
      throw new OAuthException(OAuthError.INVALID_REQUEST, name + " is longer than " + MAX_OPAQUE_CHARS + " characters");
    }
    if (!OPAQUE.matcher(value).matches()) {
      // Not one of ours: refuse without a database lookup (RFC 8628 §5.2 brute-force resistance).
      throw new OAuthException(OAuthError.INVALID_GRANT, "unknown " + name.replace('_', ' '));
    }
  }
}
