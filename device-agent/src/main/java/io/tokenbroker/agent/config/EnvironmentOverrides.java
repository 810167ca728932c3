package io.tokenbroker.agent.config;

import io.tokenbroker.agent.AgentException;
import io.tokenbroker.agent.ExitCodes;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The environment's part of the agent's configuration: {@code DEVICE_AGENT_<KEY>} for every key (see {@link
 * ConfigKey#environmentVariable()}) wins over the file; an empty variable counts as unset. A {@code DEVICE_AGENT_}
 * variable whose first word is that of a key (BROKER, CLIENT, STATE, PKCS11, SOCKET, REFRESH, ...) but that names
 * no key is refused like an unknown key in the file. Not settings: {@code DEVICE_AGENT_CONFIG},
 * {@code DEVICE_AGENT_JAR}, {@code DEVICE_AGENT_JAVA_OPTS}, {@code DEVICE_AGENT_CDS_DIR} (the launcher's),
 * {@code DEVICE_AGENT_PKCS11_PIN}, {@code DEVICE_AGENT_LOG_LEVEL} (read before the first logger exists, see the
 * CLI's ProductLogLevel) and whatever variable
 * {@code pkcs11.pin-env} names.
 */
final class EnvironmentOverrides {
  static final String PREFIX = "DEVICE_AGENT_";
  private static final Set<String> NOT_SETTINGS = Set.of("DEVICE_AGENT_CONFIG", "DEVICE_AGENT_JAR",
      "DEVICE_AGENT_JAVA_OPTS", "DEVICE_AGENT_CDS_DIR", "DEVICE_AGENT_PKCS11_PIN", "DEVICE_AGENT_LOG_LEVEL");

  private EnvironmentOverrides() {}

  /** The keys that {@code env} sets (non-empty values, stripped). */
  static Map<ConfigKey, String> read(Map<String, String> env) {
    Map<ConfigKey, String> values = new EnumMap<>(ConfigKey.class);
    for (ConfigKey key : ConfigKey.values()) {
      String value = env.get(key.environmentVariable());
      if (value != null && !value.isBlank()) {
        values.put(key, value.strip());
      }
    }
    return values;
  }

  /** Refuses variables that look like keys but are none; {@code pinVariable} is the effective pkcs11.pin-env. */
  static void refuseUnknown(Map<String, String> env, String pinVariable) {
    Set<String> known = Arrays.stream(ConfigKey.values()).map(ConfigKey::environmentVariable)
        .collect(Collectors.toSet());
    Set<String> sections = Arrays.stream(ConfigKey.values()).map(k -> section(k.environmentVariable()))
        .collect(Collectors.toSet());
    Set<String> unknown = new TreeSet<>();
    for (String name : env.keySet()) {
      if (name.startsWith(PREFIX) && !known.contains(name) && !NOT_SETTINGS.contains(name)
          && !name.equals(pinVariable) && sections.contains(section(name))) {
        unknown.add(name);
      }
    }
    if (!unknown.isEmpty()) {
      throw new AgentException(ExitCodes.CONFIG, "environment variable(s) " + unknown + " name no config key; "
          + "DEVICE_AGENT_<KEY> with the key upper-cased and '.' and '-' as '_' (see the README's device agent "
          + "configuration)");
    }
  }

  private static String section(String variable) {
    String rest = variable.substring(PREFIX.length());
    int underscore = rest.indexOf('_');
    return underscore < 0 ? rest : rest.substring(0, underscore);
  }
}
