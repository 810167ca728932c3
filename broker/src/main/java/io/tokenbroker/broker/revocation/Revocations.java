package io.tokenbroker.broker.revocation;

import io.tokenbroker.broker.Transactor;
import io.tokenbroker.broker.audit.AuditEvent;
import io.tokenbroker.broker.audit.AuditLog;
import io.tokenbroker.broker.client.ClientStore;
import io.tokenbroker.broker.device.Device;
import io.tokenbroker.broker.devicecert.DeviceCertificate;
import io.tokenbroker.broker.devicecert.DeviceCertificateStore;
import io.tokenbroker.broker.device.DeviceStore;
import io.tokenbroker.broker.oauth.OAuthError;
import io.tokenbroker.broker.oauth.OAuthException;
import io.tokenbroker.broker.refresh.RefreshTokenStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Operator actions that cut devices off: revoke (for good), suspend and resume, and revoke a whole client.
 * Each is one transaction that locks the device and its refresh families first, takes the revocation time
 * only then (so any token minted by a grant that held those locks is covered), and appends the events that
 * verifiers receive. Listeners are told after the commit.
 */
public final class Revocations {
  /** Verifiers allow this much clock skew on {@code iat}; events stay relevant that much longer. */
  private static final Duration SKEW = Duration.ofSeconds(60);

  private final DeviceStore devices;
  private final RefreshTokenStore refreshTokens;
  private final ClientStore clients;
  private final RevocationLog log;
  private final AuditLog audit;
  private final Transactor transactor;
  private final RevocationListener listener;
  private final DeviceCertificateStore certificates;
  private final Clock clock;

  public Revocations(DeviceStore devices, RefreshTokenStore refreshTokens, ClientStore clients, RevocationLog log,
      AuditLog audit, Transactor transactor, RevocationListener listener, DeviceCertificateStore certificates,
      Clock clock) {
    this.certificates = certificates;
    this.devices = devices;
    this.refreshTokens = refreshTokens;
    this.clients = clients;
    this.log = log;
    this.audit = audit;
    this.transactor = transactor;
    this.listener = listener;
    this.clock = clock;
  }

  /** Revokes the device for good: all its refresh families, its key, and every token it holds. */
  public Device revokeDevice(String deviceId, String reason, boolean keyCompromise, String actor) {
    requireReason(reason);
    Device result = transactor.inTransaction(() -> revokeLocked(lockDevice(deviceId), reason,
        keyCompromise ? RevocationReason.KEY_COMPROMISE : RevocationReason.DEVICE_REVOKED, actor));
    listener.revocationsCommitted();
    return result;
  }

  /** Suspends the device: its tokens are refused until it is resumed; its refresh families survive. */
  public Device suspendDevice(String deviceId, String reason, String actor) {
    requireReason(reason);
    Device result = transactor.inTransaction(() -> {
      Device device = lockDevice(deviceId);
      if (device.state() == Device.State.REVOKED) {
        throw new OAuthException(OAuthError.STATE_CONFLICT, "the device is revoked; it cannot be suspended");
      }
      if (device.state() == Device.State.SUSPENDED) {
        return device;
      }
      List<String> families = refreshTokens.activeFamiliesOfDevice(deviceId);
      families.forEach(refreshTokens::lockFamily);
      Instant now = clock.instant();
      devices.setState(deviceId, Device.State.SUSPENDED, reason, now);
      log.append(now, relevantUntil(device, now), RevocationReason.DEVICE_SUSPENDED, SubjectKind.DEVICE_ID, deviceId);
      audit.record(AuditEvent.success("device_suspended", actor, now).client(device.clientId()).device(deviceId)
          .detail("reason", reason).build());
      return devices.find(deviceId).orElseThrow();
    });
    listener.revocationsCommitted();
    return result;
  }

  /** Resumes a suspended device. Tokens issued before the suspension stay refused; new ones work. */
  public Device resumeDevice(String deviceId, String reason, String actor) {
    requireReason(reason);
    return transactor.inTransaction(() -> {
      Device device = lockDevice(deviceId);
      if (device.state() == Device.State.REVOKED) {
        throw new OAuthException(OAuthError.STATE_CONFLICT, "the device is revoked; revocation is final");
      }
      if (device.state() == Device.State.ACTIVE) {
        return device;
      }
      Instant now = clock.instant();
      devices.setState(deviceId, Device.State.ACTIVE, reason, now);
      audit.record(AuditEvent.success("device_resumed", actor, now).client(device.clientId()).device(deviceId)
          .detail("reason", reason).build());
      return devices.find(deviceId).orElseThrow();
    });
  }

  /** Revokes every device of a client (a compromised product line). Returns how many were revoked. */
  public long revokeClientDevices(String clientId, String reason, String actor) {
    requireReason(reason);
    if (clients.find(clientId).isEmpty()) {
      throw new OAuthException(OAuthError.NOT_FOUND, "no client '" + clientId + "'");
    }
    long count = transactor.inTransaction(() -> {
      long revoked = 0;
      for (String deviceId : devices.unrevokedIdsOfClient(clientId)) {
        revokeLocked(lockDevice(deviceId), reason, RevocationReason.CLIENT_DEVICES_REVOKED, actor);
        revoked++;
      }
      Instant now = clock.instant();
      Duration lifetime = clients.find(clientId).orElseThrow().accessTokenLifetime();
      log.append(now, now.plus(lifetime).plus(SKEW), RevocationReason.CLIENT_DEVICES_REVOKED, SubjectKind.CLIENT_ID,
          clientId);
      audit.record(AuditEvent.success("client_devices_revoked", actor, now).client(clientId)
          .detail("reason", reason).detail("devices", Long.toString(revoked)).build());
      return revoked;
    });
    listener.revocationsCommitted();
    return count;
  }

  private Device revokeLocked(Device device, String reason, RevocationReason why, String actor) {
    if (device.state() == Device.State.REVOKED) {
      return device;
    }
    List<String> families = refreshTokens.activeFamiliesOfDevice(device.deviceId());
    families.forEach(refreshTokens::lockFamily);
    // The time is taken after the locks: a grant that held them has committed, and its tokens are older.
    Instant now = clock.instant();
    for (String family : families) {
      refreshTokens.revokeFamily(family, now);
    }
    devices.setState(device.deviceId(), Device.State.REVOKED, reason, now);
    // Certificate rows are locked after the device, before the revocation sequence (the lock order).
    List<DeviceCertificate> revokedCertificates = certificates.revokeUnexpiredOfDevice(device.deviceId(), now);
    Instant relevantUntil = relevantUntil(device, now);
    log.append(now, relevantUntil, why, SubjectKind.DEVICE_ID, device.deviceId());
    if (device.jkt() != null) {
      log.append(now, relevantUntil, why, SubjectKind.JKT, device.jkt());
    }
    // RFC 8705: tokens bound to any of the device's certificates die with it; verifiers refuse mutual-TLS peers
    // presenting its device-CA certificates (by serial, until they expire) and the broker refuses them too.
    Set<String> thumbprints = new TreeSet<>();
    if (device.x5tS256() != null) {
      thumbprints.add(device.x5tS256());
    }
    for (DeviceCertificate c : revokedCertificates) {
      log.append(now, c.notAfter().plus(SKEW), why, SubjectKind.CERTIFICATE_SERIAL, c.serial());
      thumbprints.add(c.x5tS256());
    }
    for (String x5t : thumbprints) {
      log.append(now, relevantUntil, why, SubjectKind.X5T_S256, x5t);
    }
    audit.record(AuditEvent.success("device_revoked", actor, now).client(device.clientId()).device(device.deviceId())
        .detail("reason", reason).detail("revocation_reason", why.name())
        .detail("families", Integer.toString(families.size()))
        .detail("certificates", Integer.toString(revokedCertificates.size())).build());
    return devices.find(device.deviceId()).orElseThrow();
  }

  /** When every access token the device could hold has expired. */
  private Instant relevantUntil(Device device, Instant now) {
    Duration lifetime = clients.find(device.clientId()).map(c -> c.accessTokenLifetime()).orElse(Duration.ofHours(1));
    return now.plus(lifetime).plus(SKEW);
  }

  private Device lockDevice(String deviceId) {
    if (deviceId == null || deviceId.isEmpty() || deviceId.length() > 36) {
      throw new OAuthException(OAuthError.INVALID_REQUEST, "device_id must be 1-36 characters");
    }
    return devices.lock(deviceId).orElseThrow(() -> new OAuthException(OAuthError.NOT_FOUND, "no such device"));
  }

  private static void requireReason(String reason) {
    if (reason == null || reason.length() > 500) {
      throw new OAuthException(OAuthError.INVALID_REQUEST, "reason is at most 500 characters");
    }
  }
}
