package io.tokenbroker.agent.cli;

import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code DEVICE_AGENT_LOG_LEVEL}: the level of the agent's own loggers ({@code io.tokenbroker.*}) and of no
 * others. Third-party loggers keep their levels on purpose: at DEBUG, gRPC's Netty frame logger prints the
 * headers of every call, that is DPoP proofs and {@code authorization: DPoP <token>}.
 */
final class ProductLogLevel {
  static final String ENV = "DEVICE_AGENT_LOG_LEVEL";
  /** slf4j-simple's level of the {@code io.tokenbroker} logger tree. */
  static final String PROPERTY = "org.slf4j.simpleLogger.log.io.tokenbroker";
  private static final Set<String> LEVELS = Set.of("trace", "debug", "info", "warn", "error");

  private ProductLogLevel() {}

  /** The level named by {@code value} (any case), empty when unset; anything else is refused. */
  static Optional<String> parse(String value) {
    if (value == null || value.isBlank()) {
      return Optional.empty();
    }
    String level = value.strip().toLowerCase(Locale.ROOT);
    if (!LEVELS.contains(level)) {
      throw new IllegalArgumentException(ENV + " must be one of trace, debug, info, warn, error");
    }
    return Optional.of(level);
  }

  /**
   * Sets the level from {@code env} unless the JVM was given {@link #PROPERTY} itself. Runs before the first
   * logger is made: slf4j-simple reads its configuration once.
   */
  static void apply(Map<String, String> env) {
    parse(env.get(ENV)).ifPresent(level -> {
      if (System.getProperty(PROPERTY) == null) {
        System.setProperty(PROPERTY, level);
      }
    });
  }
}
