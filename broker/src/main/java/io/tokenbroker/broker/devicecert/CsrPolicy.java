package io.tokenbroker.broker.devicecert;

import io.tokenbroker.broker.oauth.OAuthError;
import io.tokenbroker.broker.oauth.OAuthException;
import java.security.PublicKey;
import java.security.Provider;
import java.util.Set;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;

/**
 * Checks a device's PKCS#10 request (RFC 2986) and keeps only its public key: bounded size, valid DER, a valid
 * self-signature (proof of possession, RFC 2986 §3), an allowed key ({@link DeviceKeyPolicy}), and no request
 * for a CA certificate. Nothing else is taken from the request: subject and extensions are the broker's.
 */
public final class CsrPolicy {
  /** certificate_service.proto: "at most 8 KiB". */
  public static final int MAX_CSR_BYTES = 8 * 1024;
  private static final Provider BOUNCY_CASTLE = new BouncyCastleProvider();
  /**
   * Self-signature algorithms with a collision-resistant hash (SHA-2). SHA-1 and MD5 signatures are refused: a
   * proof of possession that can be forged by a collision proves nothing.
   */
  private static final Set<ASN1ObjectIdentifier> SIGNATURE_ALGORITHMS = Set.of(
      X9ObjectIdentifiers.ecdsa_with_SHA256, X9ObjectIdentifiers.ecdsa_with_SHA384,
      X9ObjectIdentifiers.ecdsa_with_SHA512, PKCSObjectIdentifiers.sha256WithRSAEncryption,
      PKCSObjectIdentifiers.sha384WithRSAEncryption, PKCSObjectIdentifiers.sha512WithRSAEncryption,
      PKCSObjectIdentifiers.id_RSASSA_PSS);

  private CsrPolicy() {}

  /** The requested public key, or an {@code INVALID_CSR} refusal that says what is wrong. */
  public static PublicKey publicKey(byte[] der) {
    if (der == null || der.length == 0) {
      throw invalid("csr_der is required");
    }
    if (der.length > MAX_CSR_BYTES) {
      throw invalid("the CSR is larger than " + MAX_CSR_BYTES + " bytes");
    }
    PKCS10CertificationRequest parsed;
    try {
      parsed = new PKCS10CertificationRequest(der);
    } catch (Exception e) {
      throw invalid("csr_der is not a DER-encoded PKCS#10 request");
    }
    // From the ASN.1, before a provider builds (and validates, at a cost that grows with its size) the key.
    DeviceKeyPolicy.refusal(parsed.getSubjectPublicKeyInfo()).ifPresent(why -> {
      throw invalid(why);
    });
    if (!SIGNATURE_ALGORITHMS.contains(parsed.getSignatureAlgorithm().getAlgorithm())) {
      throw invalid("the CSR is signed with an algorithm that is not accepted; sign it with ECDSA or RSA over "
          + "SHA-256, SHA-384 or SHA-512");
    }
    JcaPKCS10CertificationRequest csr = new JcaPKCS10CertificationRequest(parsed).setProvider(BOUNCY_CASTLE);
    PublicKey key;
    try {
      key = csr.getPublicKey();
    } catch (Exception e) {
      throw invalid("the CSR's public key is not usable");
    }
    boolean signed;
    try {
      signed = csr.isSignatureValid(new JcaContentVerifierProviderBuilder().setProvider(BOUNCY_CASTLE).build(key));
    } catch (Exception e) {
      signed = false;
    }
    if (!signed) {
      throw invalid("the CSR's signature does not verify with its public key");
    }
    refuseCaRequest(csr);
    return key;
  }

  /** A request for CA powers is refused outright rather than silently downgraded: it is a misconfigured device. */
  private static void refuseCaRequest(PKCS10CertificationRequest csr) {
    // RFC 2985 §5.4.2: extensionRequest is SINGLE VALUE. A second value would go unread (Bouncy Castle reads the
    // first), so a CA request in it would pass.
    Attribute[] requests;
    Extensions requested;
    try {
      requests = csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest);
      if (requests.length > 1 || (requests.length == 1 && requests[0].getAttrValues().size() != 1)) {
        throw invalid("the CSR's extension request is malformed");
      }
      requested = csr.getRequestedExtensions();
    } catch (RuntimeException e) {
      throw invalid("the CSR's extension request is malformed");
    }
    if (requested == null && requests.length > 0) {
      throw invalid("the CSR's extension request is malformed");
    }
    if (requested == null) {
      return;
    }
    try {
      BasicConstraints bc = BasicConstraints.fromExtensions(requested);
      KeyUsage ku = KeyUsage.fromExtensions(requested);
      if ((bc != null && bc.isCA()) || (ku != null
          && (ku.hasUsages(KeyUsage.keyCertSign) || ku.hasUsages(KeyUsage.cRLSign)))) {
        throw invalid("the CSR asks for a CA certificate; device certificates are end-entity certificates");
      }
      if (requested.getExtension(Extension.nameConstraints) != null) {
        throw invalid("the CSR asks for a CA certificate; device certificates are end-entity certificates");
      }
    } catch (IllegalArgumentException e) {
      throw invalid("the CSR's extension request is malformed");
    }
  }

  private static OAuthException invalid(String why) {
    return new OAuthException(OAuthError.INVALID_CSR, why);
  }
}
