package io.tokenbroker.broker.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Configures Logback for {@code broker serve} from {@link LogSettings}: one appender on standard error, either
 * the text pattern below or Logback's {@link JsonEncoder} (one JSON object per line, with {@code mdc.requestId}
 * and the audit fields in {@code kvpList}). {@code logback.xml} in the jar gives the same text format to every
 * command before this runs. gRPC's own java.util.logging records are routed into the same appender, so that a
 * JSON log holds nothing but JSON lines.
 *
 * <p>Thread-safety: call from one thread at start-up; Logback itself is thread-safe afterwards.
 */
public final class BrokerLogging {
  /**
   * ISO time, level, logger, the request id in brackets when there is one, the message, the key-value pairs of
   * structured lines (audit events). The {@code %replace}s drop the brackets and the space when they are empty.
   */
  public static final String TEXT_PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level %logger{0}"
      + "%replace( [%X{" + RequestIds.MDC_KEY + "}]){' \\[\\]', ''} - %msg%replace( %kvp){'^ $', ''}%n";

  /** Libraries that are chatty at INFO: they log WARN and above unless the broker's level is stricter. */
  private static final List<String> QUIET_LIBRARIES = List.of("com.zaxxer.hikari", "org.flywaydb",
      "org.eclipse.jetty", "io.grpc.netty.shaded", "io.netty");

  private BrokerLogging() {}

  /** Applies {@code settings} to the broker's standard error. */
  public static void configure(LogSettings settings) {
    configure(settings, System.err);
  }

  /** Applies {@code settings}, writing to {@code out} (tests capture it). */
  public static void configure(LogSettings settings, OutputStream out) {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    context.reset();
    Encoder<ILoggingEvent> encoder = settings.format() == LogFormat.JSON ? json(context) : text(context);
    OutputStreamAppender<ILoggingEvent> appender = new OutputStreamAppender<>();
    appender.setContext(context);
    appender.setName(settings.format().name().toLowerCase(java.util.Locale.ROOT));
    appender.setEncoder(encoder);
    appender.setOutputStream(out instanceof PrintStream ? out : new PrintStream(out, true, StandardCharsets.UTF_8));
    appender.start();

    Level level = Level.toLevel(settings.level().name());
    Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.setLevel(level);
    root.addAppender(appender);
    Level quiet = level.isGreaterOrEqual(Level.WARN) ? level : Level.WARN;
    QUIET_LIBRARIES.forEach(name -> context.getLogger(name).setLevel(quiet));
    // Audit lines are the operator's record of who did what: INFO whatever the broker's level, or off.
    context.getLogger(io.tokenbroker.broker.audit.AuditLogLines.LOGGER)
        .setLevel(settings.audit() ? Level.INFO : Level.OFF);
    JulBridge.install(level);
  }

  private static Encoder<ILoggingEvent> text(LoggerContext context) {
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern(TEXT_PATTERN);
    encoder.setCharset(StandardCharsets.UTF_8);
    encoder.start();
    return encoder;
  }

  /**
   * Logback's JSON encoder with what a log collector needs: timestamp (epoch ms), level, thread, logger, the
   * formatted message, the MDC (request id), the key-value pairs (audit fields) and any throwable. Left out: the
   * message template and its arguments (the formatted message has both), the sequence number, nanoseconds and
   * the logger context (constant per process).
   */
  private static Encoder<ILoggingEvent> json(LoggerContext context) {
    JsonEncoder encoder = new JsonEncoder();
    encoder.setContext(context);
    encoder.setWithSequenceNumber(false);
    encoder.setWithNanoseconds(false);
    encoder.setWithContext(false);
    encoder.setWithMessage(false);
    encoder.setWithArguments(false);
    encoder.setWithFormattedMessage(true);
    encoder.start();
    return encoder;
  }
}
