package io.tokenbroker.broker.it;

import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** Clients that trust only the broker home's CA, as a verifier or device would. */
final class BrokerClients {
  private BrokerClients() {}

  static ManagedChannel grpcChannel(Path home, int port) throws Exception {
    ChannelCredentials credentials = TlsChannelCredentials.newBuilder()
        .trustManager(home.resolve("tls/ca.crt").toFile()).build();
    return NettyChannelBuilder.forAddress("localhost", port, credentials).build();
  }

  /** A channel presenting the home's operator certificate, as the operator CLI does. */
  static ManagedChannel operatorChannel(Path home, int port) throws Exception {
    ChannelCredentials credentials = TlsChannelCredentials.newBuilder()
        .keyManager(home.resolve("tls/operator.crt").toFile(), home.resolve("tls/operator.key").toFile())
        .trustManager(home.resolve("tls/ca.crt").toFile()).build();
    return NettyChannelBuilder.forAddress("localhost", port, credentials).build();
  }

  static HttpResponse<String> httpsGet(Path home, int port, String path) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    try (InputStream in = Files.newInputStream(home.resolve("tls/ca.crt"))) {
      Certificate ca = CertificateFactory.getInstance("X.509").generateCertificate(in);
      trust.setCertificateEntry("ca", ca);
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, tmf.getTrustManagers(), null);
    HttpClient client = HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(10)).build();
    return client.send(HttpRequest.newBuilder(URI.create("https://localhost:" + port + path))
        .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }
}
