package io.tokenbroker.broker.cli;

import io.grpc.InsecureServerCredentials;
import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.tokenbroker.broker.BrokerApplication;
import io.tokenbroker.broker.BrokerContext;
import io.tokenbroker.broker.BrokerFailure;
import io.tokenbroker.broker.api.BrokerServer;
import io.tokenbroker.broker.config.BrokerConfig;
import io.tokenbroker.broker.config.ConfigKey;
import io.tokenbroker.broker.logging.BrokerLogging;
import io.tokenbroker.broker.ops.OperationsRoutes;
import io.tokenbroker.broker.ops.OperationsServer;
import io.tokenbroker.broker.ops.ReadinessMonitor;
import io.tokenbroker.broker.tls.AnyClientCertificateTrustManager;
import io.tokenbroker.broker.tls.TlsKeyStores;
import io.tokenbroker.broker.web.BrokerWebServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.HexFormat;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code broker serve}: runs the gRPC, HTTPS and operations listeners until stopped. */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = "Run the broker: gRPC over TLS, HTTPS for the JWKS, metadata and the /device page, and plain "
        + "HTTP on loopback for /metrics, /healthz and /readyz.")
final class ServeCommand implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(ServeCommand.class);

  @Mixin HomeOption home;

  @Option(names = "--insecure-dev", description = "Plaintext gRPC for local development; refused unless grpc.host "
      + "is a loopback address. The HTTPS listener keeps TLS.")
  boolean insecureDev;

  @Override
  public void run() {
    BrokerConfig config = withConcreteHttpsPort(BrokerConfig.load(home.path()));
    BrokerLogging.configure(config.logSettings());
    if (!config.environmentOverrides().isEmpty()) {
      log.info("settings from the environment: {}", String.join(", ", config.environmentOverrides()));
    }
    if (insecureDev) {
      requireLoopback(config.grpcHost());
    }
    PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    BrokerContext context = BrokerContext.open(config, System.getenv(), Clock.systemUTC(), metrics);
    BrokerServer grpc = null;
    BrokerApplication app = null;
    BrokerWebServer web = null;
    OperationsServer ops = null;
    ScheduledExecutorService maintenance = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "key-maintenance");
      t.setDaemon(true);
      return t;
    });
    try {
      BrokerApplication application = new BrokerApplication(context, Clock.systemUTC());
      app = application;
      // Sizes, keepalive, idle and handshake limits and the call executor: GrpcServerLimits.
      grpc = BrokerServer.overNetty(grpcBuilder(config), application.services(), application.callGuard(),
          application.grpcMetrics()).start();
      ReadinessMonitor readiness = application.startHealthMonitoring(grpc::setServing);
      if (config.opsEnabled()) {
        ops = new OperationsServer(config.opsHost(), config.opsPort(),
            new OperationsRoutes(metrics::scrape, readiness::current)).start();
      }
      char[] storePassword = HexFormat.of().formatHex(new SecureRandom().generateSeed(16)).toCharArray();
      KeyStore tlsStore = TlsKeyStores.keyStore(config.tlsCertificate(), config.tlsPrivateKey(), storePassword);
      web = new BrokerWebServer(config.httpsHost(), config.httpsPort(), tlsStore, storePassword,
          application.webRoutes()).start();
    } catch (Exception e) {
      stopQuietly(grpc, web, ops, app, context);
      throw new BrokerFailure(BrokerFailure.EXIT_CONFIG, "cannot start the listeners: " + rootMessage(e), e);
    }
    maintenance.scheduleWithFixedDelay(app::maintain, 1, 1, TimeUnit.MINUTES);

    CountDownLatch stopped = new CountDownLatch(1);
    BrokerServer grpcServer = grpc;
    BrokerWebServer webServer = web;
    OperationsServer opsServer = ops;
    BrokerApplication running = app;
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      log.info("stopping");
      maintenance.shutdownNow();
      // Streams end first (they never finish on their own); then in-flight grants drain; then the writer stops.
      running.revocationFeed().close();
      stopQuietly(grpcServer, webServer, opsServer, running, context);
      stopped.countDown();
    }, "shutdown"));
    log.info("active signing key {} ({})", context.keys().activeKey().kid(), context.keys().activeKey().algorithm());
    // One stable line that scripts and tests wait for.
    System.out.println("broker ready: grpc=" + config.grpcHost() + ":" + grpc.port()
        + (insecureDev ? " (plaintext)" : "") + " https="
        + config.httpsHost() + ":" + web.port() + " issuer=" + config.issuer()
        + " ops=" + (ops == null ? "off" : config.opsHost() + ":" + ops.port()));
    System.out.flush();
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * With {@code https.port=0} (any free port), picks the port now: the verification URI that devices show and
   * the metadata name it, so it must be the real one, not ":0". Another process could take the port between
   * this probe and the bind; the bind then fails with a clear message.
   */
  private static BrokerConfig withConcreteHttpsPort(BrokerConfig config) {
    if (config.httpsPort() != 0) {
      return config;
    }
    try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, InetAddress.getByName(config.httpsHost()))) {
      return config.with(ConfigKey.HTTPS_PORT, Integer.toString(probe.getLocalPort()));
    } catch (IOException e) {
      throw new BrokerFailure(BrokerFailure.EXIT_CONFIG, "cannot find a free port on " + config.httpsHost()
          + " for https.port=0: " + e.getMessage());
    }
  }

  private static void requireLoopback(String host) {
    boolean loopback;
    try {
      loopback = InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      loopback = false;
    }
    if (!loopback) {
      throw new BrokerFailure(BrokerFailure.EXIT_CONFIG, "--insecure-dev serves plaintext gRPC and is allowed only "
          + "on a loopback address; grpc.host is " + host);
    }
  }

  private NettyServerBuilder grpcBuilder(BrokerConfig config) throws IOException {
    InetSocketAddress address = new InetSocketAddress(config.grpcHost(), config.grpcPort());
    if (insecureDev) {
      log.warn("--insecure-dev: gRPC on {} is PLAINTEXT; tokens and proofs cross it unencrypted", address);
      return NettyServerBuilder.forAddress(address, InsecureServerCredentials.create());
    }
    // Client certificates are optional at the TLS layer and any is accepted there (self-signed device
    // certificates, RFC 8705 §2.2); the operator API and mTLS clients check them by policy after the handshake.
    ServerCredentials credentials = TlsServerCredentials.newBuilder()
        .keyManager(config.tlsCertificate().toFile(), config.tlsPrivateKey().toFile())
        .trustManager(new AnyClientCertificateTrustManager())
        .clientAuth(TlsServerCredentials.ClientAuth.OPTIONAL)
        .build();
    return NettyServerBuilder.forAddress(address, credentials);
  }

  private static void stopQuietly(BrokerServer grpc, BrokerWebServer web, OperationsServer ops,
      BrokerApplication app, BrokerContext context) {
    try {
      if (grpc != null) {
        grpc.stop();
      }
      if (web != null) {
        web.stop();
      }
      if (ops != null) {
        ops.stop();
      }
    } catch (Exception e) {
      log.warn("error while stopping listeners: {}", e.getMessage());
    } finally {
      if (app != null) {
        app.close();
      }
      context.close();
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
  }
}
