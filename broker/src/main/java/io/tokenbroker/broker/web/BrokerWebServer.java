package io.tokenbroker.broker.web;

import java.security.KeyStore;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The broker's HTTPS side (Jetty 12, TLS only, on its own port with the gRPC listener's certificate). It serves
 * what {@link WebRoutes} routes: the JWK Set at {@code /.well-known/jwks.json} (RFC 7517 §5, content type
 * RFC 7517 §8.5.1), the RFC 8414 metadata and the device verification page (RFC 8628 §3.3).
 */
public final class BrokerWebServer {
  public static final String JWKS_PATH = "/.well-known/jwks.json";

  private final Server server;
  private final ServerConnector connector;

  public BrokerWebServer(String host, int port, KeyStore tlsKeyStore, char[] keyStorePassword,
      Handler routes) {
    QueuedThreadPool threads = new QueuedThreadPool(32, 2);
    threads.setName("https");
    server = new Server(threads);
    SslContextFactory.Server tls = new SslContextFactory.Server();
    tls.setKeyStore(tlsKeyStore);
    tls.setKeyStorePassword(new String(keyStorePassword));
    tls.setIncludeProtocols("TLSv1.3", "TLSv1.2");
    HttpConfiguration http = new HttpConfiguration();
    http.setSendServerVersion(false);
    http.setSendXPoweredBy(false);
    http.setRequestHeaderSize(8 * 1024);
    http.addCustomizer(new SecureRequestCustomizer(false));
    connector = new ServerConnector(server, new SslConnectionFactory(tls, "http/1.1"),
        new HttpConnectionFactory(http));
    connector.setHost(host);
    connector.setPort(port);
    server.addConnector(connector);
    server.setHandler(new RequestIdHandler(routes));
  }

  public BrokerWebServer start() throws Exception {
    server.start();
    return this;
  }

  public int port() {
    return connector.getLocalPort();
  }

  public void stop() throws Exception {
    server.stop();
  }
}
