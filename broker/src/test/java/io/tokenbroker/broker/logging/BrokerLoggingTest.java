package io.tokenbroker.broker.logging;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenbroker.broker.audit.AuditEvent;
import io.tokenbroker.broker.audit.AuditLogLines;
import io.tokenbroker.broker.testing.CapturedLog;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The two log formats as an operator's tools read them: text lines for people, one JSON object per line. */
class BrokerLoggingTest {
  private static final Logger log = LoggerFactory.getLogger(BrokerLoggingTest.class);
  private static final AuditEvent REVOKED = AuditEvent.success("device_revoked", "operator:CN=alice",
          Instant.parse("2026-11-01T10:00:00Z")).client("thermostat-v2").device("dev-1")
      .detail("reason", "stolen \"in transit\"\nsecond line").build();

  @Test
  void jsonWhenLinesWithAndWithoutRequestIdThenEachLineIsOneJsonObjectWithTheFields() {
    List<String> lines;
    try (CapturedLog captured = CapturedLog.start(LogFormat.JSON)) {
      log.info("plain line with \"quotes\" and a\nnewline");
      try (RequestIds.Scope ignored = RequestIds.enter("req-123")) {
        log.warn("inside a request");
        AuditLogLines.emit(REVOKED);
      }
      log.error("failure", new IllegalStateException("boom"));
      lines = captured.lines();
    }

    assertThat(lines).hasSize(4);
    List<Map<String, Object>> objects = CapturedLog.parseJsonLines(lines);
    assertThat(objects.get(0)).containsEntry("level", "INFO")
        .containsEntry("loggerName", BrokerLoggingTest.class.getName())
        .containsEntry("formattedMessage", "plain line with \"quotes\" and a\nnewline");
    assertThat(objects.get(0).get("timestamp")).isInstanceOf(Number.class);
    assertThat(objects.get(1)).containsEntry("level", "WARN").containsEntry("mdc", Map.of("requestId", "req-123"));

    Map<String, Object> audit = objects.get(2);
    assertThat(audit).containsEntry("loggerName", "tokenbroker.audit")
        .containsEntry("formattedMessage", "audit device_revoked")
        .containsEntry("mdc", Map.of("requestId", "req-123"));
    assertThat(audit.get("kvpList")).asList().containsExactly(Map.of("type", "device_revoked"),
        Map.of("outcome", "success"), Map.of("actor", "operator:CN=alice"), Map.of("client", "thermostat-v2"),
        Map.of("device", "dev-1"), Map.of("time", "2026-11-01T10:00:00Z"),
        Map.of("reason", "stolen 'in transit' second line"));

    assertThat(objects.get(3)).containsEntry("level", "ERROR").containsKey("throwable");
    assertThat(objects.get(3).toString()).contains("boom");
  }

  @Test
  void textWhenRequestIdThenItIsInBracketsAndAuditFieldsAreKeyValuePairsOnOneLine() {
    List<String> lines;
    try (CapturedLog captured = CapturedLog.start(LogFormat.TEXT)) {
      log.info("outside");
      try (RequestIds.Scope ignored = RequestIds.enter("req-123")) {
        AuditLogLines.emit(REVOKED);
      }
      lines = captured.lines();
    }

    assertThat(lines).hasSize(2);
    assertThat(lines.get(0)).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d) INFO  "
        + "BrokerLoggingTest - outside");
    assertThat(lines.get(1)).contains(" INFO  audit [req-123] - audit device_revoked type=\"device_revoked\" "
        + "outcome=\"success\" actor=\"operator:CN=alice\" client=\"thermostat-v2\" device=\"dev-1\" "
        + "time=\"2026-11-01T10:00:00Z\" reason=\"stolen 'in transit' second line\"");
  }

  @Test
  void levelWhenWarnThenInfoLinesAreDroppedButAuditLinesStayUnlessTurnedOff() {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    try {
      BrokerLogging.configure(new LogSettings(LogFormat.TEXT, org.slf4j.event.Level.WARN, true), out);
      log.info("dropped");
      log.warn("kept");
      AuditLogLines.emit(REVOKED);
      BrokerLogging.configure(new LogSettings(LogFormat.TEXT, org.slf4j.event.Level.DEBUG, false), out);
      AuditLogLines.emit(REVOKED);
      log.debug("debug kept");
    } finally {
      BrokerLogging.configure(LogSettings.DEFAULT);
    }
    String text = out.toString(StandardCharsets.UTF_8);
    assertThat(text).doesNotContain("dropped").contains("kept").contains("debug kept");
    assertThat(text.lines().filter(l -> l.contains("audit device_revoked"))).hasSize(1);
  }

  @Test
  void javaUtilLoggingRecordsComeOutInTheSameFormat() {
    List<String> lines;
    try (CapturedLog captured = CapturedLog.start(LogFormat.JSON)) {
      java.util.logging.Logger.getLogger("io.grpc.internal.Example").warning("from JUL {0}");
      lines = captured.lines();
    }
    assertThat(CapturedLog.parseJsonLines(lines)).singleElement().satisfies(line -> assertThat(line)
        .containsEntry("loggerName", "io.grpc.internal.Example").containsEntry("level", "WARN")
        .containsEntry("formattedMessage", "from JUL {0}"));
  }

  @Test
  void theJarsDefaultConfigurationUsesTheSameTextPattern() throws Exception {
    try (InputStream in = BrokerLogging.class.getResourceAsStream("/logback.xml")) {
      String xml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      assertThat(xml).contains("<pattern>" + BrokerLogging.TEXT_PATTERN + "</pattern>");
    }
  }
}
