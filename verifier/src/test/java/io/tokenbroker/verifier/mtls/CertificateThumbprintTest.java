package io.tokenbroker.verifier.mtls;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenbroker.verifier.testing.TestCertificates;
import java.math.BigInteger;
import java.security.cert.X509Certificate;
import java.util.Base64;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.junit.jupiter.api.Test;

/** RFC 8705 §3.1 x5t#S256, checked against Bouncy Castle's own SHA-256 of the DER. */
class CertificateThumbprintTest {
  @Test
  void x5tS256IsTheUnpaddedBase64UrlSha256OfTheDer() throws Exception {
    X509Certificate cert = TestCertificates.selfSigned("device", BigInteger.ONE).certificate();
    byte[] der = cert.getEncoded();
    SHA256Digest digest = new SHA256Digest();
    digest.update(der, 0, der.length);
    byte[] out = new byte[32];
    digest.doFinal(out, 0);

    String x5t = CertificateThumbprint.x5tS256(cert);
    assertThat(x5t).isEqualTo(Base64.getUrlEncoder().withoutPadding().encodeToString(out)).hasSize(43)
        .doesNotContain("=", "+", "/");
    assertThat(CertificateThumbprint.x5tS256(TestCertificates.selfSigned("device", BigInteger.ONE).certificate()))
        .isNotEqualTo(x5t);
  }
}
