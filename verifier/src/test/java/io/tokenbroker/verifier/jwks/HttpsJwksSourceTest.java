package io.tokenbroker.verifier.jwks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.jwk.JWKSet;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.tokenbroker.verifier.testing.TestCertificates;
import io.tokenbroker.verifier.testing.TestIssuer;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Duration;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The HTTPS jwks_uri source against a real TLS server on loopback. */
class HttpsJwksSourceTest {
  private final TestIssuer issuer = new TestIssuer();
  private final TestCertificates.Issued serverCert = TestCertificates.selfSigned("localhost", BigInteger.TEN);
  private HttpsServer server;
  private volatile int status = 200;
  private volatile String body;

  @BeforeEach
  void start() throws Exception {
    body = issuer.jwks().toString();
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setKeyEntry("server", serverCert.keys().getPrivate(), "pw".toCharArray(),
        new Certificate[] {serverCert.certificate()});
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, "pw".toCharArray());
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(kmf.getKeyManagers(), null, null);
    server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setHttpsConfigurator(new HttpsConfigurator(ssl));
    server.createContext("/.well-known/jwks.json", exchange -> {
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(status, bytes.length);
      exchange.getResponseBody().write(bytes);
      exchange.close();
    });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private SSLContext trusting(Certificate cert) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", cert);
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, tmf.getTrustManagers(), null);
    return ssl;
  }

  private URI uri() {
    return URI.create("https://localhost:" + server.getAddress().getPort() + "/.well-known/jwks.json");
  }

  @Test
  void fetchWhenTheServerIsTrustedThenTheKeysArrive() throws Exception {
    JWKSet keys = new HttpsJwksSource(uri(), trusting(serverCert.certificate()), Duration.ofSeconds(5)).fetch();
    assertThat(keys.getKeyByKeyId(issuer.key().getKeyID())).isNotNull();
  }

  @Test
  void fetchWhenTheServerIsNotTrustedOrAnswersBadlyThenItFails() throws Exception {
    Certificate stranger = TestCertificates.selfSigned("localhost", BigInteger.TWO).certificate();
    assertThatThrownBy(() -> new HttpsJwksSource(uri(), trusting(stranger), Duration.ofSeconds(5)).fetch())
        .isInstanceOf(IOException.class);
    HttpsJwksSource source = new HttpsJwksSource(uri(), trusting(serverCert.certificate()), Duration.ofSeconds(5));
    status = 500;
    assertThatThrownBy(source::fetch).hasMessageContaining("HTTP 500");
    status = 200;
    body = "not json";
    assertThatThrownBy(source::fetch).hasMessageContaining("not a JWK Set");
    body = "{\"keys\":[]," + "\"x\":\"" + "a".repeat(70_000) + "\"}";
    assertThatThrownBy(source::fetch).hasMessageContaining("larger");
  }

  @Test
  void constructorRefusesPlainHttp() {
    assertThatThrownBy(() -> new HttpsJwksSource(URI.create("http://localhost/jwks"), SSLContext.getDefault(),
        Duration.ofSeconds(1))).hasMessageContaining("https");
  }
}
