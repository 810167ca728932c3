package io.tokenbroker.broker.devicecert;

import java.io.IOException;
import java.math.BigInteger;
import java.security.PublicKey;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.RSAPublicKey;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;

/**
 * Which device keys the broker accepts, in CSRs and in client certificates: ECDSA on P-256 or P-384, or RSA of
 * 2048 to 8192 bits with a public exponent that is odd, at least 3 and at most 256 bits (RFC 8705 leaves this to
 * the server; weaker keys would make the binding forgeable: with an exponent of 1 anyone can sign).
 */
public final class DeviceKeyPolicy {
  static final int MIN_RSA_BITS = 2048;
  static final int MAX_RSA_BITS = 8192;
  /** NIST SP 800-89 §5.3.3 and the CA/Browser Forum Baseline Requirements §6.1.6 allow at most 2^256 - 1. */
  static final int MAX_RSA_EXPONENT_BITS = 256;
  private static final BigInteger THREE = BigInteger.valueOf(3);

  private DeviceKeyPolicy() {}

  /** Why {@code key} is not allowed, or empty when it is. */
  public static Optional<String> refusal(PublicKey key) {
    return refusal(SubjectPublicKeyInfo.getInstance(key.getEncoded()));
  }

  /**
   * Why the key {@code info} encodes is not allowed, or empty when it is. Reads the ASN.1 only, so that a
   * request is refused before a provider builds the key: Bouncy Castle validates an RSA modulus with a
   * Miller-Rabin round whose cost grows with its size (seconds for 16,384 bits).
   */
  public static Optional<String> refusal(SubjectPublicKeyInfo info) {
    ASN1ObjectIdentifier algorithm = info.getAlgorithm().getAlgorithm();
    if (PKCSObjectIdentifiers.rsaEncryption.equals(algorithm)
        || PKCSObjectIdentifiers.id_RSASSA_PSS.equals(algorithm)) {
      return rsaRefusal(info);
    }
    if (!X9ObjectIdentifiers.id_ecPublicKey.equals(algorithm)) {
      return Optional.of("only EC P-256, EC P-384 and RSA keys are accepted");
    }
    if (!(info.getAlgorithm().getParameters() instanceof ASN1ObjectIdentifier curve)
        || !(curve.equals(SECObjectIdentifiers.secp256r1) || curve.equals(SECObjectIdentifiers.secp384r1))) {
      return Optional.of("EC keys must use the named curve P-256 or P-384");
    }
    return Optional.empty();
  }

  private static Optional<String> rsaRefusal(SubjectPublicKeyInfo info) {
    RSAPublicKey rsa;
    try {
      rsa = RSAPublicKey.getInstance(info.parsePublicKey());
    } catch (IOException | RuntimeException e) {
      return Optional.of("the RSA public key is not a DER-encoded RSAPublicKey");
    }
    int bits = rsa.getModulus().bitLength();
    if (bits < MIN_RSA_BITS) {
      return Optional.of("RSA keys must have at least " + MIN_RSA_BITS + " bits, not " + bits);
    }
    if (bits > MAX_RSA_BITS) {
      return Optional.of("RSA keys may have at most " + MAX_RSA_BITS + " bits");
    }
    // An even exponent has no inverse; 1 makes every value a valid signature; a huge one makes each signature
    // check cost as much as a private-key operation.
    BigInteger e = rsa.getPublicExponent();
    if (!e.testBit(0) || e.compareTo(THREE) < 0 || e.bitLength() > MAX_RSA_EXPONENT_BITS) {
      return Optional.of("RSA public exponents must be odd, at least 3 and at most " + MAX_RSA_EXPONENT_BITS
          + " bits");
    }
    return Optional.empty();
  }
}
