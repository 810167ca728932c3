package io.tokenbroker.broker.api;

import io.grpc.stub.StreamObserver;
import io.tokenbroker.broker.Transactor;
import io.tokenbroker.broker.audit.AuditEvent;
import io.tokenbroker.broker.audit.AuditLog;
import io.tokenbroker.broker.client.BindingPolicy;
import io.tokenbroker.broker.client.Client;
import io.tokenbroker.broker.client.ClientRegistry;
import io.tokenbroker.broker.client.ClientStore;
import io.tokenbroker.broker.device.Device;
import io.tokenbroker.broker.devicecert.DeviceCertificateStore;
import io.tokenbroker.broker.device.DeviceFlow;
import io.tokenbroker.broker.device.DeviceStore;
import io.tokenbroker.broker.keys.KeyState;
import io.tokenbroker.broker.keys.SigningKeyManager;
import io.tokenbroker.broker.keys.SigningKeyRecord;
import io.tokenbroker.broker.oauth.OAuthError;
import io.tokenbroker.broker.oauth.OAuthException;
import io.tokenbroker.broker.owner.OwnerAccount;
import io.tokenbroker.broker.owner.OwnerAccounts;
import io.tokenbroker.broker.refresh.RefreshTokenStore;
import io.tokenbroker.broker.revocation.Revocations;
import io.tokenbroker.proto.v1.AdminServiceGrpc;
import io.tokenbroker.proto.v1.ApproveDeviceAuthorizationRequest;
import io.tokenbroker.proto.v1.AuditEventOutcome;
import io.tokenbroker.proto.v1.ApproveDeviceAuthorizationResponse;
import io.tokenbroker.proto.v1.Confirmation;
import io.tokenbroker.proto.v1.CreateClientRequest;
import io.tokenbroker.proto.v1.CreateClientResponse;
import io.tokenbroker.proto.v1.CreateOwnerRequest;
import io.tokenbroker.proto.v1.CreateOwnerResponse;
import io.tokenbroker.proto.v1.Owner;
import io.tokenbroker.proto.v1.DenyDeviceAuthorizationRequest;
import io.tokenbroker.proto.v1.DenyDeviceAuthorizationResponse;
import io.tokenbroker.proto.v1.DeviceState;
import io.tokenbroker.proto.v1.GetClientRequest;
import io.tokenbroker.proto.v1.GetClientResponse;
import io.tokenbroker.proto.v1.GetDeviceRequest;
import io.tokenbroker.proto.v1.GetDeviceResponse;
import io.tokenbroker.proto.v1.ListAuditEventsRequest;
import io.tokenbroker.proto.v1.ListAuditEventsResponse;
import io.tokenbroker.proto.v1.ListClientsRequest;
import io.tokenbroker.proto.v1.ListClientsResponse;
import io.tokenbroker.proto.v1.ListDevicesRequest;
import io.tokenbroker.proto.v1.ListDevicesResponse;
import io.tokenbroker.proto.v1.ListSigningKeysRequest;
import io.tokenbroker.proto.v1.ListSigningKeysResponse;
import io.tokenbroker.proto.v1.RefreshFamilyState;
import io.tokenbroker.proto.v1.RefreshFamilySummary;
import io.tokenbroker.proto.v1.ResumeDeviceRequest;
import io.tokenbroker.proto.v1.ResumeDeviceResponse;
import io.tokenbroker.proto.v1.RevokeClientDevicesRequest;
import io.tokenbroker.proto.v1.RevokeClientDevicesResponse;
import io.tokenbroker.proto.v1.RevokeDeviceRequest;
import io.tokenbroker.proto.v1.RevokeDeviceResponse;
import io.tokenbroker.proto.v1.RotateSigningKeyRequest;
import io.tokenbroker.proto.v1.RotateSigningKeyResponse;
import io.tokenbroker.proto.v1.SigningKey;
import io.tokenbroker.proto.v1.SigningKeyState;
import io.tokenbroker.proto.v1.SuspendDeviceRequest;
import io.tokenbroker.proto.v1.SuspendDeviceResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.TreeSet;

/**
 * gRPC adapter for the operator API. Callers are operators authenticated by mutual TLS (see
 * {@link CallGuardInterceptor}); their certificate subject is the actor of every audit event.
 */
public final class AdminServiceImpl extends AdminServiceGrpc.AdminServiceImplBase {
  private static final int DEFAULT_PAGE = 50;
  private static final int MAX_PAGE = 500;

  private final ClientRegistry registry;
  private final ClientStore clients;
  private final DeviceStore devices;
  private final RefreshTokenStore refreshTokens;
  private final DeviceFlow flow;
  private final Revocations revocations;
  private final SigningKeyManager keys;
  private final AuditLog audit;
  private final Transactor transactor;
  private final Clock clock;
  private final GrpcErrors errors;
  private final DeviceCertificateStore certificates;
  private final OwnerAccounts owners;

  public AdminServiceImpl(ClientRegistry registry, ClientStore clients, DeviceStore devices,
      RefreshTokenStore refreshTokens, DeviceFlow flow,
      Revocations revocations, SigningKeyManager keys, AuditLog audit, Transactor transactor, Clock clock, GrpcErrors errors,
      DeviceCertificateStore certificates, OwnerAccounts owners) {
    this.certificates = certificates;
    this.registry = registry;
    this.clients = clients;
    this.devices = devices;
    this.refreshTokens = refreshTokens;
    this.flow = flow;
    this.revocations = revocations;
    this.keys = keys;
    this.audit = audit;
    this.transactor = transactor;
    this.clock = clock;
    this.errors = errors;
    this.owners = owners;
  }

  private static String operator() {
    return "operator:" + RequestContext.OPERATOR.get();
  }

  @Override
  public void createClient(CreateClientRequest request, StreamObserver<CreateClientResponse> observer) {
    Unary.run(observer, errors, () -> {
      io.tokenbroker.proto.v1.Client c = request.getClient();
      BindingPolicy binding = switch (c.getBindingPolicy()) {
        case BINDING_POLICY_DPOP -> BindingPolicy.DPOP;
        case BINDING_POLICY_MTLS -> BindingPolicy.MTLS;
        default -> throw new OAuthException(OAuthError.INVALID_REQUEST, "binding_policy must be DPOP or MTLS");
      };
      Client defaults = ClientRegistry.draft(c.getClientId(), c.getDisplayName(), new HashSet<>(c.getAllowedScopesList()),
          new HashSet<>(c.getAllowedAudiencesList()), binding);
      Client draft = new Client(defaults.clientId(), defaults.displayName(), defaults.allowedScopes(),
          defaults.allowedAudiences(), binding,
          c.hasAccessTokenLifetime() ? Protos.duration(c.getAccessTokenLifetime()) : defaults.accessTokenLifetime(),
          c.hasRefreshIdleLifetime() ? Protos.duration(c.getRefreshIdleLifetime()) : defaults.refreshIdleLifetime(),
          c.hasRefreshAbsoluteLifetime() ? Protos.duration(c.getRefreshAbsoluteLifetime())
              : defaults.refreshAbsoluteLifetime(),
          c.hasRefreshGraceWindow() ? Protos.duration(c.getRefreshGraceWindow()) : defaults.refreshGraceWindow(),
          null);
      return CreateClientResponse.newBuilder().setClient(toProto(registry.create(draft, operator()))).build();
    });
  }

  @Override
  public void createOwner(CreateOwnerRequest request, StreamObserver<CreateOwnerResponse> observer) {
    Unary.run(observer, errors, () -> {
      char[] password = request.getPassword().toCharArray();
      try {
        OwnerAccount created = owners.create(request.getUsername(), password, operator());
        return CreateOwnerResponse.newBuilder().setOwner(Owner.newBuilder().setUsername(created.username())
            .setCreatedAt(Protos.timestamp(created.createdAt()))).build();
      } finally {
        java.util.Arrays.fill(password, '\0');
      }
    });
  }

  @Override
  public void getClient(GetClientRequest request, StreamObserver<GetClientResponse> observer) {
    Unary.run(observer, errors,
        () -> GetClientResponse.newBuilder().setClient(toProto(registry.get(request.getClientId()))).build());
  }

  @Override
  public void listClients(ListClientsRequest request, StreamObserver<ListClientsResponse> observer) {
    Unary.run(observer, errors, () -> {
      int size = pageSize(request.getPageSize());
      List<Client> page = clients.list(afterKey(request.getPageToken()), size);
      ListClientsResponse.Builder b = ListClientsResponse.newBuilder();
      page.forEach(c -> b.addClients(toProto(c)));
      if (page.size() == size) {
        b.setNextPageToken(pageToken(page.get(page.size() - 1).clientId()));
      }
      return b.build();
    });
  }

  @Override
  public void listDevices(ListDevicesRequest request, StreamObserver<ListDevicesResponse> observer) {
    Unary.run(observer, errors, () -> {
      int size = pageSize(request.getPageSize());
      Device.State state = switch (request.getState()) {
        case DEVICE_STATE_ACTIVE -> Device.State.ACTIVE;
        case DEVICE_STATE_SUSPENDED -> Device.State.SUSPENDED;
        case DEVICE_STATE_REVOKED -> Device.State.REVOKED;
        default -> null;
      };
      List<Device> page = devices.list(afterKey(request.getPageToken()), emptyToNull(request.getClientId()), state,
          emptyToNull(request.getOwner()),
          request.hasLastSeenStartTime() ? Protos.instant(request.getLastSeenStartTime()) : null,
          request.hasLastSeenEndTime() ? Protos.instant(request.getLastSeenEndTime()) : null, size);
      ListDevicesResponse.Builder b = ListDevicesResponse.newBuilder();
      page.forEach(d -> b.addDevices(toProto(d)));
      if (page.size() == size) {
        b.setNextPageToken(pageToken(page.get(page.size() - 1).deviceId()));
      }
      return b.build();
    });
  }

  @Override
  public void getDevice(GetDeviceRequest request, StreamObserver<GetDeviceResponse> observer) {
    Unary.run(observer, errors, () -> {
      Device device = devices.find(request.getDeviceId())
          .orElseThrow(() -> new OAuthException(OAuthError.NOT_FOUND, "no such device"));
      io.tokenbroker.proto.v1.Device.Builder b = toProto(device).toBuilder();
      b.addAllCertificateSerials(certificates.unexpiredSerialsOfDevice(device.deviceId(), clock.instant()));
      for (RefreshTokenStore.FamilySummary f : refreshTokens.familiesOfDevice(device.deviceId())) {
        RefreshFamilySummary.Builder s = RefreshFamilySummary.newBuilder().setFamilyId(f.family().familyId())
            .setState(RefreshFamilyState.valueOf("REFRESH_FAMILY_STATE_" + f.family().state().name()))
            .setCreatedAt(Protos.timestamp(f.family().createdAt()))
            .setAbsoluteExpiresAt(Protos.timestamp(f.family().absoluteExpiresAt()))
            .setGenerationCount(f.generations());
        if (f.family().revokedAt() != null) {
          s.setRevokedAt(Protos.timestamp(f.family().revokedAt()));
        }
        b.addRefreshFamilies(s);
      }
      return GetDeviceResponse.newBuilder().setDevice(b).build();
    });
  }

  @Override
  public void approveDeviceAuthorization(ApproveDeviceAuthorizationRequest request,
      StreamObserver<ApproveDeviceAuthorizationResponse> observer) {
    Unary.run(observer, errors, () -> {
      DeviceFlow.Approved approved = flow.approve(request.getUserCode(), request.getOwner(), operator());
      return ApproveDeviceAuthorizationResponse.newBuilder().setDeviceId(approved.deviceId())
          .setClientId(approved.clientId()).addAllScope(new TreeSet<>(approved.scopes()))
          .addAllAudience(new TreeSet<>(approved.audiences())).build();
    });
  }

  @Override
  public void denyDeviceAuthorization(DenyDeviceAuthorizationRequest request,
      StreamObserver<DenyDeviceAuthorizationResponse> observer) {
    Unary.run(observer, errors, () -> {
      if (request.getReason().length() > 500) {
        throw new OAuthException(OAuthError.INVALID_REQUEST, "reason is at most 500 characters");
      }
      flow.deny(request.getUserCode(), operator(), request.getReason());
      return DenyDeviceAuthorizationResponse.getDefaultInstance();
    });
  }

  @Override
  public void revokeDevice(RevokeDeviceRequest request, StreamObserver<RevokeDeviceResponse> observer) {
    Unary.run(observer, errors, () -> RevokeDeviceResponse.newBuilder().setDevice(toProto(revocations.revokeDevice(
        request.getDeviceId(), request.getReason(), request.getKeyCompromise(), operator()))).build());
  }

  @Override
  public void suspendDevice(SuspendDeviceRequest request, StreamObserver<SuspendDeviceResponse> observer) {
    Unary.run(observer, errors, () -> SuspendDeviceResponse.newBuilder().setDevice(toProto(revocations.suspendDevice(
        request.getDeviceId(), request.getReason(), operator()))).build());
  }

  @Override
  public void resumeDevice(ResumeDeviceRequest request, StreamObserver<ResumeDeviceResponse> observer) {
    Unary.run(observer, errors, () -> ResumeDeviceResponse.newBuilder().setDevice(toProto(revocations.resumeDevice(
        request.getDeviceId(), request.getReason(), operator()))).build());
  }

  @Override
  public void revokeClientDevices(RevokeClientDevicesRequest request,
      StreamObserver<RevokeClientDevicesResponse> observer) {
    Unary.run(observer, errors, () -> RevokeClientDevicesResponse.newBuilder().setRevokedDeviceCount(
        revocations.revokeClientDevices(request.getClientId(), request.getReason(), operator())).build());
  }

  @Override
  public void listSigningKeys(ListSigningKeysRequest request, StreamObserver<ListSigningKeysResponse> observer) {
    Unary.run(observer, errors, () -> {
      ListSigningKeysResponse.Builder b = ListSigningKeysResponse.newBuilder();
      keys.records().forEach(r -> b.addSigningKeys(toProto(r)));
      return b.build();
    });
  }

  @Override
  public void rotateSigningKey(RotateSigningKeyRequest request, StreamObserver<RotateSigningKeyResponse> observer) {
    Unary.run(observer, errors, () -> {
      String active = keys.activeKey().kid();
      if (!request.getExpectedActiveKid().isEmpty() && !request.getExpectedActiveKid().equals(active)) {
        throw new OAuthException(OAuthError.STATE_CONFLICT, "the active key is no longer "
            + request.getExpectedActiveKid() + "; it is " + active);
      }
      SigningKeyRecord activated = keys.rotate();
      transactor.inTransaction(() -> {
        audit.record(AuditEvent.success("signing_key_rotated", operator(), clock.instant())
            .detail("active_kid", activated.kid()).detail("retired_kid", active).build());
        return null;
      });
      RotateSigningKeyResponse.Builder b = RotateSigningKeyResponse.newBuilder();
      for (SigningKeyRecord r : keys.records()) {
        if (r.kid().equals(activated.kid())) {
          b.setActiveKey(toProto(r));
        } else if (r.kid().equals(active)) {
          b.setRetiredKey(toProto(r));
        } else if (r.state() == KeyState.NEXT) {
          b.setNextKey(toProto(r));
        }
      }
      return b.build();
    });
  }

  @Override
  public void listAuditEvents(ListAuditEventsRequest request, StreamObserver<ListAuditEventsResponse> observer) {
    Unary.run(observer, errors, () -> {
      int size = pageSize(request.getPageSize());
      String after = afterKey(request.getPageToken());
      long afterId;
      try {
        afterId = after == null ? 0 : Long.parseLong(after);
      } catch (NumberFormatException e) {
        throw new OAuthException(OAuthError.INVALID_REQUEST, "invalid page_token");
      }
      List<AuditEvent> page = audit.list(afterId, emptyToNull(request.getType()), emptyToNull(request.getDeviceId()),
          request.hasStartTime() ? Protos.instant(request.getStartTime()) : null,
          request.hasEndTime() ? Protos.instant(request.getEndTime()) : null, size);
      ListAuditEventsResponse.Builder b = ListAuditEventsResponse.newBuilder();
      for (AuditEvent e : page) {
        io.tokenbroker.proto.v1.AuditEvent.Builder pe = io.tokenbroker.proto.v1.AuditEvent.newBuilder()
            .setId(Long.toString(e.id())).setOccurredAt(Protos.timestamp(e.occurredAt())).setType(e.type())
            .setActor(e.actor()).putAllDetails(e.details())
            .setOutcome("success".equals(e.outcome()) ? AuditEventOutcome.AUDIT_EVENT_OUTCOME_SUCCESS
                : AuditEventOutcome.AUDIT_EVENT_OUTCOME_FAILURE);
        if (e.clientId() != null) {
          pe.setClientId(e.clientId());
        }
        if (e.deviceId() != null) {
          pe.setDeviceId(e.deviceId());
        }
        b.addAuditEvents(pe);
      }
      if (page.size() == size) {
        b.setNextPageToken(pageToken(Long.toString(page.get(page.size() - 1).id())));
      }
      return b.build();
    });
  }

  /** AIP-158: 0 means the default; more than the maximum is coerced to it; negative is an error. */
  private static int pageSize(int requested) {
    if (requested < 0) {
      throw new OAuthException(OAuthError.INVALID_REQUEST, "page_size must not be negative");
    }
    return requested == 0 ? DEFAULT_PAGE : Math.min(requested, MAX_PAGE);
  }

  private static String pageToken(String lastKey) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(lastKey.getBytes(StandardCharsets.UTF_8));
  }

  private static String afterKey(String pageToken) {
    if (pageToken.isEmpty()) {
      return null;
    }
    if (pageToken.length() > 512) {
      throw new OAuthException(OAuthError.INVALID_REQUEST, "invalid page_token");
    }
    try {
      return new String(Base64.getUrlDecoder().decode(pageToken), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new OAuthException(OAuthError.INVALID_REQUEST, "invalid page_token");
    }
  }

  private static String emptyToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }

  static io.tokenbroker.proto.v1.Client toProto(Client c) {
    return io.tokenbroker.proto.v1.Client.newBuilder().setClientId(c.clientId()).setDisplayName(c.displayName())
        .addAllAllowedScopes(new TreeSet<>(c.allowedScopes())).addAllAllowedAudiences(new TreeSet<>(c.allowedAudiences()))
        .setBindingPolicy(c.bindingPolicy() == BindingPolicy.DPOP ? io.tokenbroker.proto.v1.BindingPolicy.BINDING_POLICY_DPOP
            : io.tokenbroker.proto.v1.BindingPolicy.BINDING_POLICY_MTLS)
        .setAccessTokenLifetime(Protos.duration(c.accessTokenLifetime()))
        .setRefreshIdleLifetime(Protos.duration(c.refreshIdleLifetime()))
        .setRefreshAbsoluteLifetime(Protos.duration(c.refreshAbsoluteLifetime()))
        .setRefreshGraceWindow(Protos.duration(c.refreshGraceWindow()))
        .setCreatedAt(Protos.timestamp(c.createdAt())).build();
  }

  static io.tokenbroker.proto.v1.Device toProto(Device d) {
    io.tokenbroker.proto.v1.Device.Builder b = io.tokenbroker.proto.v1.Device.newBuilder().setDeviceId(d.deviceId())
        .setClientId(d.clientId()).setOwner(d.owner()).setState(DeviceState.valueOf("DEVICE_STATE_" + d.state().name()))
        .setCreatedAt(Protos.timestamp(d.createdAt())).setLastSeenAt(Protos.timestamp(d.lastSeenAt()))
        .addAllScope(new TreeSet<>(d.scopes())).addAllAudience(new TreeSet<>(d.audiences()))
        .setStateChangedAt(Protos.timestamp(d.stateChangedAt()));
    if (d.jkt() != null) {
      b.setBinding(Confirmation.newBuilder().setJkt(d.jkt()));
    } else if (d.x5tS256() != null) {
      b.setBinding(Confirmation.newBuilder().setX5TS256(d.x5tS256()));
    }
    if (d.stateReason() != null) {
      b.setStateReason(d.stateReason());
    }
    if (d.userAgent() != null) {
      b.setUserAgent(d.userAgent());
    }
    if (d.lastRefreshAt() != null) {
      b.setLastRefreshAt(Protos.timestamp(d.lastRefreshAt()));
    }
    return b.build();
  }

  static SigningKey toProto(SigningKeyRecord r) {
    SigningKey.Builder b = SigningKey.newBuilder().setKid(r.kid()).setAlg(r.algorithm().name()).setUse("sig")
        .setState(SigningKeyState.valueOf("SIGNING_KEY_STATE_" + r.state().name())).setPublicJwkJson(r.publicJwkJson())
        .setCreatedAt(Protos.timestamp(r.createdAt()));
    if (r.activatedAt() != null) {
      b.setActivatedAt(Protos.timestamp(r.activatedAt()));
    }
    if (r.retiredAt() != null) {
      b.setRetiredAt(Protos.timestamp(r.retiredAt()));
    }
    if (r.removedAt() != null) {
      b.setRemovedAt(Protos.timestamp(r.removedAt()));
    }
    return b.build();
  }
}
