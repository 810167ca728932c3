package io.tokenbroker.broker.devicecert;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.security.AlgorithmParameters;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PSSParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.bouncycastle.asn1.pkcs.CertificationRequest;
import org.bouncycastle.asn1.pkcs.CertificationRequestInfo;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;

/**
 * The fuzz test's own reading of what {@link CsrPolicy} may accept, written apart from it: the request parses
 * as RFC 2986 DER, its key is what the JDK (not Bouncy Castle) decodes from the request and is allowed by
 * certificate_service.proto (EC P-256/P-384, RSA 2048-8192 bits, with a public exponent that is odd, at least 3
 * and at most 256 bits as the CA/Browser Forum Baseline Requirements §6.1.6 and NIST SP 800-89 ask), its
 * signature verifies with the JDK's providers, and no extension request anywhere in it asks for CA powers.
 */
final class IndependentCsrCheck {
  /** The signature algorithms a device may use (SHA-2 only), as the JDK names them. */
  private static final Map<ASN1ObjectIdentifier, String> SIGNATURES = Map.of(
      PKCSObjectIdentifiers.sha256WithRSAEncryption, "SHA256withRSA",
      PKCSObjectIdentifiers.sha384WithRSAEncryption, "SHA384withRSA",
      PKCSObjectIdentifiers.sha512WithRSAEncryption, "SHA512withRSA",
      PKCSObjectIdentifiers.id_RSASSA_PSS, "RSASSA-PSS",
      X9ObjectIdentifiers.ecdsa_with_SHA256, "SHA256withECDSA",
      X9ObjectIdentifiers.ecdsa_with_SHA384, "SHA384withECDSA",
      X9ObjectIdentifiers.ecdsa_with_SHA512, "SHA512withECDSA");

  private IndependentCsrCheck() {}

  static void assertAcceptable(byte[] der, PublicKey accepted) throws Exception {
    CertificationRequest request = CertificationRequest.getInstance(ASN1Primitive.fromByteArray(der));
    CertificationRequestInfo info = request.getCertificationRequestInfo();
    byte[] spki = info.getSubjectPublicKeyInfo().getEncoded(ASN1Encoding.DER);
    ASN1ObjectIdentifier keyType = info.getSubjectPublicKeyInfo().getAlgorithm().getAlgorithm();
    String keyAlgorithm = keyType.equals(PKCSObjectIdentifiers.rsaEncryption) ? "RSA"
        : keyType.equals(PKCSObjectIdentifiers.id_RSASSA_PSS) ? "RSASSA-PSS" : "EC";
    PublicKey jdk;
    try {
      jdk = KeyFactory.getInstance(keyAlgorithm, keyAlgorithm.equals("EC") ? "SunEC" : "SunRsaSign")
          .generatePublic(new X509EncodedKeySpec(spki));
    } catch (InvalidKeySpecException e) {
      throw new AssertionError("accepted a " + keyAlgorithm + " key the JDK refuses: " + e.getMessage());
    }
    if (jdk instanceof RSAPublicKey rsa) {
      assertThat(accepted).isInstanceOfSatisfying(RSAPublicKey.class, k -> {
        assertThat(k.getModulus()).isEqualTo(rsa.getModulus());
        assertThat(k.getPublicExponent()).isEqualTo(rsa.getPublicExponent());
      });
      assertThat(rsa.getModulus().bitLength()).as("RSA modulus bits").isBetween(2048, 8192);
      BigInteger e = rsa.getPublicExponent();
      assertThat(e.testBit(0) && e.compareTo(BigInteger.valueOf(3)) >= 0 && e.bitLength() <= 256)
          .as("RSA public exponent %s is odd, at least 3, at most 256 bits", e.bitLength() > 64 ? "(long)" : e)
          .isTrue();
    } else {
      ECPublicKey ec = (ECPublicKey) jdk;
      assertThat(accepted).isInstanceOfSatisfying(ECPublicKey.class, k -> assertThat(k.getW()).isEqualTo(ec.getW()));
      assertThat(curveName(ec.getParams())).isIn("secp256r1", "secp384r1");
    }
    assertThat(signatureVerifies(request, jdk)).as("the request's signature verifies with the JDK").isTrue();
    for (Attribute attribute : attributes(info)) {
      if (!attribute.getAttrType().equals(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)) {
        continue;
      }
      for (ASN1Encodable value : attribute.getAttributeValues()) {
        Extensions extensions = Extensions.getInstance(value);
        BasicConstraints bc = BasicConstraints.fromExtensions(extensions);
        KeyUsage ku = KeyUsage.fromExtensions(extensions);
        assertThat(bc != null && bc.isCA()).as("asks for cA").isFalse();
        assertThat(ku != null && (ku.hasUsages(KeyUsage.keyCertSign) || ku.hasUsages(KeyUsage.cRLSign)))
            .as("asks for keyCertSign or cRLSign").isFalse();
        assertThat(extensions.getExtension(Extension.nameConstraints)).as("asks for name constraints").isNull();
      }
    }
  }

  private static List<Attribute> attributes(CertificationRequestInfo info) {
    return info.getAttributes() == null ? List.of()
        : Arrays.stream(info.getAttributes().toArray()).map(Attribute::getInstance).toList();
  }

  private static boolean signatureVerifies(CertificationRequest request, PublicKey key) throws Exception {
    AlgorithmIdentifier algorithm = request.getSignatureAlgorithm();
    String name = SIGNATURES.get(algorithm.getAlgorithm());
    assertThat(name).as("a signature algorithm the JDK checks: %s", algorithm.getAlgorithm()).isNotNull();
    Signature signature = Signature.getInstance(name, key instanceof RSAPublicKey ? "SunRsaSign" : "SunEC");
    if (name.equals("RSASSA-PSS")) {
      AlgorithmParameters pss = AlgorithmParameters.getInstance("RSASSA-PSS", "SunRsaSign");
      pss.init(algorithm.getParameters().toASN1Primitive().getEncoded(ASN1Encoding.DER));
      signature.setParameter(pss.getParameterSpec(PSSParameterSpec.class));
    } else if (algorithm.getParameters() != null && !DERNull.INSTANCE.equals(algorithm.getParameters())) {
      return false; // RFC 4055 §5 / RFC 5758 §3.2: absent or NULL
    }
    signature.initVerify(key);
    signature.update(request.getCertificationRequestInfo().getEncoded(ASN1Encoding.DER));
    return signature.verify(request.getSignature().getOctets());
  }

  private static String curveName(ECParameterSpec params) throws Exception {
    for (String name : List.of("secp256r1", "secp384r1")) {
      AlgorithmParameters named = AlgorithmParameters.getInstance("EC", "SunEC");
      named.init(new ECGenParameterSpec(name));
      ECParameterSpec spec = named.getParameterSpec(ECParameterSpec.class);
      if (spec.getOrder().equals(params.getOrder()) && spec.getGenerator().equals(params.getGenerator())
          && spec.getCurve().equals(params.getCurve())) {
        return name;
      }
    }
    return params.toString();
  }
}
