package io.tokenbroker.broker.config;

import io.tokenbroker.broker.BrokerFailure;
import io.tokenbroker.broker.keys.KeyLifecycleSettings;
import io.tokenbroker.broker.keys.SigningAlgorithm;
import io.tokenbroker.broker.logging.LogFormat;
import io.tokenbroker.broker.logging.LogSettings;
import java.io.IOException;
import java.io.Reader;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

/**
 * The broker's configuration, read from {@code <home>/broker.properties} and the environment: every setting can
 * also come from its variable {@code TOKENBROKER_<KEY>}, which wins over the file ({@link EnvironmentOverrides}).
 * Relative paths are resolved against the home directory. Unknown keys (and unknown {@code TOKENBROKER_}
 * variables that look like settings) are an error, because a misspelt security setting must not be ignored.
 * Secrets (the HSM PIN) are never in the file: it names the file or environment variable that holds them.
 *
 * <p>Every key, its default and meaning is listed in {@link ConfigKey} and in the README.
 */
public final class BrokerConfig {
  public static final String FILE_NAME = "broker.properties";

  private final Path home;
  private final Properties values;
  /** The settings whose value came from the environment: error messages name the variable, not the file. */
  private final Set<ConfigKey> fromEnvironment;

  private BrokerConfig(Path home, Properties values, Set<ConfigKey> fromEnvironment) {
    this.home = home;
    this.values = values;
    this.fromEnvironment = Set.copyOf(fromEnvironment);
  }

  /** This configuration with one setting replaced, validated like the file (e.g. a port chosen at start-up). */
  public BrokerConfig with(ConfigKey key, String value) {
    Properties copy = new Properties();
    copy.putAll(values);
    copy.setProperty(key.key(), value);
    Set<ConfigKey> env = new TreeSet<>(fromEnvironment);
    env.remove(key);
    BrokerConfig changed = new BrokerConfig(home, copy, env);
    changed.validate();
    return changed;
  }

  /** Loads and validates {@code <home>/broker.properties} with this process's environment. */
  public static BrokerConfig load(Path home) {
    return load(home, System.getenv());
  }

  /** Loads and validates {@code <home>/broker.properties}, then the overrides in {@code env}. */
  public static BrokerConfig load(Path home, Map<String, String> env) {
    Path file = home.resolve(FILE_NAME);
    if (!Files.isRegularFile(file)) {
      throw new BrokerFailure(BrokerFailure.EXIT_CONFIG, "no " + FILE_NAME + " in " + home
          + "; create a broker home with: broker init --home " + home);
    }
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(r);
    } catch (IOException | IllegalArgumentException e) {
      throw new BrokerFailure(BrokerFailure.EXIT_CONFIG, "cannot read " + file + ": " + e.getMessage());
    }
    Set<String> unknown = new TreeSet<>(p.stringPropertyNames());
    unknown.removeAll(ConfigKey.names());
    if (!unknown.isEmpty()) {
      throw new BrokerFailure(BrokerFailure.EXIT_CONFIG, file + ": unknown setting(s) " + unknown
          + "; see the configuration reference in README.md");
    }
    Map<ConfigKey, String> overrides = EnvironmentOverrides.read(env);
    overrides.forEach((key, value) -> p.setProperty(key.key(), value));
    BrokerConfig config = new BrokerConfig(home.toAbsolutePath().normalize(), p, overrides.keySet());
    EnvironmentOverrides.refuseUnknown(env, config.pinEnv());
    config.validate();
    return config;
  }

  /** The environment variables that set settings, sorted (names only: values may be secrets). */
  public List<String> environmentOverrides() {
    return fromEnvironment.stream().map(ConfigKey::environmentVariable).sorted().toList();
  }

  private void validate() {
    issuer();
    externalUrl();
    grpcPort();
    httpsPort();
    keyLifecycle();
    databasePoolSize();
    dpopIatWindow();
    dpopNonceRequired();
    dpopNonceLifetime();
    deviceCodeLifetime();
    devicePollInterval();
    verificationUri();
    revocationHeartbeatInterval();
    revocationMaxSubscribers();
    revocationMaxSubscriberLag();
    deviceAuthorizationRetention();
    hsmHealthInterval();
    auditRetention();
    refreshSpentRetention();
    webSettings();
    opsEnabled();
    opsPort();
    healthCheckInterval();
    deviceCountMaxAge();
    logSettings();
  }

  public Path home() {
    return home;
  }

  private String raw(ConfigKey key) {
    String v = values.getProperty(key.key());
    return v == null || v.isBlank() ? key.defaultValue() : v.strip();
  }

  private BrokerFailure invalid(ConfigKey key, String why) {
    String source = fromEnvironment.contains(key) ? "environment variable " + key.environmentVariable()
        : home.resolve(FILE_NAME).toString();
    return new BrokerFailure(BrokerFailure.EXIT_CONFIG, source + ": '" + key.key() + "' " + why);
  }

  private Path path(ConfigKey key) {
    String v = raw(key);
    return v == null ? null : home.resolve(v).normalize();
  }

  private URI url(ConfigKey key) {
    String v = raw(key);
    try {
      URI uri = new URI(v);
      if (!"https".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null || uri.getQuery() != null
          || uri.getFragment() != null) {
        throw invalid(key, "must be an https URL without query or fragment, is '" + v + "'");
      }
      return uri;
    } catch (URISyntaxException e) {
      throw invalid(key, "is not a URL: '" + v + "'");
    }
  }

  private int port(ConfigKey key) {
    try {
      int port = Integer.parseInt(raw(key));
      if (port < 0 || port > 65535) {
        throw invalid(key, "must be a port number 0-65535 (0 = any free port)");
      }
      return port;
    } catch (NumberFormatException e) {
      throw invalid(key, "must be a port number, is '" + raw(key) + "'");
    }
  }

  private Duration duration(ConfigKey key) {
    try {
      Duration d = Duration.parse(raw(key).toUpperCase(Locale.ROOT));
      if (d.isNegative()) {
        throw invalid(key, "must not be negative");
      }
      return d;
    } catch (DateTimeParseException e) {
      throw invalid(key, "must be an ISO-8601 duration such as PT5M or P30D, is '" + raw(key) + "'");
    }
  }

  /** The {@code iss} of every token (RFC 9068 §2.2) and the authorization server's identifier (RFC 8414). */
  public URI issuer() {
    return url(ConfigKey.ISSUER);
  }

  /** Base of DPoP {@code htu} values: this URL + "/" + the full gRPC method name (DESIGN). */
  public URI externalUrl() {
    return values.getProperty(ConfigKey.EXTERNAL_URL.key()) == null ? issuer() : url(ConfigKey.EXTERNAL_URL);
  }

  public String grpcHost() {
    return raw(ConfigKey.GRPC_HOST);
  }

  public int grpcPort() {
    return port(ConfigKey.GRPC_PORT);
  }

  public String httpsHost() {
    return raw(ConfigKey.HTTPS_HOST);
  }

  public int httpsPort() {
    return port(ConfigKey.HTTPS_PORT);
  }

  public Path tlsCertificate() {
    return path(ConfigKey.TLS_CERTIFICATE);
  }

  public Path tlsPrivateKey() {
    return path(ConfigKey.TLS_PRIVATE_KEY);
  }

  /** CA certificates that client certificates (operators) must chain to. */
  public Path tlsClientCa() {
    return path(ConfigKey.TLS_CLIENT_CA);
  }

  public Path pkcs11Config() {
    return path(ConfigKey.HSM_PKCS11_CONFIG);
  }

  public Path pinFile() {
    return path(ConfigKey.HSM_PIN_FILE);
  }

  public String pinEnv() {
    return raw(ConfigKey.HSM_PIN_ENV);
  }

  /** The SoftHSM2 configuration of a development token, when this home uses one. */
  public Optional<Path> softhsmConf() {
    return Optional.ofNullable(path(ConfigKey.HSM_SOFTHSM2_CONF));
  }

  public KeyLifecycleSettings keyLifecycle() {
    SigningAlgorithm algorithm;
    try {
      algorithm = SigningAlgorithm.parse(raw(ConfigKey.KEYS_ALGORITHM));
    } catch (IllegalArgumentException e) {
      throw invalid(ConfigKey.KEYS_ALGORITHM, e.getMessage());
    }
    Duration retention = duration(ConfigKey.KEYS_RETIRED_RETENTION);
    if (retention.compareTo(Duration.ofMinutes(61)) < 0) {
      // Clients may give access tokens up to one hour; a key must outlive every token it signed.
      throw invalid(ConfigKey.KEYS_RETIRED_RETENTION, "must be at least PT61M (the longest access-token "
          + "lifetime, one hour, plus clock skew)");
    }
    return new KeyLifecycleSettings(algorithm, duration(ConfigKey.KEYS_ROTATION_PERIOD),
        duration(ConfigKey.KEYS_NEXT_PUBLICATION_LEAD), retention);
  }

  public Duration dpopIatWindow() {
    Duration d = duration(ConfigKey.DPOP_IAT_WINDOW);
    if (d.isZero() || d.compareTo(Duration.ofMinutes(10)) > 0) {
      throw invalid(ConfigKey.DPOP_IAT_WINDOW, "must be between 1 s and 10 min");
    }
    return d;
  }

  public boolean dpopNonceRequired() {
    String v = raw(ConfigKey.DPOP_NONCE_REQUIRED);
    if (!v.equals("true") && !v.equals("false")) {
      throw invalid(ConfigKey.DPOP_NONCE_REQUIRED, "must be true or false");
    }
    return Boolean.parseBoolean(v);
  }

  public Duration dpopNonceLifetime() {
    return duration(ConfigKey.DPOP_NONCE_LIFETIME);
  }

  public Duration deviceCodeLifetime() {
    Duration d = duration(ConfigKey.DEVICE_CODE_LIFETIME);
    if (d.compareTo(Duration.ofMinutes(1)) < 0 || d.compareTo(Duration.ofHours(1)) > 0) {
      throw invalid(ConfigKey.DEVICE_CODE_LIFETIME, "must be between 1 min and 1 h");
    }
    return d;
  }

  public Duration devicePollInterval() {
    Duration d = duration(ConfigKey.DEVICE_POLL_INTERVAL);
    if (d.compareTo(Duration.ofSeconds(1)) < 0 || d.compareTo(Duration.ofMinutes(1)) > 0) {
      throw invalid(ConfigKey.DEVICE_POLL_INTERVAL, "must be between 1 s and 1 min");
    }
    return d;
  }

  public URI verificationUri() {
    if (values.getProperty(ConfigKey.DEVICE_VERIFICATION_URI.key()) != null) {
      return url(ConfigKey.DEVICE_VERIFICATION_URI);
    }
    return URI.create("https://" + issuer().getHost() + ":" + httpsPort() + "/device");
  }

  /** Zero means keep forever. */
  public Duration auditRetention() {
    Duration d = duration(ConfigKey.AUDIT_RETENTION);
    if (!d.isZero() && d.compareTo(Duration.ofDays(1)) < 0) {
      throw invalid(ConfigKey.AUDIT_RETENTION, "must be PT0S (keep forever) or at least one day (P1D)");
    }
    return d;
  }

  /**
   * How long a spent refresh token is kept after its idle lifetime ended; zero means keep forever. Presenting a
   * kept one again is reuse (the family is revoked); presenting a deleted one is an unknown token.
   */
  public Duration refreshSpentRetention() {
    Duration d = duration(ConfigKey.REFRESH_SPENT_RETENTION);
    if (!d.isZero() && (d.compareTo(Duration.ofDays(1)) < 0 || d.compareTo(Duration.ofDays(3650)) > 0)) {
      throw invalid(ConfigKey.REFRESH_SPENT_RETENTION, "must be PT0S (keep forever) or between P1D and P3650D");
    }
    return d;
  }

  public Duration hsmHealthInterval() {
    Duration d = duration(ConfigKey.HSM_HEALTH_INTERVAL);
    if (d.compareTo(Duration.ofMillis(100)) < 0 || d.compareTo(Duration.ofMinutes(5)) > 0) {
      throw invalid(ConfigKey.HSM_HEALTH_INTERVAL, "must be between 100 ms and 5 min");
    }
    return d;
  }

  public Duration deviceCertificateLifetime() {
    Duration d = duration(ConfigKey.DEVICE_CERTIFICATE_LIFETIME);
    if (d.compareTo(Duration.ofHours(1)) < 0 || d.compareTo(Duration.ofDays(397)) > 0) {
      throw invalid(ConfigKey.DEVICE_CERTIFICATE_LIFETIME, "must be between PT1H and P397D");
    }
    return d;
  }

  public Duration revocationHeartbeatInterval() {
    Duration d = duration(ConfigKey.REVOCATION_HEARTBEAT_INTERVAL);
    if (d.compareTo(Duration.ofMillis(100)) < 0 || d.compareTo(Duration.ofMinutes(5)) > 0) {
      throw invalid(ConfigKey.REVOCATION_HEARTBEAT_INTERVAL, "must be between 100 ms and 5 min");
    }
    return d;
  }

  /** How many {@code WatchRevocations} streams are served at a time. */
  public int revocationMaxSubscribers() {
    return (int) bounded(ConfigKey.REVOCATION_MAX_SUBSCRIBERS, 1, 100_000);
  }

  /** How many events a live {@code WatchRevocations} stream may fall behind before it is ended. */
  public long revocationMaxSubscriberLag() {
    return bounded(ConfigKey.REVOCATION_MAX_SUBSCRIBER_LAG, 100, 100_000_000);
  }

  /** How long an expired device authorization is kept before housekeeping deletes it. */
  public Duration deviceAuthorizationRetention() {
    Duration d = duration(ConfigKey.DEVICE_AUTHORIZATION_RETENTION);
    if (d.compareTo(Duration.ofDays(400)) > 0) {
      throw invalid(ConfigKey.DEVICE_AUTHORIZATION_RETENTION, "must be between PT0S and P400D");
    }
    return d;
  }

  private long bounded(ConfigKey key, long min, long max) {
    try {
      long n = Long.parseLong(raw(key));
      if (n < min || n > max) {
        throw invalid(key, "must be " + min + "-" + max);
      }
      return n;
    } catch (NumberFormatException e) {
      throw invalid(key, "must be a number, is '" + raw(key) + "'");
    }
  }

  /** The verification page's session lifetimes and failure limits. */
  public WebSettings webSettings() {
    Duration idle = duration(ConfigKey.WEB_SESSION_IDLE_TIMEOUT);
    Duration absolute = duration(ConfigKey.WEB_SESSION_ABSOLUTE_TIMEOUT);
    if (idle.compareTo(Duration.ofMinutes(1)) < 0 || idle.compareTo(absolute) > 0) {
      throw invalid(ConfigKey.WEB_SESSION_IDLE_TIMEOUT, "must be at least PT1M and at most "
          + ConfigKey.WEB_SESSION_ABSOLUTE_TIMEOUT.key());
    }
    if (absolute.compareTo(Duration.ofDays(1)) > 0) {
      throw invalid(ConfigKey.WEB_SESSION_ABSOLUTE_TIMEOUT, "must be at most P1D");
    }
    Duration window = duration(ConfigKey.WEB_RATE_LIMIT_WINDOW);
    if (window.compareTo(Duration.ofMinutes(1)) < 0 || window.compareTo(Duration.ofDays(1)) > 0) {
      throw invalid(ConfigKey.WEB_RATE_LIMIT_WINDOW, "must be between PT1M and P1D");
    }
    return new WebSettings(idle, absolute, window, count(ConfigKey.WEB_USER_CODE_FAILURES),
        count(ConfigKey.WEB_SIGN_IN_FAILURES_PER_ADDRESS), count(ConfigKey.WEB_SIGN_IN_FAILURES_PER_ACCOUNT));
  }

  /** Verification page settings (see {@link ConfigKey} WEB_*). */
  public record WebSettings(Duration sessionIdle, Duration sessionAbsolute, Duration rateLimitWindow,
      int userCodeFailures, int signInFailuresPerAddress, int signInFailuresPerAccount) {}

  private int count(ConfigKey key) {
    try {
      int n = Integer.parseInt(raw(key));
      if (n < 1 || n > 1000) {
        throw invalid(key, "must be 1-1000");
      }
      return n;
    } catch (NumberFormatException e) {
      throw invalid(key, "must be a number");
    }
  }

  /** Whether the operations listener (/metrics, /healthz, /readyz) runs. */
  public boolean opsEnabled() {
    String v = raw(ConfigKey.OPS_ENABLED);
    if (!v.equals("true") && !v.equals("false")) {
      throw invalid(ConfigKey.OPS_ENABLED, "must be true or false");
    }
    return Boolean.parseBoolean(v);
  }

  public String opsHost() {
    return raw(ConfigKey.OPS_HOST);
  }

  public int opsPort() {
    return port(ConfigKey.OPS_PORT);
  }

  public Duration healthCheckInterval() {
    Duration d = duration(ConfigKey.HEALTH_CHECK_INTERVAL);
    if (d.compareTo(Duration.ofMillis(100)) < 0 || d.compareTo(Duration.ofMinutes(5)) > 0) {
      throw invalid(ConfigKey.HEALTH_CHECK_INTERVAL, "must be between 100 ms and 5 min");
    }
    return d;
  }

  public Duration deviceCountMaxAge() {
    Duration d = duration(ConfigKey.METRICS_DEVICE_COUNT_MAX_AGE);
    if (d.compareTo(Duration.ofSeconds(1)) < 0 || d.compareTo(Duration.ofHours(1)) > 0) {
      throw invalid(ConfigKey.METRICS_DEVICE_COUNT_MAX_AGE, "must be between PT1S and PT1H");
    }
    return d;
  }

  /** How {@code serve} logs: {@code log.format}, {@code log.level}, {@code log.audit}. */
  public LogSettings logSettings() {
    LogFormat format;
    try {
      format = LogFormat.parse(raw(ConfigKey.LOG_FORMAT));
    } catch (IllegalArgumentException e) {
      throw invalid(ConfigKey.LOG_FORMAT, e.getMessage());
    }
    org.slf4j.event.Level level;
    try {
      level = LogSettings.parseLevel(raw(ConfigKey.LOG_LEVEL));
    } catch (IllegalArgumentException e) {
      throw invalid(ConfigKey.LOG_LEVEL, e.getMessage());
    }
    String audit = raw(ConfigKey.LOG_AUDIT);
    if (!audit.equals("true") && !audit.equals("false")) {
      throw invalid(ConfigKey.LOG_AUDIT, "must be true or false");
    }
    return new LogSettings(format, level, Boolean.parseBoolean(audit));
  }

  public String databaseUrl() {
    String v = values.getProperty(ConfigKey.DATABASE_URL.key());
    if (v == null || v.isBlank()) {
      // WRITE_DELAY=0: H2 otherwise acknowledges commits it has not written yet (DESIGN: state).
      // QUERY_CACHE_SIZE: a grant runs about a dozen distinct statements; with H2's default of 8 cached per
      // connection every one was parsed again each time (a sixth of the commit writer's time, bench/ JFR profile).
      return "jdbc:h2:file:" + home.resolve("data/broker") + ";WRITE_DELAY=0;QUERY_CACHE_SIZE=64";
    }
    return v.strip();
  }

  public int databasePoolSize() {
    try {
      int n = Integer.parseInt(raw(ConfigKey.DATABASE_POOL_SIZE));
      if (n < 1 || n > 200) {
        throw invalid(ConfigKey.DATABASE_POOL_SIZE, "must be 1-200");
      }
      return n;
    } catch (NumberFormatException e) {
      throw invalid(ConfigKey.DATABASE_POOL_SIZE, "must be a number");
    }
  }
}
