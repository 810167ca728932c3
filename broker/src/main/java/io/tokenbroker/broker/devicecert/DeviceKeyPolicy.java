package io.tokenbroker.broker.devicecert;

import java.security.PublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;

/**
 * Which device keys the broker accepts, in CSRs and in client certificates: ECDSA on P-256 or P-384, or RSA of
 * 2048 to 8192 bits (RFC 8705 leaves this to the server; weaker keys would make the binding forgeable).
 */
public final class DeviceKeyPolicy {
  static final int MIN_RSA_BITS = 2048;
  static final int MAX_RSA_BITS = 8192;

  private DeviceKeyPolicy() {}

  /** Why {@code key} is not allowed, or empty when it is. */
  public static Optional<String> refusal(PublicKey key) {
    if (key instanceof RSAPublicKey rsa) {
      int bits = rsa.getModulus().bitLength();
      if (bits < MIN_RSA_BITS) {
        return Optional.of("RSA keys must have at least " + MIN_RSA_BITS + " bits, not " + bits);
      }
      return bits > MAX_RSA_BITS ? Optional.of("RSA keys may have at most " + MAX_RSA_BITS + " bits")
          : Optional.empty();
    }
    SubjectPublicKeyInfo info = SubjectPublicKeyInfo.getInstance(key.getEncoded());
    if (!X9ObjectIdentifiers.id_ecPublicKey.equals(info.getAlgorithm().getAlgorithm())) {
      return Optional.of("only EC P-256, EC P-384 and RSA keys are accepted");
    }
    if (!(info.getAlgorithm().getParameters() instanceof ASN1ObjectIdentifier curve)
        || !(curve.equals(SECObjectIdentifiers.secp256r1) || curve.equals(SECObjectIdentifiers.secp384r1))) {
      return Optional.of("EC keys must use the named curve P-256 or P-384");
    }
    return Optional.empty();
  }
}
