package io.tokenbroker.broker.audit;

import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * Writes a committed audit event to the log as one structured line on the logger {@value #LOGGER}: message
 * {@code audit <type>} and the fields as SLF4J key-value pairs ({@code key="value"} in text lines, {@code
 * kvpList} in JSON lines): type, outcome, actor, client, device, time, then the event's details (short
 * non-secret facts such as a reason, a jti, a key thumbprint; see {@link AuditEvent}). The store calls it only
 * after the event's transaction has committed, so a rolled-back event never appears.
 */
public final class AuditLogLines {
  public static final String LOGGER = "tokenbroker.audit";
  private static final Logger log = LoggerFactory.getLogger(LOGGER);

  private AuditLogLines() {}

  public static void emit(AuditEvent event) {
    if (!log.isInfoEnabled()) {
      return;
    }
    LoggingEventBuilder line = log.atInfo()
        .addKeyValue("type", safe(event.type()))
        .addKeyValue("outcome", safe(event.outcome()))
        .addKeyValue("actor", safe(event.actor()));
    if (event.clientId() != null) {
      line = line.addKeyValue("client", safe(event.clientId()));
    }
    if (event.deviceId() != null) {
      line = line.addKeyValue("device", safe(event.deviceId()));
    }
    line = line.addKeyValue("time", event.occurredAt().toString());
    for (Map.Entry<String, String> detail : event.details().entrySet()) {
      line = line.addKeyValue(safe(detail.getKey()), safe(detail.getValue()));
    }
    line.log("audit {}", safe(event.type()));
  }

  /**
   * One line per event, whatever a value holds: control characters (a newline in an operator's reason) become
   * spaces and double quotes single ones, so a text line cannot be split or its quoting broken.
   */
  private static String safe(String value) {
    if (value == null) {
      return "";
    }
    StringBuilder out = new StringBuilder(value.length());
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      out.append(Character.isISOControl(c) ? ' ' : c == '"' ? '\'' : c);
    }
    return out.toString();
  }
}
