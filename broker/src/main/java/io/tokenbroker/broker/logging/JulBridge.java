package io.tokenbroker.broker.logging;

import ch.qos.logback.classic.Level;
import java.util.logging.Handler;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.SimpleFormatter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes java.util.logging (which grpc-java logs through) into SLF4J, so that its records get the broker's
 * format and request id instead of JUL's two-line console format.
 */
final class JulBridge extends Handler {
  private final SimpleFormatter formatter = new SimpleFormatter();

  private JulBridge() {}

  /** Replaces JUL's handlers with this bridge; records below {@code level} are not even created. */
  static void install(Level level) {
    LogManager.getLogManager().reset();
    java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
    root.setLevel(julLevel(level));
    root.addHandler(new JulBridge());
  }

  private static java.util.logging.Level julLevel(Level level) {
    if (level.isGreaterOrEqual(Level.ERROR)) {
      return java.util.logging.Level.SEVERE;
    }
    if (level.isGreaterOrEqual(Level.WARN)) {
      return java.util.logging.Level.WARNING;
    }
    if (level.isGreaterOrEqual(Level.INFO)) {
      return java.util.logging.Level.INFO;
    }
    return level.isGreaterOrEqual(Level.DEBUG) ? java.util.logging.Level.FINE : java.util.logging.Level.ALL;
  }

  @Override
  public void publish(LogRecord record) {
    if (record == null) {
      return;
    }
    Logger logger = LoggerFactory.getLogger(record.getLoggerName() == null ? "jul" : record.getLoggerName());
    int value = record.getLevel().intValue();
    String message = formatter.formatMessage(record);
    if (value >= java.util.logging.Level.SEVERE.intValue()) {
      logger.error("{}", message, record.getThrown());
    } else if (value >= java.util.logging.Level.WARNING.intValue()) {
      logger.warn("{}", message, record.getThrown());
    } else if (value >= java.util.logging.Level.INFO.intValue()) {
      logger.info("{}", message, record.getThrown());
    } else if (value >= java.util.logging.Level.FINE.intValue()) {
      logger.debug("{}", message, record.getThrown());
    } else {
      logger.trace("{}", message, record.getThrown());
    }
  }

  @Override
  public void flush() {}

  @Override
  public void close() {}
}
