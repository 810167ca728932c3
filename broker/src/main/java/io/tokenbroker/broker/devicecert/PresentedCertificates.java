package io.tokenbroker.broker.devicecert;

import io.tokenbroker.broker.binding.CertificateThumbprint;
import io.tokenbroker.broker.oauth.OAuthError;
import io.tokenbroker.broker.oauth.OAuthException;
import io.tokenbroker.broker.revocation.RevocationLog;
import io.tokenbroker.broker.revocation.SubjectKind;
import java.security.Provider;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/**
 * Decides whether a TLS client certificate may stand for a device (RFC 8705 §2): either self-signed (§2.2, the
 * thumbprint is what the broker remembers) or issued by this broker's device CA (§2.1, known by serial and not
 * revoked). The TLS layer accepts any certificate, so this is where expiry, issuer and revocation are checked.
 * Every refusal is {@code invalid_client} (RFC 6749 §5.2). Reads run in the caller's transaction.
 */
public final class PresentedCertificates {
  private static final Provider BOUNCY_CASTLE = new BouncyCastleProvider();

  /** How the device came by its certificate. */
  public enum Route {
    /** RFC 8705 §2.2: self-signed; bound by thumbprint. */
    SELF_SIGNED,
    /** RFC 8705 §2.1: issued by the broker's device CA. */
    DEVICE_CA
  }

  /** A certificate that passed: its thumbprint, route and, for device-CA certificates, the issuance record. */
  public record PresentedCertificate(X509Certificate leaf, String x5tS256, Route route, DeviceCertificate issued) {
    /** The device the device CA issued it to; null for self-signed certificates. */
    public String deviceId() {
      return issued == null ? null : issued.deviceId();
    }
  }

  private final DeviceCertificateAuthority ca;
  private final DeviceCertificateStore issued;
  private final RevocationLog revocations;

  public PresentedCertificates(DeviceCertificateAuthority ca, DeviceCertificateStore issued,
      RevocationLog revocations) {
    this.ca = ca;
    this.issued = issued;
    this.revocations = revocations;
  }

  public PresentedCertificate check(List<X509Certificate> chain, Instant now) {
    if (chain == null || chain.isEmpty()) {
      throw refuse("this client requires mutual TLS with the device's client certificate (RFC 8705)");
    }
    X509Certificate leaf = chain.get(0);
    if (now.isBefore(leaf.getNotBefore().toInstant())) {
      throw refuse("the client certificate is not valid yet");
    }
    if (now.isAfter(leaf.getNotAfter().toInstant())) {
      throw refuse("the client certificate has expired");
    }
    DeviceKeyPolicy.refusal(leaf.getPublicKey()).ifPresent(why -> {
      throw refuse("the client certificate's key is not accepted: " + why);
    });
    String x5t = CertificateThumbprint.x5tS256(leaf);
    PresentedCertificate result;
    if (leaf.getIssuerX500Principal().equals(ca.certificate().getSubjectX500Principal())
        && signedBy(leaf, ca.certificate().getPublicKey())) {
      DeviceCertificate record = issued.findBySerial(leaf.getSerialNumber().toString(16))
          .filter(r -> r.x5tS256().equals(x5t))
          .orElseThrow(() -> refuse("the client certificate is not one the device CA issued"));
      if (record.revokedAt() != null) {
        throw refuse("the client certificate has been revoked");
      }
      result = new PresentedCertificate(leaf, x5t, Route.DEVICE_CA, record);
    } else if (leaf.getIssuerX500Principal().equals(leaf.getSubjectX500Principal())
        && signedBy(leaf, leaf.getPublicKey())) {
      result = new PresentedCertificate(leaf, x5t, Route.SELF_SIGNED, null);
    } else {
      throw refuse("the client certificate is neither self-signed nor issued by this broker's device CA");
    }
    if (revocations.isRevoked(SubjectKind.X5T_S256, x5t)) {
      throw refuse("the client certificate has been revoked");
    }
    return result;
  }

  private static boolean signedBy(X509Certificate certificate, PublicKey key) {
    try {
      certificate.verify(key, BOUNCY_CASTLE);
      return true;
    } catch (Exception e) {
      return false;
    }
  }

  private static OAuthException refuse(String why) {
    return new OAuthException(OAuthError.INVALID_CLIENT, why);
  }
}
