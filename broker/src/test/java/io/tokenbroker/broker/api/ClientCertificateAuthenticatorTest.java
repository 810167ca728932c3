package io.tokenbroker.broker.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenbroker.broker.api.ClientCertificateAuthenticator.Role;
import io.tokenbroker.broker.tls.DevCertificates;
import io.tokenbroker.broker.tls.TlsKeyStores;
import io.tokenbroker.broker.testing.TestCertificates;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Roles come only from certificates that chain to the home CA (PKIX), never from a subject the caller chose:
 * the TLS listener accepts any client certificate (RFC 8705 §2.2), so this check is the whole defence.
 */
class ClientCertificateAuthenticatorTest {
  @TempDir Path dir;
  private DevCertificates.Written home;
  private ClientCertificateAuthenticator authenticator;

  @BeforeEach
  void homeCa() throws Exception {
    home = new DevCertificates(Clock.systemUTC()).write(dir.resolve("home"), List.of());
    authenticator = new ClientCertificateAuthenticator(List.of(read(home.caCertificate())));
  }

  private static X509Certificate read(Path pem) throws Exception {
    return (X509Certificate) TlsKeyStores.readCertificates(pem).iterator().next();
  }

  @Test
  void homeCaCertificatesCarryTheirRole() throws Exception {
    assertThat(authenticator.authenticate(List.of(read(home.operatorCertificate())))).get()
        .extracting(ClientCertificateAuthenticator.Identity::role).isEqualTo(Role.OPERATOR);
    assertThat(authenticator.authenticate(List.of(read(home.backendCertificate())))).get()
        .extracting(ClientCertificateAuthenticator.Identity::role).isEqualTo(Role.BACKEND);
  }

  @Test
  void aSelfSignedCertificateNamingTheOperatorsUnitHasNoRole() {
    KeyPair key = TestCertificates.p256();
    assertThat(authenticator.authenticate(List.of(TestCertificates.selfSigned(key,
        "CN=mallory,OU=operators,O=tokenbroker dev")))).isEmpty();
  }

  @Test
  void anOperatorCertificateOfAnotherCaHasNoRoleEvenWhenItBringsItsOwnCaInTheChain() throws Exception {
    DevCertificates.Written foreign = new DevCertificates(Clock.systemUTC()).write(dir.resolve("foreign"), List.of());
    assertThat(authenticator.authenticate(List.of(read(foreign.operatorCertificate()),
        read(foreign.caCertificate())))).isEmpty();
  }

  @Test
  void aCertificateFromAnotherCaWithTheHomeCaSubjectHasNoRole() throws Exception {
    // Same issuer name as the home CA, different key: only the signature decides.
    KeyPair impostorCa = TestCertificates.p256();
    KeyPair key = TestCertificates.p256();
    String homeCaName = read(home.caCertificate()).getSubjectX500Principal().getName();
    assertThat(authenticator.authenticate(List.of(TestCertificates.issuedBy(impostorCa, homeCaName,
        key.getPublic(), "CN=mallory,OU=operators")))).isEmpty();
  }
}
