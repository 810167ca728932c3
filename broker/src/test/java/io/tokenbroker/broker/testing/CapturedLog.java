package io.tokenbroker.broker.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import com.nimbusds.jose.util.JSONObjectUtils;
import io.tokenbroker.broker.logging.BrokerLogging;
import io.tokenbroker.broker.logging.LogFormat;
import io.tokenbroker.broker.logging.LogSettings;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.LoggerFactory;

/**
 * The broker's real log output (what {@code serve} configures, text or JSON) captured in memory, with the
 * broker's own loggers at DEBUG. Closing it puts the default configuration back.
 */
public final class CapturedLog implements AutoCloseable {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  private CapturedLog(LogFormat format) {
    BrokerLogging.configure(new LogSettings(format, org.slf4j.event.Level.INFO, true), out);
    ((LoggerContext) LoggerFactory.getILoggerFactory()).getLogger("io.tokenbroker").setLevel(Level.DEBUG);
  }

  public static CapturedLog start(LogFormat format) {
    return new CapturedLog(format);
  }

  /** A position in the output: {@link #linesSince} returns what was written after it. */
  public int mark() {
    return lines().size();
  }

  public List<String> lines() {
    String text = out.toString(StandardCharsets.UTF_8);
    return text.isEmpty() ? List.of() : List.of(text.split("\n"));
  }

  public List<String> linesSince(int mark) {
    List<String> all = lines();
    return new ArrayList<>(all.subList(mark, all.size()));
  }

  /**
   * The lines after {@code mark} once one of them contains {@code text}: for a line written after the response
   * left (the HTTPS side logs a request's end when its last write completed). Waits at most 10 s.
   */
  public List<String> linesSinceOnceWritten(int mark, String text) throws InterruptedException {
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
    List<String> lines = linesSince(mark);
    while (lines.stream().noneMatch(l -> l.contains(text)) && System.nanoTime() < deadline) {
      Thread.sleep(20);
      lines = linesSince(mark);
    }
    return lines;
  }

  /** Each line parsed as one JSON object (fails the test on a line that is not). */
  public static List<Map<String, Object>> parseJsonLines(List<String> lines) {
    List<Map<String, Object>> objects = new ArrayList<>();
    for (String line : lines) {
      try {
        objects.add(JSONObjectUtils.parse(line));
      } catch (ParseException e) {
        throw new AssertionError("not one JSON object: " + line, e);
      }
    }
    return objects;
  }

  @Override
  public void close() {
    BrokerLogging.configure(LogSettings.DEFAULT);
  }
}
