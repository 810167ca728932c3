package io.tokenbroker.broker.ops;

import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The operations listener: plain HTTP (Jetty 12) on its own address and port, 127.0.0.1 by default (see
 * {@code ops.host}), for Prometheus and health probes. It carries no tokens and takes no input but a path, so it
 * needs no TLS on loopback; exposing it further is the operator's choice, behind their own network controls.
 */
public final class OperationsServer {
  private final Server server;
  private final ServerConnector connector;

  public OperationsServer(String host, int port, Handler routes) {
    QueuedThreadPool threads = new QueuedThreadPool(8, 1);
    threads.setName("ops");
    server = new Server(threads);
    HttpConfiguration http = new HttpConfiguration();
    http.setSendServerVersion(false);
    http.setSendXPoweredBy(false);
    http.setRequestHeaderSize(8 * 1024);
    connector = new ServerConnector(server, 1, 1, new HttpConnectionFactory(http));
    connector.setHost(host);
    connector.setPort(port);
    server.addConnector(connector);
    server.setHandler(routes);
  }

  public OperationsServer start() throws Exception {
    server.start();
    return this;
  }

  /** The bound port (useful with {@code ops.port=0}). */
  public int port() {
    return connector.getLocalPort();
  }

  /** The address the listener is bound to, as configured. */
  public String host() {
    return connector.getHost();
  }

  public void stop() throws Exception {
    server.stop();
  }
}
