package io.tokenbroker.broker.binding;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Base64;

/** RFC 8705 §3.1 {@code x5t#S256}: base64url (no padding) of the SHA-256 hash of the certificate's DER. */
public final class CertificateThumbprint {
  private CertificateThumbprint() {}

  public static String x5tS256(X509Certificate certificate) {
    try {
      return x5tS256(certificate.getEncoded());
    } catch (CertificateEncodingException e) {
      throw new IllegalArgumentException("the certificate cannot be DER-encoded", e);
    }
  }

  public static String x5tS256(byte[] der) {
    try {
      return Base64.getUrlEncoder().withoutPadding().encodeToString(MessageDigest.getInstance("SHA-256").digest(der));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is always available", e);
    }
  }
}
