package io.tokenbroker.broker.logging;

import java.util.Locale;
import org.slf4j.event.Level;

/**
 * What {@code broker.properties} says about logging: the format, the broker's level, and whether audit events
 * also go to the log (logger {@code tokenbroker.audit}, INFO, whatever the level).
 */
public record LogSettings(LogFormat format, Level level, boolean audit) {
  /** What the broker uses before its configuration is read, and the defaults of the settings. */
  public static final LogSettings DEFAULT = new LogSettings(LogFormat.TEXT, Level.INFO, true);

  /** ERROR, WARN, INFO, DEBUG or TRACE, any case. */
  public static Level parseLevel(String value) {
    try {
      return Level.valueOf(value.strip().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("must be one of error, warn, info, debug, trace");
    }
  }
}
