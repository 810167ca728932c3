package io.tokenbroker.broker.tls;

import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.X509TrustManager;

/**
 * The gRPC listener's client-certificate trust manager: it lets any client certificate complete the TLS
 * handshake, so that self-signed device certificates (RFC 8705 §2.2) and device-CA certificates reach the
 * broker. TLS still proves that the client holds the certificate's private key (CertificateVerify).
 *
 * <p>Security: accepting a certificate here authorises nothing. Every decision that depends on a client
 * certificate is made after the handshake: operator and backend roles by
 * {@code api.ClientCertificateAuthenticator} (PKIX against the home CA only), device certificates by
 * {@code devicecert.PresentedCertificates}. This class is never used to check a server.
 */
public final class AnyClientCertificateTrustManager implements X509TrustManager {
  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    if (chain == null || chain.length == 0) {
      throw new CertificateException("empty client certificate chain");
    }
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    throw new CertificateException("this trust manager only checks client certificates");
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    // An empty certificate_authorities list: clients send whatever certificate they have.
    return new X509Certificate[0];
  }
}
