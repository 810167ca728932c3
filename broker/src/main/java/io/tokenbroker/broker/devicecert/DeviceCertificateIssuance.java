package io.tokenbroker.broker.devicecert;

import com.nimbusds.jwt.JWTClaimsSet;
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
import io.tokenbroker.broker.token.IssuedTokenReader;
import io.tokenbroker.verifier.VerificationError;
import io.tokenbroker.verifier.VerificationException;
import io.tokenbroker.verifier.dpop.DpopProof;
import io.tokenbroker.verifier.dpop.DpopProofValidator;
import io.tokenbroker.verifier.dpop.DpopReplayCache;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Issues device certificates (RFC 8705 §2.1): the first one to a device that proves itself with its DPoP-bound
 * access token (RFC 9449 §7.1), renewals to a device that proves itself with its current certificate over
 * mutual TLS. Every request is checked completely before anything is written; the certificate is signed in the
 * HSM and recorded in one transaction with the audit event, and only returned after the commit.
 */
public final class DeviceCertificateIssuance {
  /** certificate_service.proto: the access token in {@code authorization} is at most 4 KiB. */
  public static final int MAX_TOKEN_CHARS = 4096;
  private static final String HTM = "POST";
  /** Certificates start a little in the past, so a device whose clock is slightly behind accepts them. */
  private static final Duration BACKDATE = Duration.ofMinutes(5);
  private static final SecureRandom RANDOM = new SecureRandom();

  /** What the device gets back (certificate_service.proto IssueDeviceCertificateResponse). */
  public record Issued(X509Certificate certificate, String serial, Instant notBefore, Instant notAfter,
      Instant renewAfter) {}

  private final DeviceCertificateAuthority ca;
  private final DeviceCertificateStore issued;
  private final PresentedCertificates presented;
  private final IssuedTokenReader tokens;
  private final DpopProofValidator proofs;
  private final DpopReplayCache replay;
  private final DeviceStore devices;
  private final ClientStore clients;
  private final RevocationLog revocations;
  private final AuditLog audit;
  private final Transactor transactor;
  private final String issuer;
  private final Duration lifetime;
  private final Clock clock;

  public DeviceCertificateIssuance(DeviceCertificateAuthority ca, DeviceCertificateStore issued,
      PresentedCertificates presented, IssuedTokenReader tokens, DpopProofValidator proofs, DpopReplayCache replay,
      DeviceStore devices, ClientStore clients, RevocationLog revocations, AuditLog audit, Transactor transactor,
      String issuer, Duration lifetime, Clock clock) {
    this.ca = ca;
    this.issued = issued;
    this.presented = presented;
    this.tokens = tokens;
    this.proofs = proofs;
    this.replay = replay;
    this.devices = devices;
    this.clients = clients;
    this.revocations = revocations;
    this.audit = audit;
    this.transactor = transactor;
    this.issuer = issuer;
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
    String token = dpopToken(authorization);
    JWTClaimsSet claims = tokens.read(token).orElseThrow(() -> invalidToken("the access token is not valid"));
    Instant now = clock.instant();
    Instant iat = requireTimes(claims, now);
    if (claims.getAudience() == null || !claims.getAudience().contains(issuer)) {
      throw invalidToken("the access token's audience does not include the broker (" + issuer + ")");
    }
    String boundJkt = cnf(claims, "jkt");
    if (boundJkt == null) {
      throw invalidToken("IssueDeviceCertificate needs a DPoP-bound access token (cnf.jkt)");
    }
    DpopProof proof;
    try {
      proof = proofs.validate(proofList, HTM, htu, sha256(token));
    } catch (VerificationException e) {
      throw new OAuthException(e.error() == VerificationError.USE_DPOP_NONCE ? OAuthError.USE_DPOP_NONCE
          : OAuthError.INVALID_DPOP_PROOF, e.description());
    }
    if (!proof.jkt().equals(boundJkt)) {
      throw new OAuthException(OAuthError.INVALID_DPOP_PROOF, "the DPoP proof is not from the token's bound key");
    }
    PublicKey requested = CsrPolicy.publicKey(csrDer);
    String deviceId = claims.getSubject();
    String sid = stringClaim(claims, "sid");
    return transactor.inTransaction(() -> {
      if (!replay.firstUse(proof.jkt(), proof.jti(), proof.issuedAt().plus(proofs.replayRetention()))) {
        throw new OAuthException(OAuthError.INVALID_DPOP_PROOF, "the DPoP proof's jti was already used");
      }
      Device device = activeDevice(deviceId);
      boolean revoked = revocations.isRevoked(SubjectKind.ACCESS_TOKEN_JTI, String.valueOf(claims.getJWTID()))
          || (sid != null && revocations.revokedSince(SubjectKind.REFRESH_FAMILY_ID, sid, iat))
          || revocations.revokedSince(SubjectKind.DEVICE_ID, deviceId, iat)
          || revocations.revokedSince(SubjectKind.CLIENT_ID, device.clientId(), iat)
          || revocations.isRevoked(SubjectKind.JKT, boundJkt);
      if (revoked) {
        throw invalidToken("the access token has been revoked");
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
    Device device = devices.lock(deviceId).orElseThrow(() -> invalidToken("unknown device"));
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

  private static String dpopToken(String authorization) {
    if (authorization == null || authorization.isEmpty()) {
      throw invalidToken("authorization metadata 'DPoP <access token>' is required");
    }
    if (!authorization.regionMatches(true, 0, "DPoP ", 0, 5)) {
      throw invalidToken("the authorization scheme must be DPoP (RFC 9449 §7.1)");
    }
    String token = authorization.substring(5).strip();
    if (token.isEmpty() || token.length() > MAX_TOKEN_CHARS) {
      throw invalidToken("the access token must be 1-" + MAX_TOKEN_CHARS + " characters");
    }
    return token;
  }

  private static Instant requireTimes(JWTClaimsSet claims, Instant now) {
    if (claims.getExpirationTime() == null || claims.getIssueTime() == null
        || !now.isBefore(claims.getExpirationTime().toInstant())) {
      throw invalidToken("the access token has expired");
    }
    return claims.getIssueTime().toInstant();
  }

  private static String cnf(JWTClaimsSet claims, String member) {
    Object cnf = claims.getClaim("cnf");
    return cnf instanceof Map<?, ?> m && m.get(member) instanceof String s ? s : null;
  }

  private static String stringClaim(JWTClaimsSet claims, String name) {
    try {
      return claims.getStringClaim(name);
    } catch (ParseException e) {
      return null;
    }
  }

  /** RFC 9449 §4.2 {@code ath}: base64url SHA-256 of the ASCII access token. */
  private static String sha256(String token) {
    try {
      return Base64.getUrlEncoder().withoutPadding().encodeToString(
          MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.US_ASCII)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static OAuthException invalidToken(String why) {
    return new OAuthException(OAuthError.INVALID_TOKEN, why);
  }
}
