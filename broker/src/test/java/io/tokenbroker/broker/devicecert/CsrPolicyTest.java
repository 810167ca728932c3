package io.tokenbroker.broker.devicecert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.tokenbroker.broker.oauth.OAuthError;
import io.tokenbroker.broker.oauth.OAuthException;
import io.tokenbroker.broker.testing.TestCertificates;
import java.security.KeyPair;
import org.junit.jupiter.api.Test;

/** The CSR checks alone (RFC 2986), without a broker: what is accepted and why the rest is not. */
class CsrPolicyTest {
  private static String refusal(byte[] csr) {
    OAuthException e = catchThrowableOfType(OAuthException.class, () -> CsrPolicy.publicKey(csr));
    assertThat(e).isNotNull();
    assertThat(e.error()).isEqualTo(OAuthError.INVALID_CSR);
    return e.description();
  }

  @Test
  void allowedKeysGiveBackTheRequestedPublicKey() {
    for (KeyPair pair : new KeyPair[] {TestCertificates.p256(), TestCertificates.ec("secp384r1"),
        TestCertificates.rsa(2048)}) {
      assertThat(CsrPolicy.publicKey(TestCertificates.csr(pair)).getEncoded())
          .isEqualTo(pair.getPublic().getEncoded());
    }
  }

  @Test
  void weakOrUnlistedKeysAreRefused() {
    assertThat(refusal(TestCertificates.csr(TestCertificates.rsa(1024)))).contains("at least 2048 bits");
    assertThat(refusal(TestCertificates.csr(TestCertificates.ec("secp521r1")))).contains("P-256 or P-384");
  }

  @Test
  void aDamagedSignatureIsRefused() {
    assertThat(refusal(TestCertificates.badSignatureCsr(TestCertificates.p256()))).contains("signature");
  }

  @Test
  void oversizedGarbageAndEmptyRequestsAreRefused() {
    assertThat(refusal(TestCertificates.oversizedCsr(TestCertificates.p256()))).contains("larger than 8192");
    assertThat(refusal(new byte[] {0x30, 0x03, 0x02, 0x01, 0x01})).contains("not a DER-encoded PKCS#10");
    assertThat(refusal(new byte[0])).contains("required");
    assertThat(refusal(null)).contains("required");
  }

  @Test
  void aRequestForCaPowersIsRefusedNotSilentlyDowngraded() {
    assertThat(refusal(TestCertificates.caCsr(TestCertificates.p256()))).contains("CA certificate");
  }
}
