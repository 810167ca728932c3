package io.tokenbroker.agent.config;

import io.tokenbroker.agent.AgentException;
import io.tokenbroker.agent.ExitCodes;
import java.io.IOException;
import java.io.Reader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

/**
 * The agent's configuration: a Java properties file (see {@link ConfigKey} for every key and its default), and
 * the environment: {@code DEVICE_AGENT_<KEY>} (the key upper-cased, '.' and '-' as '_') wins over the file and
 * is checked the same way. Relative paths resolve against the file's directory, also when they come from the
 * environment. An unknown key, an unknown {@code DEVICE_AGENT_} variable that looks like a key, or a value of the
 * wrong type is refused with one line naming it, because a misspelt security setting must not be ignored.
 *
 * <p>Thread-safety: immutable.
 */
public final class AgentConfig {
  private final Path file;
  private final Map<ConfigKey, String> values;
  private final Set<ConfigKey> fromEnvironment;

  private AgentConfig(Path file, Map<ConfigKey, String> values, Set<ConfigKey> fromEnvironment) {
    this.file = file;
    this.values = values;
    this.fromEnvironment = fromEnvironment;
  }

  /** Reads and validates {@code file} with this process's environment. */
  public static AgentConfig load(Path file) {
    return load(file, System.getenv());
  }

  /**
   * Reads and validates {@code file}, then the {@code DEVICE_AGENT_<KEY>} overrides in {@code env}.
   *
   * @throws AgentException (exit code {@link ExitCodes#CONFIG}) naming the key or variable that is wrong
   */
  public static AgentConfig load(Path file, Map<String, String> env) {
    Properties properties = new Properties();
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      properties.load(reader);
    } catch (IOException e) {
      throw new AgentException(ExitCodes.CONFIG, "cannot read config file " + file + ": " + e.getMessage());
    } catch (IllegalArgumentException e) {
      throw new AgentException(ExitCodes.CONFIG, "config file " + file + " is not a valid properties file: "
          + e.getMessage());
    }
    Map<ConfigKey, String> values = new EnumMap<>(ConfigKey.class);
    for (String name : new TreeSet<>(properties.stringPropertyNames())) {
      ConfigKey key = ConfigKey.byName(name).orElseThrow(() -> new AgentException(ExitCodes.CONFIG,
          "unknown key '" + name + "' in " + file + " (known keys: see the README's device agent configuration)"));
      values.put(key, properties.getProperty(name).strip());
    }
    Map<ConfigKey, String> overrides = EnvironmentOverrides.read(env);
    values.putAll(overrides);
    AgentConfig config = new AgentConfig(file.toAbsolutePath(), values, Set.copyOf(overrides.keySet()));
    EnvironmentOverrides.refuseUnknown(env, config.pkcs11PinEnv());
    config.validate();
    return config;
  }

  private void validate() {
    for (ConfigKey key : ConfigKey.values()) {
      if (key.required() && raw(key).isEmpty()) {
        throw error(key, "is required");
      }
    }
    brokerTarget();
    externalUrl();
    refreshFraction();
    refreshJitter();
    for (ConfigKey key : ConfigKey.values()) {
      if (key.type() == ConfigKey.Type.DURATION) {
        duration(key);
      } else if (key.type() == ConfigKey.Type.ID_LIST) {
        ids(key);
      }
    }
  }

  private Optional<String> raw(ConfigKey key) {
    String v = values.get(key);
    if (v == null || v.isEmpty()) {
      return Optional.ofNullable(key.defaultValue());
    }
    return Optional.of(v);
  }

  private AgentException error(ConfigKey key, String what) {
    if (fromEnvironment.contains(key)) {
      return new AgentException(ExitCodes.CONFIG, "environment variable " + key.environmentVariable()
          + " (config key '" + key.key() + "') " + what);
    }
    return new AgentException(ExitCodes.CONFIG, "config key '" + key.key() + "' in " + file + " " + what);
  }

  private String string(ConfigKey key) {
    return raw(key).orElseThrow(() -> error(key, "is required"));
  }

  private Path path(ConfigKey key) {
    return file.getParent().resolve(string(key)).normalize();
  }

  private Duration duration(ConfigKey key) {
    try {
      Duration d = Duration.parse(string(key));
      if (d.isNegative() || d.isZero()) {
        throw error(key, "must be a positive duration");
      }
      return d;
    } catch (DateTimeParseException e) {
      throw error(key, "must be an ISO-8601 duration such as PT30S");
    }
  }

  private double fraction(ConfigKey key, double min, double max) {
    try {
      double v = Double.parseDouble(string(key));
      if (!(v >= min && v <= max)) {
        throw error(key, "must be between " + min + " and " + max);
      }
      return v;
    } catch (NumberFormatException e) {
      throw error(key, "must be a number between " + min + " and " + max);
    }
  }

  private List<Integer> ids(ConfigKey key) {
    List<Integer> ids = new ArrayList<>();
    for (String part : words(key)) {
      try {
        int id = Integer.parseInt(part);
        if (id < 0) {
          throw new NumberFormatException();
        }
        ids.add(id);
      } catch (NumberFormatException e) {
        throw error(key, "must be a list of numeric ids separated by commas or spaces");
      }
    }
    return List.copyOf(ids);
  }

  private List<String> words(ConfigKey key) {
    return raw(key).map(v -> Arrays.stream(v.split("[,\\s]+")).filter(s -> !s.isEmpty()).toList())
        .orElse(List.of());
  }

  /** The file this configuration was read from. */
  public Path file() {
    return file;
  }

  /** {@code host:port} of the broker's gRPC listener. */
  public String brokerTarget() {
    String target = string(ConfigKey.BROKER_TARGET);
    int colon = target.lastIndexOf(':');
    if (colon <= 0 || colon == target.length() - 1) {
      throw error(ConfigKey.BROKER_TARGET, "must be host:port");
    }
    try {
      int port = Integer.parseInt(target.substring(colon + 1));
      if (port < 1 || port > 65535) {
        throw error(ConfigKey.BROKER_TARGET, "has a port outside 1-65535");
      }
    } catch (NumberFormatException e) {
      throw error(ConfigKey.BROKER_TARGET, "must be host:port");
    }
    return target;
  }

  /** The broker's external base URL; DPoP {@code htu} = this + "/" + full gRPC method name. */
  public String externalUrl() {
    String url = string(ConfigKey.BROKER_EXTERNAL_URL);
    try {
      URI uri = new URI(url);
      if (!"https".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null || uri.getQuery() != null
          || uri.getFragment() != null) {
        throw error(ConfigKey.BROKER_EXTERNAL_URL, "must be an https URL without query or fragment");
      }
    } catch (java.net.URISyntaxException e) {
      throw error(ConfigKey.BROKER_EXTERNAL_URL, "is not a valid URL");
    }
    return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }

  /** PEM file of the CA(s) the broker's TLS certificate must chain to. */
  public Path caFile() {
    return path(ConfigKey.BROKER_CA_FILE);
  }

  /** TLS server name to check instead of the target's host, if set. */
  public Optional<String> authority() {
    return raw(ConfigKey.BROKER_AUTHORITY);
  }

  public String clientId() {
    return string(ConfigKey.CLIENT_ID);
  }

  /** Requested scopes; empty = everything the client may have. */
  public List<String> scopes() {
    return words(ConfigKey.SCOPE);
  }

  /** Requested audiences (RFC 8707 resource indicators); empty = all of the client's audiences. */
  public List<String> audiences() {
    return words(ConfigKey.AUDIENCE);
  }

  public Path stateDir() {
    return path(ConfigKey.STATE_DIR);
  }

  public Path deviceSecretFile() {
    return raw(ConfigKey.DEVICE_SECRET_FILE).map(v -> file.getParent().resolve(v).normalize())
        .orElse(stateDir().resolve("device.secret"));
  }

  /** SunPKCS11 configuration of the device's token; empty = software keys. */
  public Optional<Path> pkcs11Config() {
    return raw(ConfigKey.PKCS11_CONFIG).map(v -> file.getParent().resolve(v).normalize());
  }

  public Optional<Path> pkcs11PinFile() {
    return raw(ConfigKey.PKCS11_PIN_FILE).map(v -> file.getParent().resolve(v).normalize());
  }

  public String pkcs11PinEnv() {
    return string(ConfigKey.PKCS11_PIN_ENV);
  }

  public Path socketPath() {
    return raw(ConfigKey.SOCKET_PATH).map(v -> file.getParent().resolve(v).normalize())
        .orElse(stateDir().resolve("agent.sock"));
  }

  public Optional<String> socketGroup() {
    return raw(ConfigKey.SOCKET_GROUP);
  }

  public List<Integer> allowedUids() {
    return ids(ConfigKey.SOCKET_ALLOWED_UIDS);
  }

  public List<Integer> allowedGids() {
    return ids(ConfigKey.SOCKET_ALLOWED_GIDS);
  }

  /** Fraction of an access token's lifetime after which it is refreshed. */
  public double refreshFraction() {
    return fraction(ConfigKey.REFRESH_FRACTION, 0.01, 0.95);
  }

  /** Random jitter, as a fraction of the lifetime, added to or taken from the refresh point. */
  public double refreshJitter() {
    return fraction(ConfigKey.REFRESH_JITTER, 0.0, 0.2);
  }

  public Duration initialBackoff() {
    return duration(ConfigKey.RETRY_INITIAL_BACKOFF);
  }

  public Duration maxBackoff() {
    return duration(ConfigKey.RETRY_MAX_BACKOFF);
  }

  public Duration graceWindow() {
    return duration(ConfigKey.REFRESH_GRACE_WINDOW);
  }

  public Duration suspendedCheckInterval() {
    return duration(ConfigKey.SUSPENDED_CHECK_INTERVAL);
  }

  public Duration callTimeout() {
    return duration(ConfigKey.BROKER_CALL_TIMEOUT);
  }
}
