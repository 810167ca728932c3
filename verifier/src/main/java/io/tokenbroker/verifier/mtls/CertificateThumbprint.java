package io.tokenbroker.verifier.mtls;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Base64;

/** RFC 8705 §3.1: {@code x5t#S256}, the base64url (no padding) SHA-256 of a certificate's DER encoding. */
public final class CertificateThumbprint {
  private CertificateThumbprint() {}

  /** The {@code x5t#S256} value of {@code certificate}. */
  public static String x5tS256(X509Certificate certificate) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded());
      return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
    } catch (CertificateEncodingException e) {
      throw new IllegalArgumentException("the certificate cannot be DER-encoded", e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }
}
