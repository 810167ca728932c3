package io.tokenbroker.broker.config;

import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Every setting of {@code broker.properties}, with its default (null = no default) and meaning. Each can also be
 * set by the environment variable {@link #environmentVariable()} (see {@link EnvironmentOverrides}).
 */
public enum ConfigKey {
  ISSUER("broker.issuer", "https://localhost:8443", "'iss' of every token; the authorization server identifier"),
  EXTERNAL_URL("broker.external-url", null, "base URL of DPoP 'htu' values; defaults to broker.issuer"),
  GRPC_HOST("grpc.host", "127.0.0.1", "address the gRPC listener binds"),
  GRPC_PORT("grpc.port", "8443", "gRPC TLS port (0 = any free port)"),
  HTTPS_HOST("https.host", "127.0.0.1", "address the HTTPS listener (JWKS, metadata, /device) binds"),
  HTTPS_PORT("https.port", "8444", "HTTPS port (0 = any free port)"),
  TLS_CERTIFICATE("tls.certificate", "tls/server.crt", "PEM certificate chain of both listeners"),
  TLS_PRIVATE_KEY("tls.private-key", "tls/server.key", "PEM PKCS#8 private key of both listeners"),
  TLS_CLIENT_CA("tls.client-ca", "tls/ca.crt",
      "PEM CA certificates that operator and backend client certificates chain to"),
  HSM_PKCS11_CONFIG("hsm.pkcs11-config", "hsm/pkcs11.cfg", "SunPKCS11 configuration file of the signing token"),
  HSM_PIN_FILE("hsm.pin-file", null, "file (mode 0600) holding the token's user PIN"),
  HSM_PIN_ENV("hsm.pin-env", "TOKENBROKER_HSM_PIN", "environment variable holding the PIN; wins over the file"),
  HSM_SOFTHSM2_CONF("hsm.softhsm2-conf", null, "SoftHSM2 configuration of a development token"),
  HSM_HEALTH_INTERVAL("hsm.health-interval", "PT5S",
      "how often the HSM login is probed (one signature) and, while it is lost, a re-login is tried"),
  KEYS_ALGORITHM("keys.algorithm", "ES256", "algorithm of new signing keys: ES256 or PS256"),
  KEYS_ROTATION_PERIOD("keys.rotation-period", "P30D", "automatic rotation period (PT0S = only by hand)"),
  KEYS_NEXT_PUBLICATION_LEAD("keys.next-publication-lead", "P1D",
      "how long a NEXT key is published before automatic rotation activates it"),
  KEYS_RETIRED_RETENTION("keys.retired-retention", "PT2H",
      "how long a RETIRED key stays in the JWKS: at least the longest token lifetime plus clock skew"),
  DPOP_IAT_WINDOW("dpop.iat-window", "PT60S", "how far a DPoP proof's iat may be from the server's time, either way"),
  DPOP_NONCE_REQUIRED("dpop.nonce-required", "false", "require server-provided DPoP nonces (RFC 9449 §8)"),
  DPOP_NONCE_LIFETIME("dpop.nonce-lifetime", "PT5M", "how long a DPoP nonce stays valid"),
  DEVICE_CODE_LIFETIME("device.code-lifetime", "PT10M", "lifetime of device and user codes (RFC 8628 expires_in)"),
  DEVICE_POLL_INTERVAL("device.poll-interval", "PT5S", "minimum polling interval (RFC 8628 interval)"),
  DEVICE_VERIFICATION_URI("device.verification-uri", null,
      "page where people enter user codes; default https://<issuer host>:<https.port>/device"),
  DEVICE_CERTIFICATE_LIFETIME("device.certificate-lifetime", "P30D",
      "lifetime of device certificates issued by the device CA (RFC 8705 §2.1); PT1H to P397D"),
  WEB_SESSION_IDLE_TIMEOUT("web.session-idle-timeout", "PT15M",
      "a verification page session ends this long after its last request"),
  WEB_SESSION_ABSOLUTE_TIMEOUT("web.session-absolute-timeout", "PT1H",
      "a verification page session ends this long after it began, however active"),
  WEB_RATE_LIMIT_WINDOW("web.rate-limit-window", "PT15M",
      "window of the verification page's failure limits; a blocked address or account waits at most this long"),
  WEB_USER_CODE_FAILURES("web.user-code-failures", "10",
      "wrong user codes allowed per client address (and per signed-in owner) in the window (RFC 8628 §5.1)"),
  WEB_SIGN_IN_FAILURES_PER_ADDRESS("web.sign-in-failures-per-address", "20",
      "failed sign-ins allowed per client address in the window"),
  WEB_SIGN_IN_FAILURES_PER_ACCOUNT("web.sign-in-failures-per-account", "5",
      "failed sign-ins allowed per owner account in the window"),
  REVOCATION_HEARTBEAT_INTERVAL("revocation.heartbeat-interval", "PT15S",
      "how often WatchRevocations streams send a heartbeat (verifiers measure staleness by it)"),
  REVOCATION_MAX_SUBSCRIBERS("revocation.max-subscribers", "1000",
      "WatchRevocations streams served at a time; more are refused with RESOURCE_EXHAUSTED"),
  REVOCATION_MAX_SUBSCRIBER_LAG("revocation.max-subscriber-lag", "10000",
      "events a live WatchRevocations stream may fall behind before it is ended (it resumes from its cursor)"),
  DEVICE_AUTHORIZATION_RETENTION("device.authorization-retention", "P1D",
      "how long housekeeping keeps a device authorization after it expired (late polls get expired_token)"),
  REFRESH_SPENT_RETENTION("refresh.spent-retention", "P30D",
      "how long housekeeping keeps a spent (consumed or revoked) refresh token after its idle lifetime ended, for "
          + "reuse detection; PT0S keeps them forever"),
  AUDIT_RETENTION("audit.retention", "P400D",
      "how long audit events are kept before housekeeping deletes them; PT0S keeps them forever"),
  DATABASE_URL("database.url", null,
      "JDBC URL; default an H2 file under <home>/data with WRITE_DELAY=0;QUERY_CACHE_SIZE=64"),
  DATABASE_POOL_SIZE("database.pool-size", "8", "maximum JDBC connections"),
  OPS_ENABLED("ops.enabled", "true",
      "serve /metrics, /healthz and /readyz on the operations listener (false = no listener)"),
  OPS_HOST("ops.host", "127.0.0.1",
      "address the operations listener binds; plain HTTP, so keep it on loopback or a private network"),
  OPS_PORT("ops.port", "9464", "operations listener port (0 = any free port)"),
  HEALTH_CHECK_INTERVAL("health.check-interval", "PT5S",
      "how often readiness (/readyz and gRPC health) checks the database and the active signing key"),
  METRICS_DEVICE_COUNT_MAX_AGE("metrics.device-count-max-age", "PT1M",
      "how old the devices-by-state gauge may be before a scrape has it recounted in the background"),
  LOG_FORMAT("log.format", "text",
      "text (for people) or json (one JSON object per line, for log collectors); both on standard error"),
  LOG_LEVEL("log.level", "info", "the broker's log level: error, warn, info, debug or trace"),
  LOG_AUDIT("log.audit", "true",
      "also write every committed audit event as one line on the logger tokenbroker.audit (INFO, any level)");

  private final String key;
  private final String defaultValue;
  private final String description;

  ConfigKey(String key, String defaultValue, String description) {
    this.key = key;
    this.defaultValue = defaultValue;
    this.description = description;
  }

  public String key() {
    return key;
  }

  public String defaultValue() {
    return defaultValue;
  }

  public String description() {
    return description;
  }

  /** {@code TOKENBROKER_} + the key upper-cased, with '.' and '-' as '_': {@code grpc.port} is TOKENBROKER_GRPC_PORT. */
  public String environmentVariable() {
    return EnvironmentOverrides.PREFIX + key.toUpperCase(java.util.Locale.ROOT).replace('.', '_').replace('-', '_');
  }

  static Set<String> names() {
    return Arrays.stream(values()).map(ConfigKey::key).collect(Collectors.toUnmodifiableSet());
  }
}
