package io.tokenbroker.broker.devicecert;

import io.tokenbroker.broker.hsm.Pkcs11Token;
import io.tokenbroker.broker.hsm.TokenKeyHandle;
import io.tokenbroker.broker.keys.KeyOperationException;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HexFormat;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The device CA (RFC 8705 §2.1 PKI method): an EC P-256 key generated inside the HSM (the provider's template
 * makes it a sensitive, non-extractable, sign-only token object, like the signing keys) and its self-signed CA
 * certificate, stored together under the alias {@value #ALIAS} so both survive restarts. Device certificates
 * are built with Bouncy Castle and signed by a {@link ContentSigner} over the PKCS#11 key: the private key never
 * leaves the token.
 *
 * <p>Thread-safety: thread-safe (the provider serialises its sessions).
 */
public final class DeviceCertificateAuthority {
  static final String ALIAS = "tokenbroker-device-ca";
  /** RFC 5280 §4.2.1.6: the URI SAN of a device certificate is this prefix plus the device id. */
  public static final String DEVICE_URI_PREFIX = "urn:tokenbroker:device:";
  private static final String SIGNATURE_ALGORITHM = "SHA256withECDSA";
  private static final Duration CA_LIFETIME = Duration.ofDays(365L * 20);
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Pkcs11Token token;
  private final TokenKeyHandle caKey;
  private final X509Certificate caCertificate;

  private DeviceCertificateAuthority(Pkcs11Token token, PrivateKey caKey, X509Certificate caCertificate) {
    this.token = token;
    this.caKey = new TokenKeyHandle(token, ALIAS, caKey);
    this.caCertificate = caCertificate;
  }

  /** The CA stored in the token, or a new one generated in it when there is none (init, or first start). */
  public static DeviceCertificateAuthority loadOrCreate(Pkcs11Token token, Clock clock) {
    Provider provider = token.provider();
    KeyStore keyStore = token.keyStore();
    try {
      if (keyStore.isKeyEntry(ALIAS)) {
        return new DeviceCertificateAuthority(token, (PrivateKey) keyStore.getKey(ALIAS, null),
            (X509Certificate) keyStore.getCertificate(ALIAS));
      }
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC", provider);
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      KeyPair pair = generator.generateKeyPair();
      X509Certificate certificate = caCertificate(provider, pair, clock.instant());
      keyStore.setKeyEntry(ALIAS, pair.getPrivate(), null, new Certificate[] {certificate});
      // Re-read so the handle in use is the persistent token object under its alias.
      return new DeviceCertificateAuthority(token, (PrivateKey) keyStore.getKey(ALIAS, null),
          (X509Certificate) keyStore.getCertificate(ALIAS));
    } catch (Exception e) {
      throw new KeyOperationException("cannot load or create the device CA key in the HSM: "
          + e.getClass().getSimpleName(), e);
    }
  }

  /** The CA certificate: the trust anchor verifiers use for device certificates. */
  public X509Certificate certificate() {
    return caCertificate;
  }

  /** A new random positive serial of 127 bits (RFC 5280 §4.1.2.2: at most 20 octets, unpredictable). */
  public static BigInteger newSerial() {
    return new BigInteger(127, RANDOM).setBit(126);
  }

  /**
   * Issues an end-entity client certificate for {@code deviceId}: subject CN and URI SAN from the device id only,
   * basicConstraints CA:false, keyUsage digitalSignature, extKeyUsage clientAuth (RFC 5280 §4.2.1.12).
   */
  public X509Certificate issue(String deviceId, PublicKey subjectKey, BigInteger serial, Instant notBefore,
      Instant notAfter) {
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(caCertificate, serial, Date.from(notBefore),
          Date.from(notAfter), new X500Name("CN=" + deviceId), subjectKey)
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
          .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth))
          .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(
              new GeneralName(GeneralName.uniformResourceIdentifier, DEVICE_URI_PREFIX + deviceId)))
          .addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(caCertificate))
          .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(subjectKey));
      ContentSigner signer = new JcaContentSignerBuilder(SIGNATURE_ALGORITHM).setProvider(token.provider())
          .build(caKey.get());
      return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
    } catch (Exception e) {
      token.noteFailure(e);
      throw new KeyOperationException("the HSM could not sign a device certificate: "
          + e.getClass().getSimpleName(), e);
    }
  }

  private static X509Certificate caCertificate(Provider provider, KeyPair pair, Instant now) throws Exception {
    // A per-broker name, so that two brokers' device CAs are never confused by name.
    X500Name name = new X500Name("CN=tokenbroker device CA " + HexFormat.of().formatHex(RANDOM.generateSeed(4))
        + ",O=tokenbroker");
    JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
    X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, newSerial(),
        Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(CA_LIFETIME)), name, pair.getPublic())
        .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
        .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
        .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pair.getPublic()));
    ContentSigner signer = new JcaContentSignerBuilder(SIGNATURE_ALGORITHM).setProvider(provider)
        .build(pair.getPrivate());
    return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
  }
}
