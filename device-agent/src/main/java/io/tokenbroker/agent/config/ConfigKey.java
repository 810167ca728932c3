package io.tokenbroker.agent.config;

import java.util.Arrays;
import java.util.Optional;

/**
 * Every key of the agent's properties file, its type and its default (null = none). Each can also be set by the
 * environment variable {@link #environmentVariable()}, which wins over the file.
 */
public enum ConfigKey {
  BROKER_TARGET("broker.target", Type.STRING, null, true),
  BROKER_EXTERNAL_URL("broker.external-url", Type.STRING, null, true),
  BROKER_CA_FILE("broker.ca-file", Type.PATH, null, true),
  BROKER_AUTHORITY("broker.authority", Type.STRING, null, false),
  BROKER_CALL_TIMEOUT("broker.call-timeout", Type.DURATION, "PT30S", false),
  CLIENT_ID("client-id", Type.STRING, null, true),
  SCOPE("scope", Type.STRING, null, false),
  AUDIENCE("audience", Type.STRING, null, false),
  STATE_DIR("state-dir", Type.PATH, "/var/lib/device-agent", false),
  DEVICE_SECRET_FILE("device-secret-file", Type.PATH, null, false),
  PKCS11_CONFIG("pkcs11.config", Type.PATH, null, false),
  PKCS11_PIN_FILE("pkcs11.pin-file", Type.PATH, null, false),
  PKCS11_PIN_ENV("pkcs11.pin-env", Type.STRING, "DEVICE_AGENT_PKCS11_PIN", false),
  SOCKET_PATH("socket.path", Type.PATH, null, false),
  SOCKET_GROUP("socket.group", Type.STRING, null, false),
  SOCKET_ALLOWED_UIDS("socket.allowed-uids", Type.ID_LIST, null, false),
  SOCKET_ALLOWED_GIDS("socket.allowed-gids", Type.ID_LIST, null, false),
  REFRESH_FRACTION("refresh.fraction", Type.NUMBER, "0.75", false),
  REFRESH_JITTER("refresh.jitter", Type.NUMBER, "0.1", false),
  REFRESH_GRACE_WINDOW("refresh.grace-window", Type.DURATION, "PT60S", false),
  RETRY_INITIAL_BACKOFF("retry.initial-backoff", Type.DURATION, "PT1S", false),
  RETRY_MAX_BACKOFF("retry.max-backoff", Type.DURATION, "PT5M", false),
  SUSPENDED_CHECK_INTERVAL("suspended.check-interval", Type.DURATION, "PT10M", false);

  /** How a value is parsed. */
  public enum Type { STRING, PATH, DURATION, NUMBER, ID_LIST }

  private final String key;
  private final Type type;
  private final String defaultValue;
  private final boolean required;

  ConfigKey(String key, Type type, String defaultValue, boolean required) {
    this.key = key;
    this.type = type;
    this.defaultValue = defaultValue;
    this.required = required;
  }

  public String key() {
    return key;
  }

  public Type type() {
    return type;
  }

  public String defaultValue() {
    return defaultValue;
  }

  public boolean required() {
    return required;
  }

  /**
   * {@code DEVICE_AGENT_} + the key upper-cased with '.' and '-' as '_': {@code state-dir} is
   * {@code DEVICE_AGENT_STATE_DIR}, {@code broker.ca-file} is {@code DEVICE_AGENT_BROKER_CA_FILE}.
   */
  public String environmentVariable() {
    return EnvironmentOverrides.PREFIX + key.toUpperCase(java.util.Locale.ROOT).replace('.', '_').replace('-', '_');
  }

  static Optional<ConfigKey> byName(String name) {
    return Arrays.stream(values()).filter(k -> k.key.equals(name)).findFirst();
  }
}
