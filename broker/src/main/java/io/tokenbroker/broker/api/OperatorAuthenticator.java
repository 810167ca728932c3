package io.tokenbroker.broker.api;

import java.security.GeneralSecurityException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import javax.security.auth.x500.X500Principal;

/**
 * Decides whether a TLS client certificate belongs to an operator: it must chain to the operator CA and allow
 * client authentication. The name used in audit events is the certificate's subject.
 */
public final class OperatorAuthenticator {
  private static final String CLIENT_AUTH_EKU = "1.3.6.1.5.5.7.3.2";
  private final Set<TrustAnchor> anchors;

  public OperatorAuthenticator(List<X509Certificate> operatorCas) {
    this.anchors = operatorCas.stream().map(c -> new TrustAnchor(c, null)).collect(Collectors.toUnmodifiableSet());
  }

  /** The operator's name, or empty when {@code chain} is not an operator certificate. */
  public Optional<String> authenticate(List<X509Certificate> chain) {
    if (chain.isEmpty()) {
      return Optional.empty();
    }
    X509Certificate leaf = chain.get(0);
    try {
      List<String> eku = leaf.getExtendedKeyUsage();
      if (eku == null || !eku.contains(CLIENT_AUTH_EKU)) {
        return Optional.empty();
      }
      PKIXParameters params = new PKIXParameters(anchors);
      params.setRevocationEnabled(false);
      CertPathValidator.getInstance("PKIX")
          .validate(CertificateFactory.getInstance("X.509").generateCertPath(chain), params);
      return Optional.of(leaf.getSubjectX500Principal().getName(X500Principal.RFC2253));
    } catch (GeneralSecurityException e) {
      return Optional.empty();
    }
  }
}
