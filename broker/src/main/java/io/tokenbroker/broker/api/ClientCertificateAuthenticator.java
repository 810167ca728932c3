package io.tokenbroker.broker.api;

import java.security.GeneralSecurityException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.security.auth.x500.X500Principal;

/**
 * Decides who a TLS client certificate belongs to. It must chain to the configured client CA and allow client
 * authentication; its organisational unit says the role: {@code operators} run the fleet, {@code backends}
 * are resource servers that may introspect tokens and watch revocations.
 */
public final class ClientCertificateAuthenticator {
  private static final String CLIENT_AUTH_EKU = "1.3.6.1.5.5.7.3.2";

  /** The roles a client certificate can carry. */
  public enum Role { OPERATOR, BACKEND }

  /** An authenticated caller: its subject (for audit events) and role. */
  public record Identity(String name, Role role) {}

  private final Set<TrustAnchor> anchors;

  public ClientCertificateAuthenticator(List<X509Certificate> clientCas) {
    this.anchors = clientCas.stream().map(c -> new TrustAnchor(c, null)).collect(Collectors.toUnmodifiableSet());
  }

  /** The caller, or empty when {@code chain} is not a valid client certificate with a known role. */
  public Optional<Identity> authenticate(List<X509Certificate> chain) {
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
      String subject = leaf.getSubjectX500Principal().getName(X500Principal.RFC2253);
      return role(subject).map(role -> new Identity(subject, role));
    } catch (GeneralSecurityException | InvalidNameException e) {
      return Optional.empty();
    }
  }

  private static Optional<Role> role(String subject) throws InvalidNameException {
    for (Rdn rdn : new LdapName(subject).getRdns()) {
      if (rdn.getType().equalsIgnoreCase("OU")) {
        String ou = rdn.getValue().toString().toLowerCase(Locale.ROOT);
        if (ou.equals("operators")) {
          return Optional.of(Role.OPERATOR);
        }
        if (ou.equals("backends")) {
          return Optional.of(Role.BACKEND);
        }
      }
    }
    return Optional.empty();
  }
}
