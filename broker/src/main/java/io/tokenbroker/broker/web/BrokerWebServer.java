package io.tokenbroker.broker.web;

import io.tokenbroker.broker.keys.SigningKeyManager;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The broker's HTTPS side (Jetty 12, TLS only). It serves what standard resource servers fetch: the JWK Set at
 * {@code /.well-known/jwks.json} (RFC 7517 §5, content type RFC 7517 §8.5.1). The verification page and the
 * RFC 8414 metadata join it in later releases.
 */
public final class BrokerWebServer {
  public static final String JWKS_PATH = "/.well-known/jwks.json";

  private final Server server;
  private final ServerConnector connector;

  public BrokerWebServer(String host, int port, KeyStore tlsKeyStore, char[] keyStorePassword,
      SigningKeyManager keys) {
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
    server.setHandler(new Routes(keys));
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

  private static final class Routes extends Handler.Abstract {
    private final SigningKeyManager keys;

    Routes(SigningKeyManager keys) {
      this.keys = keys;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
      String path = Request.getPathInContext(request);
      response.getHeaders().put("X-Content-Type-Options", "nosniff");
      if (!JWKS_PATH.equals(path)) {
        return respond(response, callback, HttpStatus.NOT_FOUND_404, "text/plain; charset=utf-8", "not found\n");
      }
      if (!HttpMethod.GET.is(request.getMethod()) && !HttpMethod.HEAD.is(request.getMethod())) {
        response.getHeaders().put(HttpHeader.ALLOW, "GET, HEAD");
        return respond(response, callback, HttpStatus.METHOD_NOT_ALLOWED_405, "text/plain; charset=utf-8",
            "method not allowed\n");
      }
      // Short caching: verifiers refetch on an unknown kid anyway, and rotation must reach them quickly.
      response.getHeaders().put(HttpHeader.CACHE_CONTROL, "public, max-age=60");
      return respond(response, callback, HttpStatus.OK_200, "application/jwk-set+json",
          keys.publishedKeys().toString());
    }

    private static boolean respond(Response response, Callback callback, int status, String type, String body) {
      response.setStatus(status);
      response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
      response.write(true, ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8)), callback);
      return true;
    }
  }
}
