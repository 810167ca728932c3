package io.tokenbroker.broker.devicecert;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenbroker.broker.testing.TestCertificates;
import java.math.BigInteger;
import java.security.interfaces.RSAPublicKey;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.junit.jupiter.api.Test;

/** The device key rules read from the ASN.1 of a key, as CSRs and client certificates carry it. */
class DeviceKeyPolicyTest {
  private static final BigInteger MODULUS = ((RSAPublicKey) TestCertificates.rsa(2048).getPublic()).getModulus();

  private static SubjectPublicKeyInfo rsa(BigInteger modulus, BigInteger exponent) throws Exception {
    return new SubjectPublicKeyInfo(new AlgorithmIdentifier(PKCSObjectIdentifiers.rsaEncryption, DERNull.INSTANCE),
        new org.bouncycastle.asn1.pkcs.RSAPublicKey(modulus, exponent));
  }

  @Test
  void rsaExponentsThatMakeSignaturesForgeableOrCostlyAreRefused() throws Exception {
    // 1: every value is its own signature; even: not an RSA key; 2^300+1: each check costs a private-key operation.
    for (BigInteger e : new BigInteger[] {BigInteger.ONE, BigInteger.TWO, BigInteger.valueOf(65536),
        BigInteger.ONE.shiftLeft(300).add(BigInteger.ONE)}) {
      assertThat(DeviceKeyPolicy.refusal(rsa(MODULUS, e))).as("e = %s", e)
          .hasValueSatisfying(why -> assertThat(why).contains("odd, at least 3 and at most 256 bits"));
    }
  }

  @Test
  void usualRsaExponentsAreAccepted() throws Exception {
    for (BigInteger e : new BigInteger[] {BigInteger.valueOf(3), BigInteger.valueOf(65537),
        BigInteger.ONE.shiftLeft(255).add(BigInteger.ONE)}) {
      assertThat(DeviceKeyPolicy.refusal(rsa(MODULUS, e))).as("e = %s", e).isEmpty();
    }
  }

  @Test
  void theSizeOfAnRsaKeyIsReadWithoutBuildingIt() throws Exception {
    // Even, so no provider would build it: only the ASN.1 can say how large it is.
    BigInteger huge = BigInteger.ONE.shiftLeft(16_000);
    assertThat(DeviceKeyPolicy.refusal(rsa(huge, BigInteger.valueOf(65537)))).hasValue(
        "RSA keys may have at most 8192 bits");
    assertThat(DeviceKeyPolicy.refusal(TestCertificates.rsa(2048).getPublic())).isEmpty();
    assertThat(DeviceKeyPolicy.refusal(TestCertificates.p256().getPublic())).isEmpty();
  }
}
