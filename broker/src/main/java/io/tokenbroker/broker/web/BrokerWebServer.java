package io.tokenbroker.broker.web;

import java.security.KeyStore;
import java.time.Duration;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
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
 *
 * <p>Bounded: 32 worker threads, request headers {@link #MAX_REQUEST_HEADER_BYTES}, connections
 * {@link #MAX_CONNECTIONS}, idle connections closed after {@link #IDLE_TIMEOUT}; form bodies are bounded by the
 * handler that reads them.
 */
public final class BrokerWebServer {
  public static final String JWKS_PATH = "/.well-known/jwks.json";
  /** Request line plus headers; more is answered 431. No request of the verification page needs more. */
  public static final int MAX_REQUEST_HEADER_BYTES = 8 * 1024;
  /** A connection that sends nothing for this long is closed (a browser reconnects on its next request). */
  public static final Duration IDLE_TIMEOUT = Duration.ofSeconds(30);
  /** While this many connections are open, no new one is accepted (they wait in the kernel's backlog). */
  public static final int MAX_CONNECTIONS = 1000;
  /** While at {@link #MAX_CONNECTIONS}, idle connections are closed after this much shorter time. */
  public static final Duration IDLE_TIMEOUT_AT_LIMIT = Duration.ofSeconds(5);

  private final Server server;
  private final ServerConnector connector;

  public BrokerWebServer(String host, int port, KeyStore tlsKeyStore, char[] keyStorePassword,
      Handler routes) {
    this(host, port, tlsKeyStore, keyStorePassword, routes, MAX_CONNECTIONS);
  }

  /** As the public constructor, with another connection limit (tests). */
  BrokerWebServer(String host, int port, KeyStore tlsKeyStore, char[] keyStorePassword, Handler routes,
      int maxConnections) {
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
    http.setRequestHeaderSize(MAX_REQUEST_HEADER_BYTES);
    http.addCustomizer(new SecureRequestCustomizer(false));
    connector = new ServerConnector(server, new SslConnectionFactory(tls, "http/1.1"),
        new HttpConnectionFactory(http));
    connector.setHost(host);
    connector.setPort(port);
    connector.setIdleTimeout(IDLE_TIMEOUT.toMillis());
    server.addConnector(connector);
    // Counts TCP connections, before TLS: a client that opens many and never handshakes is limited too.
    NetworkConnectionLimit limit = new NetworkConnectionLimit(maxConnections, connector);
    limit.setEndPointIdleTimeout(IDLE_TIMEOUT_AT_LIMIT.toMillis());
    server.addBean(limit);
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
