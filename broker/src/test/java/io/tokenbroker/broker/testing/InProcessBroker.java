package io.tokenbroker.broker.testing;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.tokenbroker.broker.BrokerApplication;
import io.tokenbroker.broker.BrokerContext;
import io.tokenbroker.broker.api.BrokerServer;
import io.tokenbroker.broker.api.GrpcServerLimits;
import io.tokenbroker.broker.config.BrokerConfig;
import io.tokenbroker.broker.ops.OperationsRoutes;
import io.tokenbroker.broker.ops.OperationsServer;
import io.tokenbroker.broker.ops.ReadinessMonitor;
import io.tokenbroker.broker.tls.DevCertificates;
import io.tokenbroker.proto.v1.DeviceAuthorizationServiceGrpc;
import io.tokenbroker.proto.v1.DeviceCodeGrant;
import io.tokenbroker.proto.v1.RefreshTokenGrant;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationRequest;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationResponse;
import io.tokenbroker.proto.v1.TokenRequest;
import io.tokenbroker.proto.v1.TokenResponse;
import io.tokenbroker.proto.v1.TokenServiceGrpc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * A broker wired exactly as {@code broker serve} wires it (real SoftHSM2 token, real H2 file, the same
 * services and interceptor), served on gRPC's in-process transport for fast service tests.
 */
public final class InProcessBroker implements AutoCloseable {
  public static final String ISSUER = "https://broker.test:8443";
  public static final String CLIENT = "demo-device";

  private final BrokerContext context;
  private final BrokerApplication application;
  private final BrokerServer server;
  private final ManagedChannel channel;
  private final Path dir;
  private final String name;
  private final PrometheusMeterRegistry metrics;
  private final ReadinessMonitor readiness;
  private final MutableClock clock;
  private BrokerServer tlsServer;
  private io.tokenbroker.broker.web.BrokerWebServer webServer;
  private OperationsServer opsServer;

  private final List<BrokerServer> servers;

  private InProcessBroker(BrokerContext context, BrokerApplication application, BrokerServer server,
      ManagedChannel channel, Path dir, String name, PrometheusMeterRegistry metrics, ReadinessMonitor readiness,
      List<BrokerServer> servers, MutableClock clock) {
    this.servers = servers;
    this.clock = clock;
    this.metrics = metrics;
    this.readiness = readiness;
    this.dir = dir;
    this.name = name;
    this.context = context;
    this.application = application;
    this.server = server;
    this.channel = channel;
  }

  /** A broker home in {@code dir} using the test token, with the settings in {@code extraConfig}. */
  public static InProcessBroker start(SoftHsm hsm, Path dir, MutableClock clock, String extraConfig) throws Exception {
    new DevCertificates(clock).write(dir.resolve("tls"), List.of());
    Files.writeString(dir.resolve(BrokerConfig.FILE_NAME), "broker.issuer=" + ISSUER + "\n"
        + "https.port=8444\n"
        + "hsm.pkcs11-config=" + hsm.pkcs11Config() + "\n"
        + "database.url=jdbc:h2:file:" + dir.resolve("data/broker") + ";WRITE_DELAY=0\n"
        + extraConfig);
    PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    BrokerContext context = BrokerContext.open(BrokerConfig.load(dir),
        Map.of("TOKENBROKER_HSM_PIN", new String(hsm.pinChars())), clock, metrics);
    BrokerApplication application = new BrokerApplication(context, clock);
    String name = InProcessServerBuilder.generateName();
    BrokerServer server = new BrokerServer(GrpcServerLimits.applyTo(InProcessServerBuilder.forName(name))
        .directExecutor(), application.services(), application.callGuard(), application.grpcMetrics()).start();
    // Readiness drives the health service of every listener: this one and the TLS one started later.
    List<BrokerServer> servers = new java.util.concurrent.CopyOnWriteArrayList<>(List.of(server));
    ReadinessMonitor readiness = application.startHealthMonitoring(ready -> servers.forEach(s -> s.setServing(ready)));
    ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    return new InProcessBroker(context, application, server, channel, dir, name, metrics, readiness, servers,
        clock);
  }

  /** Which client certificate a TLS channel presents. */
  public enum Caller { ANONYMOUS, OPERATOR, BACKEND }

  /**
   * A channel over real TLS on loopback to the same services (a Netty server started on first use), with the
   * home's CA trusted and the given client certificate.
   */
  public ManagedChannel tlsChannel(Caller caller) throws Exception {
    return tlsChannelBuilder(caller).build();
  }

  /** A builder of {@link #tlsChannel(Caller)}, for tests that tune the client (flow control, sizes). */
  public NettyChannelBuilder tlsChannelBuilder(Caller caller) throws Exception {
    io.grpc.TlsChannelCredentials.Builder creds = io.grpc.TlsChannelCredentials.newBuilder()
        .trustManager(dir.resolve("tls/ca.crt").toFile());
    if (caller != Caller.ANONYMOUS) {
      String name = caller == Caller.OPERATOR ? "operator" : "backend";
      creds.keyManager(dir.resolve("tls/" + name + ".crt").toFile(), dir.resolve("tls/" + name + ".key").toFile());
    }
    return tlsChannelBuilder(creds);
  }

  /** A channel over real TLS on loopback presenting {@code certificate} (held with {@code key}) as client. */
  public ManagedChannel tlsChannel(java.security.PrivateKey key, java.security.cert.X509Certificate certificate)
      throws Exception {
    java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    char[] password = "test".toCharArray();
    ks.setKeyEntry("client", key, password, new java.security.cert.Certificate[] {certificate});
    javax.net.ssl.KeyManagerFactory kmf = javax.net.ssl.KeyManagerFactory.getInstance(
        javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, password);
    return tlsChannelBuilder(io.grpc.TlsChannelCredentials.newBuilder()
        .trustManager(dir.resolve("tls/ca.crt").toFile()).keyManager(kmf.getKeyManagers())).build();
  }

  /** The tests' TLS server has the limits of {@code broker serve} (GrpcServerLimits via BrokerServer.overNetty). */
  private NettyChannelBuilder tlsChannelBuilder(io.grpc.TlsChannelCredentials.Builder creds) throws Exception {
    if (tlsServer == null) {
      io.grpc.ServerCredentials credentials = io.grpc.TlsServerCredentials.newBuilder()
          .keyManager(dir.resolve("tls/server.crt").toFile(), dir.resolve("tls/server.key").toFile())
          .trustManager(new io.tokenbroker.broker.tls.AnyClientCertificateTrustManager())
          .clientAuth(io.grpc.TlsServerCredentials.ClientAuth.OPTIONAL).build();
      tlsServer = BrokerServer.overNetty(io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder.forAddress(
          new java.net.InetSocketAddress("127.0.0.1", 0), credentials), application.services(),
          application.callGuard(), application.grpcMetrics()).start();
      servers.add(tlsServer);
      tlsServer.setServing(readiness.current().ready());
    }
    return NettyChannelBuilder.forAddress("localhost", tlsServer.port(), creds.build());
  }

  /**
   * The HTTPS listener (JWKS, metadata, /device) on a free loopback port with the home's TLS material, started on
   * first use; its origin is {@code https://localhost:<port>}.
   */
  public java.net.URI webOrigin() throws Exception {
    if (webServer == null) {
      char[] password = "test-store".toCharArray();
      java.security.KeyStore store = io.tokenbroker.broker.tls.TlsKeyStores.keyStore(dir.resolve("tls/server.crt"),
          dir.resolve("tls/server.key"), password);
      webServer = new io.tokenbroker.broker.web.BrokerWebServer("127.0.0.1", 0, store, password,
          application.webRoutes()).start();
    }
    return java.net.URI.create("https://localhost:" + webServer.port());
  }

  /**
   * The operations listener (/metrics, /healthz, /readyz) as {@code broker serve} starts it from this home's
   * {@code ops.host} and {@code ops.port}, started on first use. The test configuration should set
   * {@code ops.port=0}.
   */
  public OperationsServer operations() throws Exception {
    if (opsServer == null) {
      BrokerConfig config = context.config();
      opsServer = new OperationsServer(config.opsHost(), config.opsPort(),
          new OperationsRoutes(metrics::scrape, readiness::current)).start();
    }
    return opsServer;
  }

  /** The broker's meters, as /metrics serves them. */
  public PrometheusMeterRegistry metrics() {
    return metrics;
  }

  public ReadinessMonitor readiness() {
    return readiness;
  }

  /** The home directory (TLS material under {@code tls/}). */
  public Path home() {
    return dir;
  }

  public BrokerContext context() {
    return context;
  }

  public BrokerApplication application() {
    return application;
  }

  public ManagedChannel channel() {
    return channel;
  }

  /** A new in-process channel whose calls carry {@code userAgent} (the caller closes it). */
  public ManagedChannel channel(String userAgent) {
    return InProcessChannelBuilder.forName(name).directExecutor().userAgent(userAgent).build();
  }

  public DeviceAuthorizationServiceGrpc.DeviceAuthorizationServiceBlockingStub deviceAuthorization() {
    return DeviceAuthorizationServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  public TokenServiceGrpc.TokenServiceBlockingStub token() {
    return TokenServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  /** The token endpoint with one {@code dpop} metadata value per element of {@code proofs}. */
  public TokenServiceGrpc.TokenServiceBlockingStub token(String... proofs) {
    Metadata md = new Metadata();
    Metadata.Key<String> dpop = Metadata.Key.of("dpop", Metadata.ASCII_STRING_MARSHALLER);
    for (String p : proofs) {
      md.put(dpop, p);
    }
    return token().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
  }

  /**
   * A device enrolled through the real API: a device flow for {@link #CLIENT}, approved for {@code alice}, its
   * device code redeemed with a proof from {@code device} (iat from the broker's clock); its first tokens.
   */
  public TokenResponse enrol(TestDevice device) {
    StartDeviceAuthorizationResponse started = deviceAuthorization().startDeviceAuthorization(
        StartDeviceAuthorizationRequest.newBuilder().setClientId(CLIENT).build());
    application.deviceFlow().approve(started.getUserCode(), "alice", "test");
    return token(device.proof(tokenHtu(), clock.instant(), h -> h, c -> c)).token(TokenRequest.newBuilder()
        .setClientId(CLIENT).setDeviceCode(DeviceCodeGrant.newBuilder().setDeviceCode(started.getDeviceCode()))
        .build());
  }

  /** A refresh-token grant for {@link #CLIENT} with a fresh proof from {@code device} (iat from the broker's clock). */
  public TokenResponse refresh(String refreshToken, TestDevice device) {
    return token(device.proof(tokenHtu(), clock.instant(), h -> h, c -> c)).token(TokenRequest.newBuilder()
        .setClientId(CLIENT).setRefreshToken(RefreshTokenGrant.newBuilder().setRefreshToken(refreshToken)).build());
  }

  /** The {@code htu} of a method: issuer + "/" + full method name. */
  public static String htu(String fullMethod) {
    return ISSUER + "/" + fullMethod;
  }

  public static String tokenHtu() {
    return htu(TokenServiceGrpc.getTokenMethod().getFullMethodName());
  }

  /**
   * Every row of every grant-state table (all but the audit log and Flyway's history), to show that a refused
   * request changed nothing.
   */
  public Map<String, List<String>> grantState() {
    return context.database().inTransaction(c -> snapshot(c));
  }

  private static Map<String, List<String>> snapshot(Connection c) throws java.sql.SQLException {
    Map<String, List<String>> out = new TreeMap<>();
    for (String table : List.of("clients", "device_authorizations", "devices", "refresh_families", "refresh_tokens",
        "dpop_replay", "signing_keys", "device_certificates", "owners")) {
      List<String> rows = new ArrayList<>();
      try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT * FROM " + table)) {
        int n = rs.getMetaData().getColumnCount();
        while (rs.next()) {
          StringBuilder row = new StringBuilder();
          for (int i = 1; i <= n; i++) {
            row.append(rs.getString(i)).append('|');
          }
          rows.add(row.toString());
        }
      }
      rows.sort(null);
      out.put(table, rows);
    }
    return out;
  }

  public int auditCount(String type) {
    return context.database().inTransaction(c -> {
      try (var ps = c.prepareStatement("SELECT COUNT(*) FROM audit_events WHERE type = ?")) {
        ps.setString(1, type);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          return rs.getInt(1);
        }
      }
    });
  }

  @Override
  public void close() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    application.close();
    server.stop();
    if (tlsServer != null) {
      tlsServer.stop();
    }
    if (webServer != null) {
      webServer.stop();
    }
    if (opsServer != null) {
      opsServer.stop();
    }
    context.close();
  }
}
