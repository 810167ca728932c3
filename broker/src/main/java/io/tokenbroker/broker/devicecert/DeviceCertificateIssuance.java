package io.tokenbroker.broker.devicecert;

import io.tokenbroker.broker.Transactor;
import io.tokenbroker.broker.audit.AuditEvent;
import io.tokenbroker.broker.audit.AuditLog;
import io.tokenbroker.broker.binding.CertificateThumbprint;
import io.tokenbroker.broker.client.BindingPolicy;
import io.tokenbroker.broker.client.ClientStore;
import io.tokenbroker.broker.device.Device;
import io.tokenbroker.broker.device.DeviceStore;
import io.tokenbroker.broker.oauth.OAuthError;
import io.tokenbroker.broker.oauth.OAuthException;
import io.tokenbroker.broker.revocation.RevocationLog;
import io.tokenbroker.broker.revocation.SubjectKind;
import io.tokenbroker.verifier.dpop.DpopProof;
import io.tokenbroker.verifier.dpop.DpopReplayCache;
import java.math.BigInteger;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Issues device certificates (RFC 8705 §2.1): the first one to a device that proves itself with its DPoP-bound
 * access token ({@link DpopTokenAuthentication}), renewals to a device that proves itself with its current
 * certificate over mutual TLS. Every request is checked completely before anything is written; the certificate
 * is signed in the HSM and recorded in one transaction with the audit event, and only returned after the commit.
 */
public final class DeviceCertificateIssuance {
  /** Certificates start a little in the past, so a device whose clock is slightly behind accepts them. */
  private static final Duration BACKDATE = Duration.ofMinutes(5);
  private static final SecureRandom RANDOM = new SecureRandom();

  /** What the device gets back (certificate_service.proto IssueDeviceCertificateResponse). */
  public record Issued(X509Certificate certificate, String serial, Instant notBefore, Instant notAfter,
      Instant renewAfter) {}

  private final DeviceCertificateAuthority ca;
  private final DeviceCertificateStore issued;
  private final PresentedCertificates presented;
  private final DpopTokenAuthentication authentication;
  private final DpopReplayCache replay;
  private final DeviceStore devices;
  private final ClientStore clients;
  private final RevocationLog revocations;
  private final AuditLog audit;
  private final Transactor transactor;
  private final Duration lifetime;
  private final Clock clock;

  public DeviceCertificateIssuance(DeviceCertificateAuthority ca, DeviceCertificateStore issued,
      PresentedCertificates presented, DpopTokenAuthentication authentication, DpopReplayCache replay,
      DeviceStore devices, ClientStore clients, RevocationLog revocations, AuditLog audit, Transactor transactor,
      Duration lifetime, Clock clock) {
    this.ca = ca;
    this.issued = issued;
    this.presented = presented;
    this.authentication = authentication;
    this.replay = replay;
    this.devices = devices;
    this.clients = clients;
    this.revocations = revocations;
    this.audit = audit;
    this.transactor = transactor;
    this.lifetime = lifetime;
    this.clock = clock;
  }

  /** The device CA certificates verifiers trust for device certificates (RFC 5280 §6.1 trust anchors). */
  public List<X509Certificate> caCertificates() {
    return List.of(ca.certificate());
  }

  /**
   * IssueDeviceCertificate: {@code authorization} is the metadata value ("DPoP &lt;token&gt;"), {@code proofs}
   * the {@code dpop} values, {@code htu} this RPC's URL.
   */
  public Issued issue(String authorization, List<String> proofList, String htu, byte[] csrDer) {
    DpopTokenAuthentication.Caller caller = authentication.authenticate(authorization, proofList, htu);
    PublicKey requested = CsrPolicy.publicKey(csrDer);
    DpopProof proof = caller.proof();
    return transactor.inTransaction(() -> {
      if (!replay.firstUse(proof.jkt(), proof.jti(), proof.issuedAt().plus(authentication.replayRetention()))) {
        throw new OAuthException(OAuthError.INVALID_DPOP_PROOF, "the DPoP proof's jti was already used");
      }
      Device device = activeDevice(caller.deviceId());
      Instant iat = caller.issuedAt();
      String sid = caller.familyId();
      String jti = String.valueOf(caller.claims().getJWTID());
      boolean revoked = revocations.isRevoked(SubjectKind.ACCESS_TOKEN_JTI, jti)
          || (sid != null && revocations.revokedSince(SubjectKind.REFRESH_FAMILY_ID, sid, iat))
          || revocations.revokedSince(SubjectKind.DEVICE_ID, device.deviceId(), iat)
          || revocations.revokedSince(SubjectKind.CLIENT_ID, device.clientId(), iat)
          || revocations.isRevoked(SubjectKind.JKT, proof.jkt());
      if (revoked) {
        throw new OAuthException(OAuthError.INVALID_TOKEN, "the access token has been revoked");
      }
      return sign(device, requested, "device_certificate_issued", clock.instant());
    });
  }

  /** RenewDeviceCertificate: over mutual TLS with the device's current, unexpired device-CA certificate. */
  public Issued renew(List<X509Certificate> chain, byte[] csrDer) {
    if (chain == null || chain.isEmpty()) {
      throw new OAuthException(OAuthError.INVALID_CLIENT,
          "renewal requires mutual TLS with the device's current certificate");
    }
    PublicKey requested = CsrPolicy.publicKey(csrDer);
    return transactor.inTransaction(() -> {
      Instant now = clock.instant();
      PresentedCertificates.PresentedCertificate current = presented.check(chain, now);
      if (current.route() != PresentedCertificates.Route.DEVICE_CA) {
        throw new OAuthException(OAuthError.INVALID_CLIENT,
            "renewal requires a certificate issued by this broker's device CA");
      }
      Device device = activeDevice(current.deviceId());
      return sign(device, requested, "device_certificate_renewed", now);
    });
  }

  private Device activeDevice(String deviceId) {
    Device device = devices.lock(deviceId)
        .orElseThrow(() -> new OAuthException(OAuthError.INVALID_TOKEN, "unknown device"));
    if (device.state() == Device.State.REVOKED) {
      throw new OAuthException(OAuthError.DEVICE_REVOKED, "the device has been revoked");
    }
    if (device.state() == Device.State.SUSPENDED) {
      throw new OAuthException(OAuthError.DEVICE_SUSPENDED, "the device is suspended");
    }
    boolean mtls = clients.find(device.clientId()).map(c -> c.bindingPolicy() == BindingPolicy.MTLS).orElse(false);
    if (!mtls) {
      throw new OAuthException(OAuthError.UNAUTHORIZED_CLIENT,
          "the device's client uses DPoP binding; device certificates are for clients with binding policy mtls");
    }
    return device;
  }

  private Issued sign(Device device, PublicKey key, String auditType, Instant now) {
    Instant notBefore = Instant.ofEpochSecond(now.minus(BACKDATE).getEpochSecond());
    Instant notAfter = Instant.ofEpochSecond(now.plus(lifetime).getEpochSecond());
    BigInteger serial = DeviceCertificateAuthority.newSerial();
    X509Certificate certificate = ca.issue(device.deviceId(), key, serial, notBefore, notAfter);
    String serialHex = serial.toString(16);
    String x5t = CertificateThumbprint.x5tS256(certificate);
    issued.insert(new DeviceCertificate(serialHex, device.deviceId(), x5t, notBefore, notAfter, now, null));
    audit.record(AuditEvent.success(auditType, "device", now).client(device.clientId()).device(device.deviceId())
        .detail("serial", serialHex).detail("x5t#S256", x5t).detail("not_after", notAfter.toString()).build());
    return new Issued(certificate, serialHex, notBefore, notAfter, renewAfter(now, notAfter));
  }

  /** A random point in the last third of the lifetime, before its last sixth: devices spread their renewals. */
  static Instant renewAfter(Instant now, Instant notAfter) {
    long seconds = Duration.between(now, notAfter).getSeconds();
    long start = seconds * 2 / 3;
    long window = Math.max(1, seconds / 6);
    return now.plusSeconds(start + (long) (RANDOM.nextDouble() * window));
  }

}
