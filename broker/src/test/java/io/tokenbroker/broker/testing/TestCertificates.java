package io.tokenbroker.broker.testing;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequestBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/** Device keys, self-signed and foreign-CA certificates and PKCS#10 requests for the mTLS tests (Bouncy Castle). */
public final class TestCertificates {
  private static final SecureRandom RANDOM = new SecureRandom();

  private TestCertificates() {}

  public static KeyPair ec(String curve) {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec(curve));
      return g.generateKeyPair();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  public static KeyPair p256() {
    return ec("secp256r1");
  }

  public static KeyPair rsa(int bits) {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(bits);
      return g.generateKeyPair();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** A self-signed client certificate for {@code subject}, valid from {@code notBefore} to {@code notAfter}. */
  public static X509Certificate selfSigned(KeyPair pair, String subject, Instant notBefore, Instant notAfter) {
    X500Name name = new X500Name(subject);
    return sign(name, pair.getPrivate(), name, pair.getPublic(), notBefore, notAfter, false);
  }

  /** A self-signed client certificate valid for a day around now. */
  public static X509Certificate selfSigned(KeyPair pair, String subject) {
    Instant now = Instant.now();
    return selfSigned(pair, subject, now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(1)));
  }

  /** A client certificate for {@code subjectKey} signed by a CA key (which may be any foreign CA). */
  public static X509Certificate issuedBy(KeyPair ca, String caName, PublicKey subjectKey, String subject) {
    Instant now = Instant.now();
    return sign(new X500Name(caName), ca.getPrivate(), new X500Name(subject), subjectKey,
        now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(1)), false);
  }

  private static X509Certificate sign(X500Name issuer, PrivateKey issuerKey, X500Name subject, PublicKey key,
      Instant notBefore, Instant notAfter, boolean ca) {
    try {
      BigInteger serial = new BigInteger(64, RANDOM).add(BigInteger.ONE);
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, serial, Date.from(notBefore),
          Date.from(notAfter), subject, key)
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(ca))
          .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth));
      String alg = issuerKey.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
      return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder(alg)
          .build(issuerKey)));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** A correct PKCS#10 request for {@code pair} (the subject is the device's choice and is ignored). */
  public static byte[] csr(KeyPair pair) {
    return csr(pair, b -> b);
  }

  /** A PKCS#10 request for {@code pair}, changed by {@code customise} before signing. */
  public static byte[] csr(KeyPair pair,
      java.util.function.UnaryOperator<PKCS10CertificationRequestBuilder> customise) {
    try {
      PKCS10CertificationRequestBuilder b = new JcaPKCS10CertificationRequestBuilder(
          new X500Name("CN=whatever-the-device-wants,OU=operators"), pair.getPublic());
      String alg = pair.getPrivate().getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
      return customise.apply(b).build(new JcaContentSignerBuilder(alg).build(pair.getPrivate())).getEncoded();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** A request asking for a CA certificate (basicConstraints CA:true in its extensionRequest). */
  public static byte[] caCsr(KeyPair pair) {
    return csr(pair, b -> {
      try {
        ExtensionsGenerator g = new ExtensionsGenerator();
        g.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        return b.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, g.generate());
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
  }

  /** A request larger than 8 KiB (a large extension in its extensionRequest). */
  public static byte[] oversizedCsr(KeyPair pair) {
    return csr(pair, b -> {
      try {
        Extensions ext = new Extensions(new Extension(Extension.subjectDirectoryAttributes, false,
            new DEROctetString(new DEROctetString(new byte[9000]))));
        return b.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, ext);
      } catch (java.io.IOException e) {
        throw new IllegalStateException(e);
      }
    });
  }

  /** A correct request whose signature was then damaged. */
  public static byte[] badSignatureCsr(KeyPair pair) {
    byte[] der = csr(pair);
    der[der.length - 3] ^= 0x5a;
    return der;
  }
}
