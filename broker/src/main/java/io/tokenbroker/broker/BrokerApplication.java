package io.tokenbroker.broker;

import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.grpc.MetricCollectingServerInterceptor;
import io.tokenbroker.broker.api.AdminServiceImpl;
import io.tokenbroker.broker.api.CallGuardInterceptor;
import io.tokenbroker.broker.api.CertificateServiceImpl;
import io.tokenbroker.broker.api.ClientCertificateAuthenticator;
import io.tokenbroker.broker.api.DeviceAuthorizationServiceImpl;
import io.tokenbroker.broker.api.DpopNonceInterceptor;
import io.tokenbroker.broker.api.GrpcErrors;
import io.tokenbroker.broker.api.JwksServiceImpl;
import io.tokenbroker.broker.api.RevocationFeed;
import io.tokenbroker.broker.api.RevocationServiceImpl;
import io.tokenbroker.broker.api.TokenServiceImpl;
import io.tokenbroker.broker.audit.AuditLog;
import io.tokenbroker.broker.client.ClientRegistry;
import io.tokenbroker.broker.client.ClientStore;
import io.tokenbroker.broker.config.BrokerConfig;
import io.tokenbroker.broker.device.DeviceFlow;
import io.tokenbroker.broker.device.DeviceStore;
import io.tokenbroker.broker.devicecert.DeviceCertificateIssuance;
import io.tokenbroker.broker.devicecert.DpopTokenAuthentication;
import io.tokenbroker.broker.devicecert.PresentedCertificates;
import io.tokenbroker.broker.grant.TokenGrants;
import io.tokenbroker.broker.hsm.HsmHealthMonitor;
import io.tokenbroker.broker.metrics.DeviceStateGauge;
import io.tokenbroker.broker.metrics.DpopRejectionMetrics;
import io.tokenbroker.broker.metrics.GrantMetrics;
import io.tokenbroker.broker.metrics.JvmMetrics;
import io.tokenbroker.broker.metrics.ReadinessMetrics;
import io.tokenbroker.broker.metrics.RevocationStreamMetrics;
import io.tokenbroker.broker.ops.ReadinessMonitor;
import io.tokenbroker.broker.owner.AttemptLimiter;
import io.tokenbroker.broker.owner.OwnerAccounts;
import io.tokenbroker.broker.owner.OwnerSessions;
import io.tokenbroker.broker.owner.PasswordHasher;
import io.tokenbroker.broker.owner.SessionPolicy;
import io.tokenbroker.broker.refresh.SpentRefreshTokenPurge;
import io.tokenbroker.broker.revocation.Introspection;
import io.tokenbroker.broker.revocation.Revocations;
import io.tokenbroker.broker.revocation.TokenRevocation;
import io.tokenbroker.broker.store.Database;
import io.tokenbroker.broker.store.GroupCommitTransactor;
import io.tokenbroker.broker.store.JdbcAuditLog;
import io.tokenbroker.broker.store.JdbcClientStore;
import io.tokenbroker.broker.store.JdbcDeviceCertificateStore;
import io.tokenbroker.broker.store.JdbcDeviceAuthorizationStore;
import io.tokenbroker.broker.store.JdbcDeviceStore;
import io.tokenbroker.broker.store.JdbcDpopReplayCache;
import io.tokenbroker.broker.store.JdbcOwnerStore;
import io.tokenbroker.broker.store.JdbcRefreshTokenStore;
import io.tokenbroker.broker.store.JdbcRevocationLog;
import io.tokenbroker.broker.tls.TlsKeyStores;
import io.tokenbroker.broker.token.AccessTokenIssuer;
import io.tokenbroker.broker.token.AccessTokenSigner;
import io.tokenbroker.broker.token.IssuedTokenReader;
import io.tokenbroker.broker.web.WebRoutes;
import io.tokenbroker.verifier.dpop.DpopNonces;
import io.tokenbroker.verifier.dpop.DpopProofValidator;
import io.tokenbroker.verifier.dpop.DpopReplayCache;
import java.io.IOException;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root (closing it stops the revocation feed): builds the use cases over the stores of an open {@link BrokerContext}, and the gRPC
 * services and interceptor over them.
 */
public final class BrokerApplication implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BrokerApplication.class);
  /** Families whose spent refresh tokens one minute's housekeeping looks at: a million are swept in 3.5 hours. */
  private static final int SPENT_TOKEN_FAMILIES_PER_RUN = 5_000;
  /**
   * Deletions after which that run stops: measured on the 2-core test machine, 50,000 deletions (5,000 families
   * with 10 spent tokens each) took 2.5 s, a run over 5,000 families with nothing to delete 0.2 s.
   */
  private static final int SPENT_TOKENS_DELETED_PER_RUN = 50_000;

  private final BrokerContext context;
  private final Clock clock;
  private final ClientStore clients;
  private final DeviceStore devices;
  private final AuditLog audit;
  private final DpopReplayCache replay;
  private final ClientRegistry registry;
  private final DeviceFlow deviceFlow;
  private final TokenGrants grants;
  private final DpopNonces nonces;
  private final GrpcErrors errors;
  private final JdbcRevocationLog revocationLog;
  private final JdbcRefreshTokenStore refreshTokens;
  private final SpentRefreshTokenPurge spentRefreshTokens;
  private final GroupCommitTransactor grantTransactions;
  private final JdbcDeviceAuthorizationStore authorizations;
  private final RevocationFeed feed;
  private final Revocations revocations;
  private final Introspection introspection;
  private final TokenRevocation tokenRevocation;
  private HsmHealthMonitor hsmMonitor;
  private ReadinessMonitor readiness;
  private final GrantMetrics grantMetrics;
  private final DeviceStateGauge deviceStates;
  private final JvmMetrics jvmMetrics;
  private final MetricCollectingServerInterceptor grpcMetrics;
  private final DeviceCertificateIssuance certificates;
  private final JdbcDeviceCertificateStore issuedCertificates;
  private final OwnerAccounts owners;
  private final OwnerSessions ownerSessions;
  private final AttemptLimiter userCodeFailures;

  public BrokerApplication(BrokerContext context, Clock clock) {
    this.context = context;
    this.clock = clock;
    BrokerConfig config = context.config();
    Database db = context.database();
    MeterRegistry metrics = context.metrics();
    grantMetrics = new GrantMetrics(metrics);
    jvmMetrics = new JvmMetrics(metrics);
    grpcMetrics = new MetricCollectingServerInterceptor(metrics);
    clients = new JdbcClientStore(db);
    devices = new JdbcDeviceStore(db);
    audit = new JdbcAuditLog(db);
    replay = new JdbcDpopReplayCache(db);
    authorizations = new JdbcDeviceAuthorizationStore(db);
    registry = new ClientRegistry(clients, audit, db, clock);
    deviceFlow = new DeviceFlow(clients, authorizations, audit, db, new DeviceFlow.Settings(
        config.deviceCodeLifetime(), config.devicePollInterval(), config.verificationUri()), clock);
    nonces = config.dpopNonceRequired() ? new DpopNonces(config.dpopNonceLifetime(), clock) : null;
    DpopProofValidator proofs = new DpopProofValidator(config.dpopIatWindow(), nonces, clock);
    AccessTokenIssuer issuer = new AccessTokenIssuer(config.issuer(),
        new AccessTokenSigner(() -> context.keys().activeKey()));
    refreshTokens = new JdbcRefreshTokenStore(db);
    spentRefreshTokens = new SpentRefreshTokenPurge(refreshTokens, context.config().refreshSpentRetention(), clock,
        SPENT_TOKEN_FAMILIES_PER_RUN, SPENT_TOKENS_DELETED_PER_RUN);
    revocationLog = new JdbcRevocationLog(db);
    DpopRejectionMetrics dpopRejections = new DpopRejectionMetrics(metrics);
    errors = new GrpcErrors(config.issuer().toString(), nonces == null ? null : nonces::issue,
        dpopRejections::record);
    feed = new RevocationFeed(revocationLog, clock, config.revocationHeartbeatInterval(),
        config.revocationMaxSubscribers(), config.revocationMaxSubscriberLag(), errors);
    RevocationStreamMetrics.bind(metrics, feed);
    deviceStates = new DeviceStateGauge(metrics, devices::countByState, config.deviceCountMaxAge());
    // Grants commit in groups: one H2 commit per group instead of per grant (DESIGN.md: state).
    // Bounded: beyond 1,024 waiting grants (far more than the gRPC call threads) new ones are refused UNAVAILABLE.
    grantTransactions = new GroupCommitTransactor(db, 64, 1024);
    issuedCertificates = new JdbcDeviceCertificateStore(db);
    PresentedCertificates presented = new PresentedCertificates(context.deviceCa(), issuedCertificates,
        revocationLog);
    grants = new TokenGrants(clients, authorizations, devices, refreshTokens, replay, audit, grantTransactions,
        proofs, issuer, revocationLog, feed, presented, issuedCertificates, grantMetrics, clock);
    revocations = new Revocations(devices, refreshTokens, clients, revocationLog, audit, db, feed,
        issuedCertificates, clock);
    IssuedTokenReader reader = new IssuedTokenReader(config.issuer(), () -> context.keys().publishedKeys());
    certificates = new DeviceCertificateIssuance(context.deviceCa(), issuedCertificates, presented,
        new DpopTokenAuthentication(reader, proofs, config.issuer().toString(), clock), replay, devices, clients,
        revocationLog, audit, db, config.deviceCertificateLifetime(), clock);
    introspection = new Introspection(reader, devices, revocationLog, db, clock);
    tokenRevocation = new TokenRevocation(replay, proofs.replayRetention(), refreshTokens, reader, revocationLog,
        audit, db, feed, clock);
    // The verification page's owners, sessions and failure limits (RFC 8628 §5.1); limits are per process.
    BrokerConfig.WebSettings web = config.webSettings();
    JdbcOwnerStore ownerStore = new JdbcOwnerStore(db);
    PasswordHasher hasher = new PasswordHasher();
    owners = new OwnerAccounts(ownerStore, hasher, audit, db, clock);
    ownerSessions = new OwnerSessions(ownerStore, hasher, new SessionPolicy(web.sessionIdle(), web.sessionAbsolute()),
        new AttemptLimiter(web.signInFailuresPerAddress(), web.rateLimitWindow(), 100_000),
        new AttemptLimiter(web.signInFailuresPerAccount(), web.rateLimitWindow(), 100_000), audit, db, clock);
    userCodeFailures = new AttemptLimiter(web.userCodeFailures(), web.rateLimitWindow(), 100_000);
  }

  public OwnerAccounts ownerAccounts() {
    return owners;
  }

  /** What the HTTPS listener serves: JWKS, RFC 8414 metadata and the verification page. */
  public WebRoutes webRoutes() {
    BrokerConfig config = context.config();
    return new WebRoutes(context.keys(), deviceFlow, ownerSessions, userCodeFailures, config.issuer(),
        config.externalUrl(), config.verificationUri(), clock);
  }

  public ClientRegistry clientRegistry() {
    return registry;
  }

  public DeviceFlow deviceFlow() {
    return deviceFlow;
  }

  public TokenGrants tokenGrants() {
    return grants;
  }

  public Revocations revocations() {
    return revocations;
  }

  public RevocationFeed revocationFeed() {
    return feed;
  }

  /** The product's gRPC services, ready to add to a server builder. */
  public List<ServerServiceDefinition> services() {
    ServerServiceDefinition token = new TokenServiceImpl(grants, tokenRevocation, context.config().externalUrl(),
        errors, grantMetrics).bindService();
    ServerServiceDefinition certificate = new CertificateServiceImpl(certificates, context.config().externalUrl(),
        errors).bindService();
    if (nonces != null) {
      token = ServerInterceptors.intercept(token, new DpopNonceInterceptor(nonces));
      certificate = ServerInterceptors.intercept(certificate, new DpopNonceInterceptor(nonces));
    }
    List<ServerServiceDefinition> services = List.of(
        new DeviceAuthorizationServiceImpl(deviceFlow, errors).bindService(),
        token,
        new JwksServiceImpl(context.keys()).bindService(),
        new AdminServiceImpl(registry, clients, devices, refreshTokens, deviceFlow, revocations, context.keys(), audit,
            context.database(), clock, errors, issuedCertificates, owners).bindService(),
        new RevocationServiceImpl(introspection, feed, errors).bindService(),
        certificate);
    // Every method's request and response meters exist from the start, at zero.
    services.forEach(grpcMetrics::preregisterService);
    return services;
  }

  /**
   * Micrometer's gRPC server interceptor: requests received, responses sent and processing time per method and
   * status code ({@code grpc_server_*}). Goes outermost, so calls the guard refuses are counted too.
   */
  public ServerInterceptor grpcMetrics() {
    return grpcMetrics;
  }

  /** The interceptor every call goes through (metadata bounds, TLS peer, authorization). */
  public CallGuardInterceptor callGuard() throws IOException {
    Path caFile = context.config().tlsClientCa();
    // The device CA never vouches for operators or backends, even if someone lists it as a client CA.
    X509Certificate deviceCa = context.deviceCa().certificate();
    List<X509Certificate> cas = TlsKeyStores.readCertificates(caFile).stream()
        .map(X509Certificate.class::cast).filter(c -> !c.equals(deviceCa)).collect(Collectors.toList());
    return new CallGuardInterceptor(new ClientCertificateAuthenticator(cas), errors);
  }

  /**
   * Starts readiness: the HSM monitor (probe, re-login) and periodic checks of the database and of the active
   * signing key. {@code servingListener} hears readiness at once and whenever it changes, e.g. to turn the gRPC
   * health status NOT_SERVING meanwhile; {@link ReadinessMonitor#current()} gives the same answer to /readyz.
   */
  public synchronized ReadinessMonitor startHealthMonitoring(Consumer<Boolean> servingListener) {
    if (readiness == null) {
      BrokerConfig config = context.config();
      byte[] probeInput = "tokenbroker HSM health probe".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      // The HSM monitor re-evaluates readiness the moment the HSM fails or recovers, not at the next interval.
      HsmHealthMonitor hsm = new HsmHealthMonitor(context.token(), () -> context.keys().activeKey().sign(probeInput),
          config.hsmHealthInterval(), usable -> readiness.evaluateNow());
      // A check may take one interval, but never less than 1 s (JDBC counts whole seconds) nor more than 5 s.
      Duration timeout = Collections.max(List.of(Duration.ofSeconds(1),
          Collections.min(List.of(config.healthCheckInterval(), Duration.ofSeconds(5)))));
      int timeoutSeconds = (int) Math.max(1, timeout.toSeconds());
      readiness = new ReadinessMonitor(List.of(
          new ReadinessMonitor.Check("hsm", hsm::usable),
          new ReadinessMonitor.Check("database", () -> context.database().isReachable(timeoutSeconds)),
          new ReadinessMonitor.Check("signing_key", () -> context.keys().signsWithRecordedActiveKey())),
          config.healthCheckInterval(), timeout, servingListener).start();
      ReadinessMetrics.bind(context.metrics(), readiness, List.of("hsm", "database", "signing_key"));
      hsmMonitor = hsm.start();
    }
    return readiness;
  }

  /**
   * Periodic housekeeping: key lifecycle, expired DPoP replay records, device authorizations
   * {@code device.authorization-retention} after they expired (their codes can no longer be redeemed; the audit
   * log keeps what happened), ended owner sessions, spent refresh tokens {@code refresh.spent-retention} after
   * their idle lifetime ended (a bounded slice of the families per run), and audit events older than
   * {@code audit.retention}.
   */
  public void maintain() {
    try {
      context.keys().maintain();
    } catch (RuntimeException e) {
      log.error("signing key maintenance failed: {}", e.getMessage());
    }
    try {
      int purged = replay.purgeExpired(clock.instant());
      int authorizationsPurged = authorizations.purgeExpired(
          clock.instant().minus(context.config().deviceAuthorizationRetention()));
      int sessionsPurged = ownerSessions.purgeExpired();
      if (purged + authorizationsPurged + sessionsPurged > 0) {
        log.debug("purged {} DPoP replay records, {} device authorizations and {} owner sessions", purged,
            authorizationsPurged, sessionsPurged);
      }
    } catch (RuntimeException e) {
      log.error("DPoP replay purge failed: {}", e.getClass().getSimpleName());
    }
    try {
      int spent = spentRefreshTokens.run();
      if (spent > 0) {
        log.info("deleted {} spent refresh tokens whose idle lifetime ended more than {} ago", spent,
            context.config().refreshSpentRetention());
      }
    } catch (RuntimeException e) {
      log.error("spent refresh token purge failed: {}", e.getClass().getSimpleName());
    }
    purgeOldAuditEvents();
  }

  private void purgeOldAuditEvents() {
    java.time.Duration retention = context.config().auditRetention();
    if (retention.isZero()) {
      return;
    }
    try {
      java.time.Instant cutoff = clock.instant().minus(retention);
      int purged = 0;
      // Bounded per run: a backlog after a retention change drains over a few runs, never one huge delete.
      for (int round = 0; round < 20; round++) {
        int n = audit.purgeBefore(cutoff, 5_000);
        purged += n;
        if (n < 5_000) {
          break;
        }
      }
      if (purged > 0) {
        log.info("deleted {} audit events older than {}", purged, retention);
      }
    } catch (RuntimeException e) {
      log.error("audit purge failed: {}", e.getClass().getSimpleName());
    }
  }

  @Override
  public synchronized void close() {
    if (readiness != null) {
      readiness.close();
    }
    if (hsmMonitor != null) {
      hsmMonitor.close();
    }
    deviceStates.close();
    jvmMetrics.close();
    feed.close();
    grantTransactions.close();
  }
}
