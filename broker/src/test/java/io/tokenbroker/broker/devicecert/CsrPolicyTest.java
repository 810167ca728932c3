package io.tokenbroker.broker.devicecert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.tokenbroker.broker.oauth.OAuthError;
import io.tokenbroker.broker.oauth.OAuthException;
import io.tokenbroker.broker.testing.TestCertificates;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.Signature;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.DERSet;
import org.bouncycastle.asn1.pkcs.CertificationRequest;
import org.bouncycastle.asn1.pkcs.CertificationRequestInfo;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.RSAPublicKey;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
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
  void aSelfSignatureOverSha1IsRefusedEvenWhenItVerifies() throws Exception {
    for (KeyPair pair : new KeyPair[] {TestCertificates.p256(), TestCertificates.rsa(2048)}) {
      String alg = pair.getPrivate().getAlgorithm().equals("RSA") ? "SHA1withRSA" : "SHA1withECDSA";
      byte[] csr = new org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder(new X500Name("CN=device"),
          pair.getPublic()).build(new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder(alg)
          .build(pair.getPrivate())).getEncoded();
      assertThat(new org.bouncycastle.pkcs.PKCS10CertificationRequest(csr).isSignatureValid(
          new org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder().build(pair.getPublic()))).isTrue();
      assertThat(refusal(csr)).contains("algorithm that is not accepted");
    }
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
  void anRsaKeyWithExponentOneIsRefusedThoughItsSignatureVerifies() throws Exception {
    // Found while writing CsrPolicyFuzzTests: with e = 1 the PKCS#1 block itself is a valid signature, so the
    // request proved possession of nothing and anyone could later sign as that certificate's key.
    byte[] forged = CsrPolicyFuzzTests.build(new String[] {"csr", "key rsa-exponent-1", "sign forge"});
    assertThat(refusal(forged)).contains("odd, at least 3");
  }

  @Test
  void anOversizedRsaKeyIsRefusedForItsSizeBeforeAnyProviderBuildsIt() throws Exception {
    // Building (and validating) a 16,000-bit key took seconds; this one Bouncy Castle would not even build.
    KeyPair pair = TestCertificates.rsa(2048);
    SubjectPublicKeyInfo huge = new SubjectPublicKeyInfo(new AlgorithmIdentifier(
        PKCSObjectIdentifiers.rsaEncryption, DERNull.INSTANCE), new RSAPublicKey(BigInteger.ONE.shiftLeft(16_000),
        BigInteger.valueOf(65537)));
    CertificationRequestInfo info = new CertificationRequestInfo(new X500Name("CN=device"), huge, new DERSet());
    Signature signer = Signature.getInstance("SHA256withRSA");
    signer.initSign(pair.getPrivate());
    signer.update(info.getEncoded(ASN1Encoding.DER));
    byte[] der = new CertificationRequest(info, new AlgorithmIdentifier(PKCSObjectIdentifiers.sha256WithRSAEncryption,
        DERNull.INSTANCE), new DERBitString(signer.sign())).getEncoded(ASN1Encoding.DER);
    assertThat(refusal(der)).isEqualTo("RSA keys may have at most 8192 bits");
  }

  @Test
  void aRequestForCaPowersIsRefusedNotSilentlyDowngraded() {
    assertThat(refusal(TestCertificates.caCsr(TestCertificates.p256()))).contains("CA certificate");
  }

  @Test
  void anExtensionRequestWithASecondValueIsRefusedThoughOnlyTheSecondAsksForCaPowers() throws Exception {
    // RFC 2985 §5.4.2: extensionRequest is single-valued; only the first value was read, so this passed.
    Extensions harmless = new Extensions(new Extension(Extension.subjectAlternativeName, false,
        new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, "urn:device")).getEncoded()));
    Extensions ca = new Extensions(new Extension(Extension.basicConstraints, true,
        new BasicConstraints(true).getEncoded()));
    byte[] csr = TestCertificates.csr(TestCertificates.p256(), b -> b.addAttribute(
        PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, new ASN1Encodable[] {harmless, ca}));
    assertThat(refusal(csr)).contains("extension request is malformed");
  }
}
