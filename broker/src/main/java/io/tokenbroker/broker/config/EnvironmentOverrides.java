package io.tokenbroker.broker.config;

import io.tokenbroker.broker.BrokerFailure;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The environment's part of the configuration. Every setting {@code a.b-c} can be set by the variable
 * {@code TOKENBROKER_A_B_C} ({@link ConfigKey#environmentVariable()}), which wins over {@code broker.properties};
 * its value is checked exactly like the file's, and an empty variable counts as unset. A {@code TOKENBROKER_}
 * variable whose first word after the prefix is that of a setting (BROKER, GRPC, HSM, LOG, ...) but which names
 * no setting is an error, like an unknown key in the file, because a misspelt security setting must not be
 * ignored. Not settings, and so allowed: the launcher's {@code TOKENBROKER_JAVA_OPTS},
 * {@code TOKENBROKER_BROKER_JAR} and {@code TOKENBROKER_CDS_DIR}, the default PIN variable {@code TOKENBROKER_HSM_PIN} and whatever variable
 * {@code hsm.pin-env} names.
 */
final class EnvironmentOverrides {
  static final String PREFIX = "TOKENBROKER_";
  private static final Set<String> NOT_SETTINGS =
      Set.of("TOKENBROKER_JAVA_OPTS", "TOKENBROKER_BROKER_JAR", "TOKENBROKER_CDS_DIR", "TOKENBROKER_HSM_PIN");

  private EnvironmentOverrides() {}

  /** The settings that {@code env} sets (non-empty values, stripped). */
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

  /**
   * Refuses {@code TOKENBROKER_} variables that look like settings but are none; {@code pinVariable} is the
   * effective {@code hsm.pin-env}, which holds a secret and is not a setting.
   */
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
      throw new BrokerFailure(BrokerFailure.EXIT_CONFIG, "environment variable(s) " + unknown + " name no setting; "
          + "TOKENBROKER_<KEY> with the key upper-cased and '.' and '-' as '_' (see the configuration reference "
          + "in README.md)");
    }
  }

  /** The first word after the prefix: GRPC of TOKENBROKER_GRPC_PORT. */
  private static String section(String variable) {
    String rest = variable.substring(PREFIX.length());
    int underscore = rest.indexOf('_');
    return underscore < 0 ? rest : rest.substring(0, underscore);
  }
}
